/**
 * Shared send pace: worker processes side by side take one bot's (or one number's) send slots from
 * one store, so together they keep the limit a single process keeps. One suite, every store.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedSendPace } from '../../src/conversation/channel.ports.js';
import { PgSendPace } from '../../src/db/send-pace.repository.js';
import { RedisSendPace } from '../../workers/send-pace.redis.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** Two processes' views of one store. */
interface Pair {
  a: SharedSendPace;
  b: SharedSendPace;
  close(): Promise<void>;
}

const stores: Array<[string, () => Promise<Pair>]> = [
  [
    'Redis',
    async () => {
      const prefix = uniquePrefix();
      const [ra, rb] = [new Redis(testRedisUrl), new Redis(testRedisUrl)];
      return {
        a: new RedisSendPace(ra, prefix),
        b: new RedisSendPace(rb, prefix),
        async close() {
          ra.disconnect();
          rb.disconnect();
        },
      };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const [pa, pb] = [new pg.Pool({ connectionString: database.url, max: 4 }), new pg.Pool({ connectionString: database.url, max: 4 })];
      return {
        a: new PgSendPace(pa),
        b: new PgSendPace(pb),
        async close() {
          await pa.end();
          await pb.end();
        },
      };
    },
  ],
];

// Slots a long interval apart: a wait is the slot's distance from the moment it was taken, so two
// consecutive slots' waits differ by the interval less the time between the two calls, which on
// any machine is far below half of it.
const INTERVAL_MS = 10_000;

describe.each(stores)('shared send pace: %s', (_name, open) => {
  it('gives two processes sending for one key consecutive slots, one interval apart, never the same one', async () => {
    const pair = await open();
    try {
      const key = `telegram:${uniquePrefix()}`;
      const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? pair.a : pair.b).reserve(key, INTERVAL_MS)));
      const sorted = [...waits].sort((x, y) => x - y);
      expect(sorted[0]).toBe(0);
      for (let i = 1; i < sorted.length; i++) {
        const gap = sorted[i]! - sorted[i - 1]!;
        expect(gap).toBeGreaterThan(INTERVAL_MS / 2);
        expect(gap).toBeLessThanOrEqual(INTERVAL_MS);
      }
      // The 20th slot is 19 intervals after the first.
      expect(sorted[19]).toBeGreaterThan(18 * INTERVAL_MS);
    } finally {
      await pair.close();
    }
  });

  it('keeps keys apart: another bot or number sends at once', async () => {
    const pair = await open();
    try {
      const busy = `telegram:${uniquePrefix()}`;
      await pair.a.reserve(busy, INTERVAL_MS);
      expect(await pair.b.reserve(busy, INTERVAL_MS)).toBeGreaterThan(INTERVAL_MS / 2);
      expect(await pair.b.reserve(`whatsapp:${uniquePrefix()}`, INTERVAL_MS)).toBe(0);
    } finally {
      await pair.close();
    }
  });
});
