import type { ReplyEvent, ReplyEventBus } from '../../src/conversation/channel.ports.js';
import type { TopicBus } from '../../src/pubsub/topic-bus.js';

/** The topic of a bot's web conversation. */
export function replyTopic(botId: string, conversationId: string): string {
  return `web-replies:${botId}:${conversationId}`;
}

/**
 * Web chat reply events over the platform's topic bus (in process, Redis pub/sub or PostgreSQL
 * LISTEN/NOTIFY), one topic per conversation. The bus keeps nothing for a listener that was away;
 * the waiting request also looks in the database now and then.
 */
export class TopicReplyBus implements ReplyEventBus {
  constructor(private readonly topics: TopicBus) {}

  publish(botId: string, conversationId: string, event: ReplyEvent): Promise<void> {
    return this.topics.publish(replyTopic(botId, conversationId), event);
  }

  subscribe(botId: string, conversationId: string, listener: (event: ReplyEvent) => void): Promise<() => Promise<void>> {
    return this.topics.subscribe(replyTopic(botId, conversationId), (payload) => listener(payload as ReplyEvent));
  }

  /** The topic bus is the platform's, closed with it. */
  async close(): Promise<void> {}
}
