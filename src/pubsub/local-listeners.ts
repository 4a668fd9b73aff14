type Listener = (payload: unknown) => void;

/** This process's listeners per topic, for the topic buses. */
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

  dispatch(topic: string, payload: unknown): void {
    for (const listener of this.byTopic.get(topic) ?? []) listener(payload);
  }
}
