import { AppError, UnavailableError } from '../errors/app.errors.js';
import type { BotEvent } from './bot-event.types.js';
import type { StreamLeases } from './stream-lease.js';

/** Where the hub hears a bot's events (the bot event bus). */
export interface BotEventSource {
  subscribe(botId: string, listener: (event: BotEvent) => void): Promise<() => Promise<void>>;
}

export interface BotEventHubOptions {
  /** Throws NOT_FOUND unless the bot is the creator's. */
  authorize(creatorId: string, botId: string): Promise<unknown>;
  /** Open streams one creator may hold in this process. */
  maxStreamsPerCreator: number;
  /** Recent events kept per bot, to resend after a reconnection. */
  keepEvents: number;
  /** How long a bot's subscription (and its recent events) outlives its last stream, for a reconnection to resume. */
  keepMs: number;
  /** The cap counted across API processes; without it, this process's streams alone count. */
  leases?: { store: StreamLeases; renewEveryMs: number };
  /** Whether the credential a stream was opened with still stands; looked at every `everyMs`, and a stream whose credential is gone is ended. */
  credentials?: { isLive(creatorId: string, credential: string): Promise<boolean>; everyMs: number };
  /** Told about background passes that failed (they try again on the next pass). */
  onError?(what: string, err: unknown): void;
}

/** Why a stream must start over: the client refetches its lists and follows the stream from here. */
export type StreamReset = 'unknown_last_event';

/** One open stream of a bot's events. */
export interface BotEventStream {
  /** Events after the `Last-Event-ID` the client sent, when this process still holds it. */
  replay: BotEvent[];
  /** Set when the client sent a `Last-Event-ID` this process no longer (or never) held. */
  reset: StreamReset | null;
  /** Starts delivering live events (those that arrived since the stream opened first); `ended` is called on shutdown. */
  listen(onEvent: (event: BotEvent) => void, ended: () => void): void;
  /** The client went away. */
  close(): void;
}

interface Listener {
  queued: BotEvent[];
  onEvent?: (event: BotEvent) => void;
  ended?: () => void;
  /** Ended before `listen` was called (its credential was revoked meanwhile). */
  endedEarly?: boolean;
}

/** What the hub keeps of each open stream for the cap and the credential checks. */
interface OpenStream {
  creatorId: string;
  credential: string | undefined;
  leaseId: string | null;
  listener: Listener;
}

interface BotTopic {
  listeners: Set<Listener>;
  recent: BotEvent[];
  subscribed: Promise<() => Promise<void>>;
  idle?: NodeJS.Timeout;
}

/**
 * This process's live streams of bot events (the API side): one subscription per bot however many
 * dashboards watch it, the bot's recent events so a dropped connection can resume, and a cap on
 * streams per creator.
 */
export class BotEventHub {
  private readonly bots = new Map<string, BotTopic>();
  private readonly perCreator = new Map<string, number>();
  private readonly streams = new Set<OpenStream>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly source: BotEventSource,
    private readonly options: BotEventHubOptions,
  ) {
    const every = (ms: number, pass: () => Promise<void>, what: string) => {
      const timer = setInterval(() => void pass().catch((err: unknown) => this.options.onError?.(what, err)), ms);
      timer.unref();
      this.timers.push(timer);
    };
    if (options.leases) every(options.leases.renewEveryMs, () => this.renewLeases(), 'renewing stream leases failed');
    if (options.credentials) every(options.credentials.everyMs, () => this.endRevoked(), 'checking the streams’ credentials failed');
  }

  /**
   * Opens a stream of the creator's bot: NOT_FOUND for another creator's bot, TOO_MANY_STREAMS past
   * the cap. With `lastEventId`, the events after it when this process still holds it, else a reset.
   */
  async open(creatorId: string, botId: string, lastEventId?: string, credential?: string): Promise<BotEventStream> {
    if (this.closed) throw new UnavailableError('The server is shutting down');
    await this.options.authorize(creatorId, botId);
    const tooMany = () => new AppError('TOO_MANY_STREAMS', 429, `At most ${this.options.maxStreamsPerCreator} event streams may be open at once; close one first`);
    const open = this.perCreator.get(creatorId) ?? 0;
    if (open >= this.options.maxStreamsPerCreator) throw tooMany();
    // Counted before waiting, so concurrent opens cannot pass the cap together.
    this.perCreator.set(creatorId, open + 1);
    const listener: Listener = { queued: [] };
    const stream: OpenStream = { creatorId, credential, leaseId: null, listener };
    let topic: BotTopic;
    try {
      if (this.options.leases) {
        stream.leaseId = await this.options.leases.store.acquire(creatorId, this.options.maxStreamsPerCreator);
        if (!stream.leaseId) throw tooMany();
      }
      this.streams.add(stream);
      topic = this.topic(botId);
      // Added before waiting: the topic is not let go meanwhile, and events queue for this stream.
      topic.listeners.add(listener);
      clearTimeout(topic.idle);
      await topic.subscribed;
    } catch (err) {
      this.release(stream, botId);
      throw err;
    }
    let replay: BotEvent[] = [];
    let reset: StreamReset | null = null;
    if (lastEventId) {
      const at = topic.recent.findIndex((e) => e.eventId === lastEventId);
      // Events that arrived while subscribing are both recent and queued: the queue has them.
      if (at >= 0) replay = topic.recent.slice(at + 1).filter((e) => !listener.queued.includes(e));
      else reset = 'unknown_last_event';
    }
    let closed = false;
    return {
      replay,
      reset,
      listen: (onEvent, ended) => {
        listener.onEvent = onEvent;
        listener.ended = ended;
        if (listener.endedEarly) return ended();
        for (const event of listener.queued.splice(0)) onEvent(event);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.release(stream, botId);
      },
    };
  }

  /** Streams open in this process, for metrics and tests. */
  openStreams(): number {
    let n = 0;
    for (const count of this.perCreator.values()) n += count;
    return n;
  }

  /** Keeps this process's leases from expiring while their streams are open. */
  private async renewLeases(): Promise<void> {
    const leases = [...this.streams].flatMap((s) => (s.leaseId ? [{ creatorId: s.creatorId, leaseId: s.leaseId }] : []));
    await this.options.leases?.store.renew(leases);
  }

  /** Ends the streams whose credential was revoked (signed out, key deleted), each credential looked up once. */
  private async endRevoked(): Promise<void> {
    const check = this.options.credentials;
    if (!check) return;
    const byCredential = new Map<string, OpenStream[]>();
    for (const stream of this.streams) {
      if (stream.credential === undefined) continue;
      const key = `${stream.creatorId} ${stream.credential}`;
      byCredential.set(key, [...(byCredential.get(key) ?? []), stream]);
    }
    for (const streams of byCredential.values()) {
      const { creatorId, credential } = streams[0]!;
      if (await check.isLive(creatorId, credential!)) continue;
      for (const stream of streams) {
        if (stream.listener.ended) stream.listener.ended();
        else stream.listener.endedEarly = true;
      }
    }
  }

  /** Ends every stream and lets go of every subscription (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const leases = [...this.streams].flatMap((s) => (s.leaseId ? [s] : []));
    this.streams.clear();
    // Handed back at once rather than left to expire, so a restart finds its slots free.
    await Promise.allSettled(leases.map((s) => this.options.leases?.store.release(s.creatorId, s.leaseId!)));
    const topics = [...this.bots.values()];
    this.bots.clear();
    this.perCreator.clear();
    for (const topic of topics) {
      clearTimeout(topic.idle);
      for (const listener of topic.listeners) listener.ended?.();
      topic.listeners.clear();
      await this.unsubscribe(topic);
    }
  }

  private topic(botId: string): BotTopic {
    const existing = this.bots.get(botId);
    if (existing) return existing;
    const topic: BotTopic = {
      listeners: new Set(),
      recent: [],
      subscribed: this.source.subscribe(botId, (event) => this.dispatch(topic, event)),
    };
    this.bots.set(botId, topic);
    // A failed subscription is not kept: the next stream tries again.
    topic.subscribed.catch(() => {
      if (this.bots.get(botId) === topic) this.bots.delete(botId);
    });
    return topic;
  }

  private dispatch(topic: BotTopic, event: BotEvent): void {
    topic.recent.push(event);
    if (topic.recent.length > this.options.keepEvents) topic.recent.shift();
    for (const listener of topic.listeners) {
      if (listener.onEvent) listener.onEvent(event);
      else listener.queued.push(event);
    }
  }

  private release(stream: OpenStream, botId: string): void {
    const { creatorId, listener } = stream;
    if (this.streams.delete(stream) && stream.leaseId) {
      const leaseId = stream.leaseId;
      // Left to expire should this fail.
      this.options.leases?.store.release(creatorId, leaseId).catch((err: unknown) => this.options.onError?.('releasing a stream lease failed', err));
    }
    const open = (this.perCreator.get(creatorId) ?? 1) - 1;
    if (open > 0) this.perCreator.set(creatorId, open);
    else this.perCreator.delete(creatorId);
    const topic = this.bots.get(botId);
    if (!topic || !topic.listeners.delete(listener) || topic.listeners.size > 0) return;
    // Kept a while with its recent events, so a dashboard that reconnects here resumes where it was.
    topic.idle = setTimeout(() => {
      if (topic.listeners.size > 0 || this.bots.get(botId) !== topic) return;
      this.bots.delete(botId);
      void this.unsubscribe(topic);
    }, this.options.keepMs);
    topic.idle.unref();
  }

  private async unsubscribe(topic: BotTopic): Promise<void> {
    try {
      await (await topic.subscribed)();
    } catch {
      // Never subscribed, or the connection is gone already: nothing to let go of.
    }
  }
}
