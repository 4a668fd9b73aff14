import type { ReplyEvent, ReplyEventBus } from '../../src/conversation/channel.ports.js';
import { LocalListeners, replyTopic } from './local-listeners.js';

/**
 * Reply events within one process: the embedded database serves a single process, which both
 * answers turns and holds the browsers' requests.
 */
export class InProcessReplyBus implements ReplyEventBus {
  private readonly listeners = new LocalListeners();

  async publish(botId: string, conversationId: string, event: ReplyEvent): Promise<void> {
    this.listeners.dispatch(replyTopic(botId, conversationId), event);
  }

  async subscribe(botId: string, conversationId: string, listener: (event: ReplyEvent) => void): Promise<() => Promise<void>> {
    const topic = replyTopic(botId, conversationId);
    this.listeners.add(topic, listener);
    return async () => {
      this.listeners.remove(topic, listener);
    };
  }

  async close(): Promise<void> {}
}
