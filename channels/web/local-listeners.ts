import type { ReplyEvent } from '../../src/conversation/channel.ports.js';

type Listener = (event: ReplyEvent) => void;

/** This process's listeners per conversation topic, for the reply event buses. */
export class LocalListeners {
  private readonly byTopic = new Map<string, Set<Listener>>();

  /** Adds a listener; true when it is the topic's first (the bus starts receiving the topic then). */
  add(topic: string, listener: Listener): boolean {
    const listeners = this.byTopic.get(topic);
    if (listeners) {
      listeners.add(listener);
      return false;
    }
    this.byTopic.set(topic, new Set([listener]));
    return true;
  }

  /** Removes a listener; true when the topic has none left. */
  remove(topic: string, listener: Listener): boolean {
    const listeners = this.byTopic.get(topic);
    if (!listeners) return false;
    listeners.delete(listener);
    if (listeners.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  dispatch(topic: string, event: ReplyEvent): void {
    for (const listener of this.byTopic.get(topic) ?? []) listener(event);
  }
}

/** The topic of a bot's web conversation. */
export function replyTopic(botId: string, conversationId: string): string {
  return `${botId}:${conversationId}`;
}
