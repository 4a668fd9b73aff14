/** A bot's FAQ pairs as the service and its store see them. */

/** A question and the creator's own answer; `documentId` set when it came from an FAQ sheet. */
export interface FaqPair {
  id: string;
  question: string;
  answer: string;
  /** The document (an FAQ sheet) the pair was read from; null for a pair written by hand. */
  documentId: string | null;
  /** The sheet and row it was read from, for a pair of a sheet. */
  location: { sheet: string | null; row: number } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One page of a bot's pairs, in the order they were added (a sheet's in its row order). */
export interface FaqPage {
  items: FaqPair[];
  /** Pass as `after` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Persistence of FAQ pairs; every call is scoped to the creator through the bot. */
export interface FaqStore {
  /** Null when the bot is not the creator's. */
  create(creatorId: string, botId: string, input: { question: string; answer: string }): Promise<FaqPair | null>;
  list(creatorId: string, botId: string, page: { limit: number; after?: string | undefined }): Promise<FaqPage>;
  find(creatorId: string, botId: string, faqId: string): Promise<FaqPair | null>;
  /** Null when the pair is not the creator's bot's. */
  update(creatorId: string, botId: string, faqId: string, patch: { question?: string | undefined; answer?: string | undefined }): Promise<FaqPair | null>;
  delete(creatorId: string, botId: string, faqId: string): Promise<boolean>;
  /** How many pairs the bot has, written and read from sheets. */
  count(botId: string): Promise<number>;
}
