import type { Redis } from 'ioredis';
import { LocalListeners } from './local-listeners.js';
import type { TopicBus } from './topic-bus.js';

/**
 * Topics across processes through Redis pub/sub, one channel per topic: a process receives only
 * the topics its clients wait on. Pub/sub keeps nothing for a listener that was away.
 */
export class RedisTopicBus implements TopicBus {
  private readonly listeners = new LocalListeners();
  private readonly subscriber: Redis;
  /** Topics whose SUBSCRIBE is under way: a second listener waits for it too. */
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(
    private readonly publisher: Redis,
    /** Put before every topic: keeps the channels of platforms sharing one Redis apart (the queue prefix). */
    private readonly channelPrefix: string,
    onError: (error: Error) => void,
  ) {
    this.subscriber = publisher.duplicate({ maxRetriesPerRequest: null });
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string, payload: string) => {
      const topic = channel.slice(this.channelPrefix.length);
      let event: unknown;
      try {
        event = JSON.parse(payload);
      } catch (err) {
        onError(err as Error);
        return;
      }
      this.listeners.dispatch(topic, event);
    });
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.publisher.publish(this.channelPrefix + topic, JSON.stringify(payload));
  }

  async subscribe(topic: string, listener: (payload: unknown) => void): Promise<() => Promise<void>> {
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
