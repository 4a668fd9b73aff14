import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError } from '../errors/app.errors.js';
import type { TurnSource } from './types.js';
import type { WebChatEvent, WebChatInput, WebChatService, WebCoachMessage } from './web-chat.service.js';
import type { PublishedBot, WebPublicationService } from './web-publication.service.js';

/** A visitor's anonymous session with one bot. */
export interface VisitorSession {
  id: string;
  botId: string;
}

/**
 * One exchange of a visitor's conversation: what they wrote and the coach's reply, once there is
 * one; or a message that answered nothing of theirs (no texts, with its `id` and who it is `from`).
 */
export interface VisitorExchange {
  /** A message of no turn: the id its live event carried. */
  id?: string;
  /** A message of no turn: 'person' when someone of the bot's team wrote it. */
  from?: WebCoachMessage['from'];
  /** The page's ids of the messages answered together (to follow a reply still coming). */
  messageIds: string[];
  texts: string[];
  state: 'pending' | 'answered' | 'failed';
  reply: string | null;
  sources: TurnSource[];
  at: string;
}

/** An exchange as stored: the messages' ids are the channel's (`WebChatChannel.messageIdOf` gives the page's). */
export type StoredExchange = Omit<VisitorExchange, 'messageIds'> & { externalIds: string[] };

export type DailyScope = 'visitor' | 'ip' | 'bot';

/** Visitor sessions (only token hashes kept), their conversations and the daily message counters. */
export interface VisitorStore {
  createSession(botId: string, tokenHash: string): Promise<VisitorSession>;
  findSession(tokenHash: string): Promise<VisitorSession | null>;
  /** The latest exchanges of the web conversation `conversationKey` of a bot (unanswered ones too), oldest first. */
  history(botId: string, conversationKey: string, limit: number): Promise<StoredExchange[]>;
  /**
   * Counts one message of today (UTC) against every key unless one of them has reached its cap;
   * answers the first scope at its cap (and counts nothing), or null once counted.
   */
  takeDaily(entries: Array<{ scope: DailyScope; key: string; cap: number }>): Promise<DailyScope | null>;
}

export interface VisitorLimits {
  visitorDailyMessages: number;
  ipDailyMessages: number;
  botDailyMessages: number;
  maxChars: number;
}

export type VisitorRefusal = 'too_long' | `daily_${DailyScope}`;

/** What the visitor's page is told: the coach's drafts and reply, or an abuse limit's notice instead. */
export type VisitorEvent = WebChatEvent | { type: 'refused'; reason: VisitorRefusal; text: string };

const HISTORY_LIMIT = 100;

/** How long a visitor's session lasts: its cookie's lifetime, after which the stored session is swept. */
export const VISITOR_SESSION_DAYS = 365;

/** A visitor's cookie value: 256 random bits, so sessions cannot be guessed. */
function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The conversation a visitor's messages land in (the web channel's `sessionId`). */
function conversationKey(session: VisitorSession): string {
  return `visitor-${session.id}`;
}

/**
 * Anyone talking to a published bot without an account: anonymous sessions bound to one bot,
 * their history, and the per-visitor, per-address and per-bot daily caps before the coach is asked.
 */
export class VisitorChatService {
  constructor(
    private readonly deps: {
      publications: Pick<WebPublicationService, 'find'>;
      store: VisitorStore;
      webChat: Pick<WebChatService, 'send' | 'resume' | 'messageIdOf' | 'isStored' | 'watch'>;
      limits: VisitorLimits;
      /** Told of every refusal (for the log). */
      onRefused?(reason: VisitorRefusal, botId: string): void;
    },
  ) {}

  /** The published bot; NotFoundError when unknown or unpublished. */
  async published(botId: string): Promise<PublishedBot> {
    const bot = await this.deps.publications.find(botId);
    if (!bot) throw new NotFoundError('Bot');
    return bot;
  }

  /** The visitor's session with this bot; null without a token, or for another bot's or an unknown one. */
  async session(botId: string, token: string | undefined): Promise<VisitorSession | null> {
    if (!token) return null;
    const session = await this.deps.store.findSession(hashToken(token));
    return session && session.botId === botId ? session : null;
  }

  /** What the visitor and the coach said so far; empty without a session. */
  async history(botId: string, token: string | undefined): Promise<VisitorExchange[]> {
    await this.published(botId);
    const session = await this.session(botId, token);
    if (!session) return [];
    const key = conversationKey(session);
    const stored = await this.deps.store.history(botId, key, HISTORY_LIMIT);
    return stored.map(({ externalIds, ...exchange }) => ({ ...exchange, messageIds: externalIds.map((id) => this.deps.webChat.messageIdOf(key, id)) }));
  }

  /**
   * The visitor's session with a published bot, opened when they have none (its new token is
   * returned, for the cookie). NotFoundError when the bot is unknown or unpublished.
   */
  async open(botId: string, token: string | undefined): Promise<{ bot: PublishedBot; session: VisitorSession; newToken?: string }> {
    const bot = await this.published(botId);
    const session = await this.session(botId, token);
    if (session) return { bot, session };
    const issued = newToken();
    return { bot, session: await this.deps.store.createSession(botId, hashToken(issued)), newToken: issued };
  }

  /** Sends one visitor message to the coach and follows its reply; over a cap, a friendly notice answers instead. */
  async *send(
    bot: PublishedBot,
    session: VisitorSession,
    input: { message: WebChatInput; clientKey: string },
    signal?: AbortSignal,
  ): AsyncGenerator<VisitorEvent> {
    const { limits } = this.deps;
    const name = bot.title ?? bot.name;
    if ((input.message.text?.length ?? 0) > limits.maxChars) {
      yield this.refuse('too_long', bot, `That message is a little long for me: please keep it under ${limits.maxChars} characters and send it again.`);
      return;
    }
    // A page sending a message again (no answer seen before its connection dropped) follows the
    // first one's reply: counted once.
    if (await this.deps.webChat.isStored(bot.botId, conversationKey(session), input.message.messageId)) {
      yield* this.deps.webChat.send(bot.botId, conversationKey(session), input.message, signal);
      return;
    }
    const over = await this.deps.store.takeDaily([
      { scope: 'visitor', key: session.id, cap: limits.visitorDailyMessages },
      // Addresses are kept only as hashes.
      { scope: 'ip', key: createHash('sha256').update(input.clientKey).digest('hex'), cap: limits.ipDailyMessages },
      { scope: 'bot', key: bot.botId, cap: limits.botDailyMessages },
    ]);
    if (over === 'bot') {
      yield this.refuse('daily_bot', bot, `${name} has had a lot of conversations today and is resting now. Please come back tomorrow.`);
      return;
    }
    if (over) {
      yield this.refuse(`daily_${over}`, bot, `You have reached today's limit of messages with ${name}. Thank you for chatting; please come back tomorrow.`);
      return;
    }
    yield* this.deps.webChat.send(bot.botId, conversationKey(session), input.message, signal);
  }

  /** Follows the reply to a message the visitor sent before (a dropped connection, a reload). */
  resume(bot: PublishedBot, session: VisitorSession, messageId: string, signal?: AbortSignal): AsyncIterable<VisitorEvent> {
    return this.deps.webChat.resume(bot.botId, conversationKey(session), messageId, signal);
  }

  /** Calls `listener` with the messages the visitor's page did not ask for, as they are sent; resolves to an unsubscribe. */
  watch(bot: PublishedBot, session: VisitorSession, listener: (message: WebCoachMessage) => void): Promise<() => Promise<void>> {
    return this.deps.webChat.watch(bot.botId, conversationKey(session), listener);
  }

  private refuse(reason: VisitorRefusal, bot: PublishedBot, text: string): VisitorEvent {
    this.deps.onRefused?.(reason, bot.botId);
    return { type: 'refused', reason, text };
  }
}
