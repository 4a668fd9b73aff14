import type { ChannelName, InboundKind } from './channel.ports.js';
import type { TurnSource } from './types.js';

/** A place in the inbox: the conversation's order key as of `asOf`, both in microseconds since the epoch. */
export interface InboxPosition {
  asOfMicros: string;
  atMicros: string;
  id: string;
}

/** A place in a transcript: the item's time, which table it came from and its tie-breaker. */
export type TranscriptPosition =
  | { source: 'user'; atMicros: string; seq: string }
  | { source: 'bot' | 'event'; atMicros: string; id: string };

/** unanswered, unknown: see InboxConversation; taken_over: a person has it; wants_human: the contact asked for one. */
export type InboxStatusFilter = 'unanswered' | 'unknown' | 'taken_over' | 'wants_human';

export interface InboxQuery {
  channel?: ChannelName;
  status?: InboxStatusFilter;
  /** Words to find in the conversation's messages (user messages and the bot's). */
  search?: string;
  /** Continue after this place; absent for the first page. */
  after?: InboxPosition;
  limit: number;
  /** The bot's "I don't know" replies, by which `unknown` is recognised. */
  unknownReplies: string[];
}

export interface InboxConversation {
  id: string;
  channel: ChannelName;
  /** `tags`: the contact's tags (normalised, alphabetical), so the inbox can show and change them. */
  contact: { id: string; displayName: string; username: string | null; tags: string[] };
  lastMessage: { type: 'user' | 'reply' | 'notice' | 'creator'; text: string | null; at: Date } | null;
  lastMessageAt: Date;
  /** The last user message has no reply yet, or answering it failed. */
  unanswered: boolean;
  /** The last reply was the bot's "I don't know". */
  unknown: boolean;
  /** A person (the creator) has taken the conversation over: the bot answers nothing. */
  takenOver: boolean;
  /** The contact asked for a person and no one has taken over since. */
  wantsHuman: boolean;
}

export interface InboxPage {
  conversations: InboxConversation[];
  /** Where the page's last conversation stands, for the next page; null when there is none. */
  next: InboxPosition | null;
}

export interface AttachmentSummary {
  type: string;
  fileName?: string;
  mimeType?: string;
  sizeBytes?: number;
}

export type TranscriptItem =
  | {
      type: 'user';
      id: string;
      kind: InboundKind;
      text: string | null;
      attachments: AttachmentSummary[];
      /** It arrived while a person had the conversation: the bot did not answer it. */
      held: boolean;
      at: Date;
    }
  | {
      /** reply: the bot's answer; notice: a message of the bot's own accord; creator: what the creator wrote. */
      type: 'reply' | 'notice' | 'creator';
      id: string;
      text: string | null;
      /** The passages the reply drew on (empty for notices). */
      sources: TurnSource[];
      delivery: { status: 'pending' | 'sending' | 'sent' | 'failed'; error: string | null; sentAt: Date | null };
      at: Date;
    }
  | { type: 'event'; id: string; event: 'takeover' | 'release' | 'human_requested'; by: 'creator' | 'idle' | 'contact'; at: Date };

export interface TranscriptPage {
  /** Oldest first. */
  items: TranscriptItem[];
  /** Where the page's oldest item stands, for the page before it; null when there is none. */
  next: TranscriptPosition | null;
}

/** The inbox as stored; every read is scoped to the bot. */
export interface InboxStore {
  /** The bot's conversations newest first; positions are rebuilt as of the first page's time. */
  list(botId: string, query: InboxQuery): Promise<InboxPage>;
  /** One of the bot's conversations as the list shows it; null when the bot has no such conversation. */
  find(botId: string, conversationId: string, unknownReplies: string[]): Promise<InboxConversation | null>;
  /** A page of the conversation's messages older than `before`; null when the bot has no such conversation. */
  transcript(botId: string, conversationId: string, page: { before?: TranscriptPosition; limit: number }): Promise<TranscriptPage | null>;
}
