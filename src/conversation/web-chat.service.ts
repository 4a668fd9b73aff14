import { randomUUID } from 'node:crypto';
import { storable } from '../text/storable-text.js';
import type { InboundMessage } from './channel.ports.js';
import { ConflictError, NotFoundError } from '../errors/app.errors.js';
import type { ConversationEngine } from './engine.js';
import type { BotDirectory, ConversationBot, ConversationLease, ConversationLocks, InboundStore, OutboundLedger, ReplyGate, TurnStore } from './turn.ports.js';
import type { TurnSource } from './types.js';

export interface WebChatServiceDeps {
  /** Ownership check: resolves for the creator's bot, throws NotFoundError otherwise. */
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  directory: BotDirectory;
  inbound: Pick<InboundStore, 'receive'>;
  turns: Pick<TurnStore, 'claimNext' | 'saveFinalReply' | 'finishSent' | 'finish'>;
  ledger: OutboundLedger;
  engine: Pick<ConversationEngine, 'runTurn'>;
  /**
   * The same per-conversation locks and per-creator slots as the converse worker, so a web turn and
   * a worker (e.g. the reconciler re-running an old turn) never answer one conversation at once.
   */
  locks: ConversationLocks;
  perCreatorLimit: number;
  /** How long to wait for the conversation or a creator slot before answering SESSION_BUSY. */
  lockWaitMs?: number;
  /** Plans and paywalls: may the coach answer this turn (checked before the engine runs)? */
  replyGate?: ReplyGate;
}

const LOCK_RETRY_MS = 100;

function busy(): ConflictError {
  return new ConflictError('SESSION_BUSY', 'Another message of this session is being answered; send again once it has finished');
}

export interface WebChatInput {
  sessionId: string;
  text: string;
}

export interface WebChatHooks {
  onToken?(delta: string): void;
  signal?: AbortSignal;
}

export interface WebChatReply {
  reply: string;
  sources: TurnSource[];
}

/**
 * Web chat: answers one message at once, inside the request, while the reply streams to the
 * browser. Messages, turns and replies land in the same tables as Telegram's, keyed by
 * (bot, 'web', sessionId), so memory and the history work the same on every channel.
 */
export class WebChatService {
  // Messages of one session wait for each other in this process, so a double submit gets two
  // answers instead of one merged turn and a SESSION_BUSY.
  private readonly sessionQueues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: WebChatServiceDeps) {}

  /** Stores the message, runs the engine (streaming deltas to `hooks.onToken`) and records the reply. */
  chat(creatorId: string, botId: string, input: WebChatInput, hooks: WebChatHooks = {}): Promise<WebChatReply> {
    return this.queued(creatorId, botId, input, hooks);
  }

  /**
   * The same for a visitor of the bot's public chat: no owner to check (the caller checked the bot
   * is published and the session is the visitor's own).
   */
  chatAsVisitor(botId: string, input: WebChatInput, hooks: WebChatHooks = {}): Promise<WebChatReply> {
    return this.queued(null, botId, input, hooks);
  }

  private async queued(creatorId: string | null, botId: string, input: WebChatInput, hooks: WebChatHooks): Promise<WebChatReply> {
    const key = `${botId}:${input.sessionId}`;
    const previous = this.sessionQueues.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.chatNow(creatorId, botId, input, hooks));
    this.sessionQueues.set(key, current);
    try {
      return await current;
    } finally {
      if (this.sessionQueues.get(key) === current) this.sessionQueues.delete(key);
    }
  }

  private async chatNow(creatorId: string | null, botId: string, input: WebChatInput, hooks: WebChatHooks): Promise<WebChatReply> {
    const { deps } = this;
    if (creatorId !== null) await deps.bots.get(creatorId, botId);
    const bot = await deps.directory.find(botId);
    if (!bot) throw new NotFoundError('Bot');

    // As on every channel: a NUL or lone surrogate the browser sent is replaced, not refused by the database.
    const message: InboundMessage = storable({
      channel: 'web',
      // Each POST is a new message; there is no redelivery to collapse on the web.
      externalId: randomUUID(),
      conversationId: input.sessionId,
      contact: { externalId: input.sessionId },
      kind: 'text',
      text: input.text,
      attachments: [],
      sentAt: new Date(),
    });
    const stored = await deps.inbound.receive(botId, message);
    const lease = await this.acquire(stored.conversationId, bot.creatorId, hooks.signal);
    try {
      return await this.answer(bot, stored.conversationId, hooks);
    } finally {
      await lease.release();
    }
  }

  private async answer(bot: ConversationBot, conversationId: string, hooks: WebChatHooks): Promise<WebChatReply> {
    const { deps } = this;
    const botId = bot.profile.id;
    const turn = await deps.turns.claimNext(conversationId);
    // Someone else claimed our message into their turn while we waited for the lock.
    if (!turn) throw busy();
    const ledger = await deps.ledger.open({ turnId: turn.id, botId, conversationId });
    const texts = turn.messages.filter((m) => m.text?.trim()).map((m) => m.text as string);
    let answered: WebChatReply;
    try {
      const gate = await deps.replyGate?.check(turn);
      if (gate && !gate.allow) {
        // The quota or paywall message is the reply; no model call.
        await deps.turns.saveFinalReply({ turnId: turn.id, ledgerId: ledger.id }, gate.message.text, []);
        await deps.turns.finishSent({ turnId: turn.id, ledgerId: ledger.id }, []);
        return { reply: gate.message.text, sources: [] };
      }
      const result = await deps.engine.runTurn(
        bot.profile,
        { botId, conversationId, texts },
        { ...(hooks.onToken ? { onToken: hooks.onToken } : {}), ...(hooks.signal ? { signal: hooks.signal } : {}) },
      );
      await deps.turns.saveFinalReply({ turnId: turn.id, ledgerId: ledger.id }, result.reply, result.sources);
      await deps.turns.finishSent({ turnId: turn.id, ledgerId: ledger.id }, []);
      answered = { reply: result.reply, sources: result.sources };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await deps.ledger.markFailed(ledger.id, reason);
      await deps.turns.finish(turn.id, 'failed', reason);
      throw err;
    }
    // After the turn is settled: the reply went out whatever happens here.
    await deps.replyGate?.recordReply(turn.id);
    return answered;
  }

  /** Waits (bounded) for the conversation lock and a creator slot; SESSION_BUSY when none comes free. */
  private async acquire(conversationId: string, creatorId: string, signal?: AbortSignal): Promise<ConversationLease> {
    const deadline = Date.now() + (this.deps.lockWaitMs ?? 30_000);
    for (;;) {
      const lease = await this.deps.locks.tryAcquire(conversationId, creatorId, this.deps.perCreatorLimit);
      if (lease) return lease;
      if (Date.now() > deadline || signal?.aborted) throw busy();
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }
}
