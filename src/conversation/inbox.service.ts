import type { BotService } from '../bots/bot.service.js';
import { NotFoundError } from '../errors/app.errors.js';
import type { ChannelName } from './channel.ports.js';
import { decodeInboxCursor, decodeTranscriptCursor, encodeInboxCursor, encodeTranscriptCursor } from './inbox-cursor.js';
import type { InboxConversation, InboxStatusFilter, InboxStore, TranscriptItem } from './inbox.ports.js';
import { defaultUnknownAnswer } from './phrases.js';

export interface InboxListInput {
  channel?: ChannelName;
  status?: InboxStatusFilter;
  q?: string;
  /** The previous page's `nextCursor`. */
  before?: string;
  limit: number;
}

// The same replies the weekly digest counts as unanswered questions.
function unknownRepliesOf(bot: { language: string; settings: { unknownAnswer?: string | undefined } }): string[] {
  return [...new Set([bot.settings.unknownAnswer?.trim(), defaultUnknownAnswer(bot.language)].filter((r): r is string => Boolean(r)))];
}

/** The creators' inbox: their bots' conversations and transcripts, read-only. */
export class InboxService {
  constructor(private readonly deps: { store: InboxStore; bots: Pick<BotService, 'get'> }) {}

  /** The bot's conversations newest first; NOT_FOUND for another creator's bot, VALIDATION_FAILED for a bad cursor. */
  async list(creatorId: string, botId: string, input: InboxListInput): Promise<{ conversations: InboxConversation[]; nextCursor: string | null }> {
    const after = input.before === undefined ? undefined : decodeInboxCursor(input.before);
    const bot = await this.deps.bots.get(creatorId, botId);
    const search = input.q?.trim();
    const unknownReplies = unknownRepliesOf(bot);
    const page = await this.deps.store.list(bot.id, {
      limit: input.limit,
      unknownReplies,
      ...(input.channel ? { channel: input.channel } : {}),
      ...(input.status ? { status: input.status } : {}),
      ...(search ? { search } : {}),
      ...(after ? { after } : {}),
    });
    return { conversations: page.conversations, nextCursor: page.next ? encodeInboxCursor(page.next) : null };
  }

  /** One conversation as the list shows it; NOT_FOUND when it is not the bot's. */
  async get(creatorId: string, botId: string, conversationId: string): Promise<InboxConversation> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const conversation = await this.deps.store.find(bot.id, conversationId, unknownRepliesOf(bot));
    if (!conversation) throw new NotFoundError('Conversation');
    return conversation;
  }

  /** One conversation's messages, replies and notices, a page at a time going back; NOT_FOUND when it is not the bot's. */
  async transcript(
    creatorId: string,
    botId: string,
    conversationId: string,
    input: { before?: string; limit: number },
  ): Promise<{ items: TranscriptItem[]; nextCursor: string | null }> {
    const before = input.before === undefined ? undefined : decodeTranscriptCursor(input.before);
    const bot = await this.deps.bots.get(creatorId, botId);
    const page = await this.deps.store.transcript(bot.id, conversationId, { limit: input.limit, ...(before ? { before } : {}) });
    if (!page) throw new NotFoundError('Conversation');
    return { items: page.items, nextCursor: page.next ? encodeTranscriptCursor(page.next) : null };
  }
}
