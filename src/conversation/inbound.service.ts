import type { ChannelName, InboundMessage } from './channel.ports.js';
import { NotFoundError } from '../errors/app.errors.js';
import { textPreview, type BotEventPublisher } from '../events/bot-event.types.js';
import type { BotDirectory, ConversationBot, InboundStore, TurnQueue } from './turn.ports.js';

export interface InboundServiceDeps {
  bots: BotDirectory;
  store: InboundStore;
  queue: TurnQueue;
  /** Told when enqueueing failed after the commit; the reconciler will pick the row up. */
  onEnqueueFailed?(error: unknown, inboundId: string): void;
  /** The creators' live events: told of each message stored (not of redeliveries). */
  events?: BotEventPublisher;
}

/**
 * How long a conversation's messages wait for more before they are answered as one turn. Web chat
 * answers each message: its page sends whole messages and waits for each reply.
 */
export function mergeWindowFor(bot: Pick<ConversationBot, 'mergeWindowMs'>, channel: ChannelName): number {
  return channel === 'web' ? 0 : bot.mergeWindowMs;
}

export interface InboundOutcome {
  inboundId: string;
  duplicate: boolean;
}

/**
 * Accepts a normalised message from a webhook: persists it (exactly once per external id) and
 * schedules its turn after the bot's merge window. Returns only once the row is committed.
 */
export class InboundService {
  constructor(private readonly deps: InboundServiceDeps) {}

  /** Stores and enqueues one inbound message; NOT_FOUND for an unknown bot. */
  async receive(botId: string, message: InboundMessage): Promise<InboundOutcome> {
    const bot = await this.deps.bots.find(botId);
    if (!bot) throw new NotFoundError('Bot');
    const stored = await this.deps.store.receive(botId, message);
    // A user blocking or unblocking the bot is not something they said.
    if (stored.created && message.kind !== 'contact_status') {
      this.deps.events?.publish(botId, {
        type: 'message',
        conversationId: stored.conversationId,
        channel: message.channel,
        contact: { displayName: message.contact.displayName ?? null },
        kind: message.kind,
        preview: textPreview(message.text),
        at: message.sentAt.toISOString(),
      });
    }
    if (stored.created) {
      try {
        await this.deps.queue.enqueue(stored.inboundId, botId, mergeWindowFor(bot, message.channel));
      } catch (err) {
        // The row is committed: acknowledging is right, and the reconciler enqueues it later.
        this.deps.onEnqueueFailed?.(err, stored.inboundId);
      }
    }
    return { inboundId: stored.inboundId, duplicate: !stored.created };
  }
}
