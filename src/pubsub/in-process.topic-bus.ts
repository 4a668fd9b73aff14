import { LocalListeners } from './local-listeners.js';
import type { TopicBus } from './topic-bus.js';

/**
 * Topics within one process: the embedded database serves a single process, which both does the
 * work and holds the clients' requests.
 */
export class InProcessTopicBus implements TopicBus {
  private readonly listeners = new LocalListeners();

  async publish(topic: string, payload: unknown): Promise<void> {
    // A copy, as the other buses deliver: a listener never shares an object with the publisher.
    this.listeners.dispatch(topic, structuredClone(payload));
  }

  async subscribe(topic: string, listener: (payload: unknown) => void): Promise<() => Promise<void>> {
    this.listeners.add(topic, listener);
    return async () => {
      this.listeners.remove(topic, listener);
    };
  }

  async close(): Promise<void> {}
}
