/**
 * Publish/subscribe by topic between the platform's processes: the web chat's reply events and the
 * creators' live bot events travel on it. Delivery is at most once: a process that was not
 * subscribed (or lost its connection) when an event was published never gets it.
 */
export interface TopicBus {
  /** Sends `payload` (JSON-serialisable) to the topic's subscribers in every process. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** Calls `listener` with the topic's payloads from the moment this resolves; resolves to an unsubscribe. */
  subscribe(topic: string, listener: (payload: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
