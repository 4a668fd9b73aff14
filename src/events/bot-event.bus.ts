import { randomUUID } from 'node:crypto';
import type { TopicBus } from '../pubsub/topic-bus.js';
import type { BotEvent, BotEventInput, BotEventPublisher } from './bot-event.types.js';

/** The topic of a bot's events. */
export function botEventTopic(botId: string): string {
  return `bot-events:${botId}`;
}

// Events waiting for the transport in this process; past this, new ones are dropped (and logged)
// rather than held: a dashboard that missed some is told to refetch.
const MAX_PENDING = 1_000;

/**
 * Bot events over the platform's topic bus. Publishing is one at a time per process, so a process's
 * events arrive in the order it published them (separate pool connections could reorder NOTIFYs);
 * a failed publish is logged and forgotten, never the publishing step's failure.
 */
export class BotEventBus implements BotEventPublisher {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly topics: TopicBus,
    private readonly onError: (error: unknown, what: string) => void,
  ) {}

  publish(botId: string, event: BotEventInput): void {
    if (this.pending >= MAX_PENDING) {
      this.onError(new Error('too many bot events waiting to be published'), 'bot event dropped');
      return;
    }
    const full: BotEvent = { ...event, eventId: randomUUID() };
    this.pending++;
    this.tail = this.tail
      .then(() => this.topics.publish(botEventTopic(botId), full))
      .catch((err: unknown) => this.onError(err, `bot event ${event.type} not published`))
      .finally(() => this.pending--);
  }

  /** Resolves once everything published so far has been handed to the transport. */
  flushed(): Promise<void> {
    return this.tail;
  }

  /** Calls `listener` with the bot's events from the moment this resolves; resolves to an unsubscribe. */
  subscribe(botId: string, listener: (event: BotEvent) => void): Promise<() => Promise<void>> {
    return this.topics.subscribe(botEventTopic(botId), (payload) => listener(payload as BotEvent));
  }
}
