import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { LocalListeners } from './local-listeners.js';
import type { TopicBus } from './topic-bus.js';

// NOTIFY payloads must stay under 8,000 bytes: longer events travel in numbered parts. A part of
// 1,000 characters is at most 6,000 bytes once JSON-escaped (\uXXXX), with room for its header.
const WHOLE_MAX_BYTES = 7_000;
const PART_CHARS = 1_000;
// Parts of an event whose beginning this process missed (it started listening midway) are dropped.
const MAX_PARTIAL_EVENTS = 100;
const RECONNECT_MS = 1_000;

type Notice = { t: string; e: unknown } | { t: string; id: string; i: number; n: number; d: string };

/**
 * Topics across processes through PostgreSQL's LISTEN/NOTIFY, for deployments without Redis: one
 * notification channel for all topics, filtered in each process. NOTIFY keeps nothing for a
 * listener that was away.
 */
export class PostgresTopicBus implements TopicBus {
  private readonly listeners = new LocalListeners();
  private readonly partial = new Map<string, string[]>();
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly connectionString: string,
    /** The notification channel (an SQL identifier): platforms sharing one database use their own. */
    private readonly channel: string,
    private readonly onError: (error: Error) => void,
  ) {
    // It is written into LISTEN as it is.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new TypeError(`not a notification channel name: ${channel}`);
  }

  async publish(t: string, event: unknown): Promise<void> {
    const whole = JSON.stringify({ t, e: event } satisfies Notice);
    if (Buffer.byteLength(whole) <= WHOLE_MAX_BYTES) {
      await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, whole]);
      return;
    }
    const data = JSON.stringify(event);
    const id = randomUUID();
    const n = Math.ceil(data.length / PART_CHARS);
    const parts = Array.from({ length: n }, (_, i) => JSON.stringify({ t, id, i, n, d: data.slice(i * PART_CHARS, (i + 1) * PART_CHARS) } satisfies Notice));
    // One statement, one transaction: its notifications arrive together and in order.
    await this.pool.query('SELECT pg_notify($1, part) FROM unnest($2::text[]) WITH ORDINALITY AS p(part, i) ORDER BY i', [this.channel, parts]);
  }

  async subscribe(topic: string, listener: (payload: unknown) => void): Promise<() => Promise<void>> {
    this.listeners.add(topic, listener);
    try {
      await this.listen();
    } catch (err) {
      this.listeners.remove(topic, listener);
      throw err;
    }
    return async () => {
      this.listeners.remove(topic, listener);
    };
  }

  /** Connects the listening session once, and again after it was lost. */
  private listen(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      client.on('notification', (message) => this.receive(message.payload));
      client.on('error', (err) => this.lost(client, err));
      client.on('end', () => this.lost(client));
      try {
        await client.connect();
        await client.query(`LISTEN ${this.channel}`);
        this.client = client;
      } catch (err) {
        client.end().catch(() => undefined);
        throw err;
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (err) this.onError(err);
    client.end().catch(() => undefined);
    if (this.closed) return;
    const retry = () => {
      if (this.closed || this.client) return;
      this.listen().catch((error: unknown) => {
        this.onError(error as Error);
        setTimeout(retry, RECONNECT_MS).unref();
      });
    };
    setTimeout(retry, RECONNECT_MS).unref();
  }

  private receive(payload: string | undefined): void {
    if (!payload) return;
    let notice: Notice;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    if (!this.listeners.has(notice.t)) return;
    if ('e' in notice) {
      this.listeners.dispatch(notice.t, notice.e);
      return;
    }
    const parts = this.partial.get(notice.id) ?? [];
    if (notice.i !== parts.length) {
      // A part is missing (this process started listening midway): the event is dropped.
      this.partial.delete(notice.id);
      return;
    }
    parts.push(notice.d);
    if (parts.length < notice.n) {
      if (this.partial.size >= MAX_PARTIAL_EVENTS) this.partial.delete(this.partial.keys().next().value as string);
      this.partial.set(notice.id, parts);
      return;
    }
    this.partial.delete(notice.id);
    this.listeners.dispatch(notice.t, JSON.parse(parts.join('')) as unknown);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
