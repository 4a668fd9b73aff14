import type { Redis } from 'ioredis';
import type { ReplyEvent, ReplyEventBus } from '../../src/conversation/channel.ports.js';
import { LocalListeners, replyTopic } from './local-listeners.js';

/**
 * Reply events across processes through Redis pub/sub, one channel per conversation: an API process
 * receives only the conversations its browsers wait on. Pub/sub keeps nothing for a listener that
 * was away; the waiting request also looks in the database now and then.
 */
export class RedisReplyBus implements ReplyEventBus {
  private readonly listeners = new LocalListeners();
  private readonly subscriber: Redis;
  /** Topics whose SUBSCRIBE is under way: a second listener waits for it too. */
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(
    private readonly publisher: Redis,
    /** Keeps the channels of platforms sharing one Redis apart (the queue prefix). */
    private readonly prefix: string,
    onError: (error: Error) => void,
  ) {
    this.subscriber = publisher.duplicate({ maxRetriesPerRequest: null });
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string, payload: string) => {
      const topic = channel.slice(this.channelPrefix.length);
      let event: ReplyEvent;
      try {
        event = JSON.parse(payload) as ReplyEvent;
      } catch (err) {
        onError(err as Error);
        return;
      }
      this.listeners.dispatch(topic, event);
    });
  }

  private get channelPrefix(): string {
    return `${this.prefix}:web-replies:`;
  }

  async publish(botId: string, conversationId: string, event: ReplyEvent): Promise<void> {
    await this.publisher.publish(this.channelPrefix + replyTopic(botId, conversationId), JSON.stringify(event));
  }

  async subscribe(botId: string, conversationId: string, listener: (event: ReplyEvent) => void): Promise<() => Promise<void>> {
    const topic = replyTopic(botId, conversationId);
    const channel = this.channelPrefix + topic;
    if (this.listeners.add(topic, listener)) {
      const subscribed = this.subscriber.subscribe(channel).finally(() => this.subscribing.delete(topic));
      this.subscribing.set(topic, subscribed);
      await subscribed;
    } else {
      await this.subscribing.get(topic);
    }
    return async () => {
      // Commands on one connection run in order: a SUBSCRIBE sent after this UNSUBSCRIBE wins.
      if (this.listeners.remove(topic, listener)) await this.subscriber.unsubscribe(channel);
    };
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
