import { ConflictError, NotFoundError } from '../errors/app.errors.js';
import type { FaqPage, FaqPair, FaqStore } from './faq.types.js';

export interface FaqServiceOptions {
  store: FaqStore;
  /** Ownership check: resolves for the creator's bot, throws NotFoundError otherwise. */
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  /** Pairs a bot may have, written and read from sheets together. */
  maxPerBot?: number;
}

// Far above any real FAQ; it bounds what every turn's match reads.
const DEFAULT_MAX_PER_BOT = 5000;

/**
 * A bot's FAQ pairs: questions with the creator's own answers, written here or read from FAQ
 * sheets. A pair read from a sheet belongs to it (re-ingesting the sheet replaces its pairs), so it
 * is changed by changing the sheet, not here.
 */
export class FaqService {
  constructor(private readonly options: FaqServiceOptions) {}

  async create(creatorId: string, botId: string, input: { question: string; answer: string }): Promise<FaqPair> {
    await this.options.bots.get(creatorId, botId);
    const max = this.options.maxPerBot ?? DEFAULT_MAX_PER_BOT;
    if ((await this.options.store.count(botId)) >= max) {
      throw new ConflictError('FAQ_LIMIT_REACHED', `A bot can have at most ${max} FAQ pairs; delete some before adding more`);
    }
    const pair = await this.options.store.create(creatorId, botId, input);
    if (!pair) throw new NotFoundError('Bot');
    return pair;
  }

  /** One page of the bot's pairs, oldest first. */
  async list(creatorId: string, botId: string, page: { limit: number; after?: string | undefined }): Promise<FaqPage> {
    await this.options.bots.get(creatorId, botId);
    return this.options.store.list(creatorId, botId, page);
  }

  async get(creatorId: string, botId: string, faqId: string): Promise<FaqPair> {
    await this.options.bots.get(creatorId, botId);
    const pair = await this.options.store.find(creatorId, botId, faqId);
    if (!pair) throw new NotFoundError('FAQ pair');
    return pair;
  }

  async update(creatorId: string, botId: string, faqId: string, patch: { question?: string | undefined; answer?: string | undefined }): Promise<FaqPair> {
    await this.writable(creatorId, botId, faqId);
    const pair = await this.options.store.update(creatorId, botId, faqId, patch);
    if (!pair) throw new NotFoundError('FAQ pair');
    return pair;
  }

  async delete(creatorId: string, botId: string, faqId: string): Promise<void> {
    await this.writable(creatorId, botId, faqId);
    if (!(await this.options.store.delete(creatorId, botId, faqId))) throw new NotFoundError('FAQ pair');
  }

  /** The pair, when it is the creator's and written by hand; a sheet's pairs change with the sheet. */
  private async writable(creatorId: string, botId: string, faqId: string): Promise<FaqPair> {
    const pair = await this.get(creatorId, botId, faqId);
    if (pair.documentId !== null) {
      throw new ConflictError('FAQ_FROM_DOCUMENT', 'This pair comes from an uploaded FAQ sheet; change the sheet and upload it again (or delete the document)');
    }
    return pair;
  }
}
