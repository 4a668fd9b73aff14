/**
 * The reply event buses carry a web chat turn's draft and reply from the process answering it to
 * the process holding the visitor's request: one suite, every topic bus it runs on.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicReplyBus } from '../../channels/web/topic.reply-bus.js';
import { InProcessTopicBus } from '../../src/pubsub/in-process.topic-bus.js';
import { PostgresTopicBus } from '../../src/pubsub/postgres.topic-bus.js';
import { RedisTopicBus } from '../../src/pubsub/redis.topic-bus.js';
import type { ReplyEvent, ReplyEventBus } from '../../src/conversation/channel.ports.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const BOT = '00000000-0000-4000-8000-000000000001';
const turn = { turnId: 't1', inboundIds: ['i1'] };

interface Pair {
  /** The process answering turns. */
  publisher: ReplyEventBus;
  /** The process holding the visitor's request. */
  subscriber: ReplyEventBus;
  close(): Promise<void>;
}

let database: TestDatabase;
const errors: Error[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const implementations: Array<[string, () => Promise<Pair>]> = [
  [
    'in process',
    async () => {
      const topics = new InProcessTopicBus();
      const bus = new TopicReplyBus(topics);
      return { publisher: bus, subscriber: bus, close: () => topics.close() };
    },
  ],
  [
    'Redis pub/sub',
    async () => {
      const prefix = uniquePrefix();
      const a = new Redis(testRedisUrl);
      const b = new Redis(testRedisUrl);
      const publisher = new RedisTopicBus(a, `${prefix}:`, (e) => errors.push(e));
      const subscriber = new RedisTopicBus(b, `${prefix}:`, (e) => errors.push(e));
      return {
        publisher: new TopicReplyBus(publisher),
        subscriber: new TopicReplyBus(subscriber),
        async close() {
          await publisher.close();
          await subscriber.close();
          a.disconnect();
          b.disconnect();
        },
      };
    },
  ],
  [
    'PostgreSQL LISTEN/NOTIFY',
    async () => {
      const poolA = new pg.Pool({ connectionString: database.url, max: 2 });
      const poolB = new pg.Pool({ connectionString: database.url, max: 2 });
      // Dropping the test database ends connections still closing.
      for (const pool of [poolA, poolB]) pool.on('error', () => undefined);
      const publisher = new PostgresTopicBus(poolA, database.url, 'platform_events', (e) => errors.push(e));
      const subscriber = new PostgresTopicBus(poolB, database.url, 'platform_events', (e) => errors.push(e));
      return {
        publisher: new TopicReplyBus(publisher),
        subscriber: new TopicReplyBus(subscriber),
        async close() {
          await publisher.close();
          await subscriber.close();
          await poolA.end();
          await poolB.end();
        },
      };
    },
  ],
];

describe.each(implementations)('reply event bus: %s', (_name, open) => {
  it("delivers a conversation's events in order to its listeners only, until they unsubscribe", async () => {
    const pair = await open();
    try {
      const mine: ReplyEvent[] = [];
      const other: ReplyEvent[] = [];
      const stop = await pair.subscriber.subscribe(BOT, 'visitor-a', (e) => mine.push(e));
      await pair.subscriber.subscribe(BOT, 'visitor-b', (e) => other.push(e));
      for (let i = 0; i < 20; i++) await pair.publisher.publish(BOT, 'visitor-a', { type: 'draft', turn, offset: i, text: 'x' });
      await pair.publisher.publish(BOT, 'visitor-a', { type: 'reply', turn, message: { text: 'x'.repeat(20) } });
      await waitFor(() => mine.length === 21, { what: 'all 21 events' });
      expect(mine.slice(0, 20).map((e) => (e.type === 'draft' ? e.offset : -1))).toEqual([...Array(20).keys()]);
      expect(mine[20]).toEqual({ type: 'reply', turn, message: { text: 'x'.repeat(20) } });
      await stop();
      await pair.publisher.publish(BOT, 'visitor-a', { type: 'reply', turn, message: { text: 'after' } });
      // A marker on the other topic shows the bus has delivered everything published before it.
      await pair.publisher.publish(BOT, 'visitor-b', { type: 'reply', message: { text: 'marker' } });
      await waitFor(() => other.length === 1, { what: 'the marker' });
      expect(mine).toHaveLength(21);
    } finally {
      await pair.close();
    }
  });

  it('carries a long reply with its buttons whole (over 8,000 bytes, and characters outside the BMP)', async () => {
    const pair = await open();
    try {
      const received: ReplyEvent[] = [];
      await pair.subscriber.subscribe(BOT, 'visitor-long', (e) => received.push(e));
      const text = 'Sleep well 😴 — "quoted" \\ back\nslash. '.repeat(600);
      const event: ReplyEvent = { type: 'reply', turn, message: { text, buttons: [{ id: 'forget:confirm', title: 'Yes, delete' }] } };
      await pair.publisher.publish(BOT, 'visitor-long', event);
      await waitFor(() => received.length === 1, { what: 'the long reply' });
      expect(received[0]).toEqual(event);
    } finally {
      await pair.close();
    }
  });
});

it('reports no connection errors', () => {
  expect(errors).toEqual([]);
});
