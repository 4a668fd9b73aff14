import { randomUUID } from 'node:crypto';
import type { BotService } from '../bots/bot.service.js';
import { AppError, ConflictError, NotFoundError } from '../errors/app.errors.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';
import type { ClaimedTurn, HumanHandoff } from './turn.ports.js';
import type { CreatorMessage, CreatorMessageChannel, HeldMessages, HumanRequestNotifier, TakeoverState, TakeoverStore } from './takeover.ports.js';

export interface TakeoverServiceDeps {
  store: TakeoverStore;
  bots: Pick<BotService, 'get'>;
  messages: CreatorMessageChannel;
  /** Without a creator message for this long, a takeover is handed back to the bot. */
  idleReleaseMs: number;
  /** Told what became of each creator message (the creators' live events). */
  events?: BotEventPublisher;
  /** Woken on every release: the bot's own messages held meanwhile go out. */
  held?: HeldMessages;
  /** Told about problems worked around (waking held messages failed: the reconciler queues them). */
  onDegraded?(what: string, error: unknown): void;
  clock?: () => Date;
}

const CHANGE_OF = { sent: 'creator_message_sent', retrying: 'creator_message_pending', refused: 'creator_message_failed' } as const;

/** A creator's message as the API answers it. */
export interface SentCreatorMessage extends CreatorMessage {
  clientMessageId: string;
}

// Idle takeovers released per pass; the next pass takes the rest.
const IDLE_BATCH = 500;

/** The creator's message could not be delivered and retrying will not change that (409). */
export class CreatorMessageRefusedError extends AppError {
  constructor(reason: string, outsideWindow: boolean) {
    super(
      outsideWindow ? 'OUTSIDE_MESSAGING_WINDOW' : 'MESSAGE_NOT_DELIVERED',
      409,
      outsideWindow
        ? 'WhatsApp takes only an approved template once 24 hours have passed since the contact last wrote, and this bot has none. Set a template on the WhatsApp channel (PUT …/channels/whatsapp), or wait until the contact writes again.'
        : `The message cannot be delivered: ${reason}`,
      { reason },
    );
    this.name = 'CreatorMessageRefusedError';
  }
}

/**
 * Human takeover: the creator pauses the bot for one conversation, writes to the contact through
 * the conversation's channel (the proactive path: ledger, retries, exactly-once, WhatsApp's window),
 * and hands it back, or the idle pass does. The turn pipeline holds the turns of a taken-over
 * conversation (src/conversation/turn.service.ts), checked again where a reply starts going out.
 */
export class TakeoverService {
  private readonly clock: () => Date;

  constructor(private readonly deps: TakeoverServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Pauses the bot for the conversation; idempotent. NOT_FOUND for another creator's bot or conversation. */
  async takeOver(creatorId: string, botId: string, conversationId: string): Promise<TakeoverState> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const state = await this.deps.store.takeOver(bot.id, conversationId, creatorId, this.clock());
    if (!state) throw new NotFoundError('Conversation');
    return state;
  }

  /** Hands the conversation back to the bot; idempotent. */
  async release(creatorId: string, botId: string, conversationId: string): Promise<TakeoverState> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const state = await this.deps.store.release(bot.id, conversationId);
    if (!state) throw new NotFoundError('Conversation');
    await this.resumeHeld([state.conversationId]);
    return state;
  }

  // Idempotent, so a repeated release wakes nothing twice; the reconciler catches up after a failure.
  private async resumeHeld(conversationIds: string[]): Promise<void> {
    if (!this.deps.held || conversationIds.length === 0) return;
    await this.deps.held.resume(conversationIds).catch((err: unknown) => this.deps.onDegraded?.('takeover: waking the held messages failed; the reconciler queues them', err));
  }

  /**
   * Sends the creator's own message to the contact. A repeated `clientMessageId` sends nothing again
   * and answers what became of the first. NOT_TAKEN_OVER (409) unless the creator took the
   * conversation over; CreatorMessageRefusedError (409) when the channel takes no such message now.
   */
  async send(creatorId: string, botId: string, conversationId: string, input: { text: string; clientMessageId?: string }): Promise<SentCreatorMessage> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const target = await this.deps.store.target(bot.id, conversationId);
    if (!target) throw new NotFoundError('Conversation');
    const clientMessageId = input.clientMessageId ?? randomUUID();
    const effectKey = `creator:${target.conversationId}:${clientMessageId}`;
    const earlier = input.clientMessageId ? await this.deps.store.creatorMessage(bot.id, target.conversationId, effectKey) : null;
    if (!earlier) {
      if (!target.takenOver) throw new ConflictError('NOT_TAKEN_OVER', 'Take the conversation over first: the bot answers it while it is not taken over');
      await this.deps.store.touch(target.conversationId, this.clock());
    }
    const outcome = await this.deps.messages.send({ botId: bot.id, contactId: target.contactId, conversationId: target.conversationId, effectKey, text: input.text });
    // A repeated clientMessageId changes nothing, so it tells no one again.
    if (!earlier) {
      this.deps.events?.publish(bot.id, { type: 'conversation', conversationId: target.conversationId, change: CHANGE_OF[outcome.status], by: 'creator', at: this.clock().toISOString() });
    }
    if (outcome.status === 'refused') throw new CreatorMessageRefusedError(outcome.reason, outcome.outsideWindow);
    const stored = await this.deps.store.creatorMessage(bot.id, target.conversationId, effectKey);
    if (!stored) throw new NotFoundError('Conversation');
    return { ...stored, clientMessageId };
  }

  /** Hands idle takeovers back to the bot (the workers' periodic pass); how many. */
  async releaseIdle(): Promise<number> {
    const released = await this.deps.store.releaseIdle(new Date(this.clock().getTime() - this.deps.idleReleaseMs), IDLE_BATCH);
    await this.resumeHeld(released);
    return released.length;
  }
}

/** An end user's request for a person: flagged on the conversation, and the creator told once per request. */
export class HandoffService implements HumanHandoff {
  constructor(private readonly deps: { store: Pick<TakeoverStore, 'requestHuman'>; notifier: HumanRequestNotifier }) {}

  async request(turn: Pick<ClaimedTurn, 'id' | 'botId' | 'conversationId'>): Promise<void> {
    const open = await this.deps.store.requestHuman(turn.conversationId, turn.id);
    if (open) await this.deps.notifier.humanRequested({ botId: turn.botId, conversationId: turn.conversationId, turnId: turn.id });
  }
}
