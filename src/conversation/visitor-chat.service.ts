import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError } from '../errors/app.errors.js';
import type { TurnSource } from './types.js';
import type { WebChatHooks, WebChatReply, WebChatService } from './web-chat.service.js';
import type { PublishedBot, WebPublicationService } from './web-publication.service.js';

/** A visitor's anonymous session with one bot. */
export interface VisitorSession {
  id: string;
  botId: string;
}

/** One answered exchange of a visitor's conversation, oldest first. */
export interface VisitorExchange {
  texts: string[];
  reply: string;
  sources: TurnSource[];
  at: string;
}

export type DailyScope = 'visitor' | 'ip' | 'bot';

/** Visitor sessions (only token hashes kept), their conversations and the daily message counters. */
export interface VisitorStore {
  createSession(botId: string, tokenHash: string): Promise<VisitorSession>;
  findSession(tokenHash: string): Promise<VisitorSession | null>;
  /** The latest answered exchanges of the web conversation `conversationKey` of a bot, oldest first. */
  history(botId: string, conversationKey: string, limit: number): Promise<VisitorExchange[]>;
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

export interface VisitorReply extends WebChatReply {
  /** Set when an abuse limit answered instead of the coach. */
  refused?: VisitorRefusal;
}

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
      webChat: Pick<WebChatService, 'chatAsVisitor'>;
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
    return session ? this.deps.store.history(botId, conversationKey(session), HISTORY_LIMIT) : [];
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

  /** Answers one visitor message; over a cap, the reply is a friendly notice and the coach is not asked. */
  async send(bot: PublishedBot, session: VisitorSession, input: { text: string; clientKey: string }, hooks: WebChatHooks = {}): Promise<VisitorReply> {
    const { limits } = this.deps;
    const name = bot.title ?? bot.name;
    if (input.text.length > limits.maxChars) {
      return this.refuse('too_long', bot, `That message is a little long for me: please keep it under ${limits.maxChars} characters and send it again.`);
    }
    const over = await this.deps.store.takeDaily([
      { scope: 'visitor', key: session.id, cap: limits.visitorDailyMessages },
      // Addresses are kept only as hashes.
      { scope: 'ip', key: createHash('sha256').update(input.clientKey).digest('hex'), cap: limits.ipDailyMessages },
      { scope: 'bot', key: bot.botId, cap: limits.botDailyMessages },
    ]);
    if (over === 'bot') {
      return this.refuse('daily_bot', bot, `${name} has had a lot of conversations today and is resting now. Please come back tomorrow.`);
    }
    if (over) {
      return this.refuse(`daily_${over}`, bot, `You have reached today's limit of messages with ${name}. Thank you for chatting; please come back tomorrow.`);
    }
    return this.deps.webChat.chatAsVisitor(bot.botId, { sessionId: conversationKey(session), text: input.text }, hooks);
  }

  private refuse(reason: VisitorRefusal, bot: PublishedBot, message: string): VisitorReply {
    this.deps.onRefused?.(reason, bot.botId);
    return { reply: message, sources: [], refused: reason };
  }
}
