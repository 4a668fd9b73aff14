/**
 * The per-bot model-call budget as several worker processes share it: each "process" has its own
 * connection pool or Redis connection, and all take calls at once.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCallBudget } from '../../src/conversation/turn.ports.js';
import { PgModelCallBudget } from '../../src/db/usage-limits.repository.js';
import { RedisModelCallBudget } from '../../workers/model-call-budget.redis.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { flushQueueKeys } from '../support/redis-keys.js';
import { waitFor } from '../support/wait-for.js';

const PROCESSES = 3;
const PER_MINUTE = 5;

let database: TestDatabase;
const pools: pg.Pool[] = [];
const redises: Redis[] = [];
const prefix = uniquePrefix();

async function newBot(): Promise<string> {
  const { rows: creators } = await database.pool.query<{ id: string }>(`INSERT INTO creators (email, name, password_hash) VALUES ($1, 'C', 'x') RETURNING id`, [
    `${randomUUID()}@example.test`,
  ]);
  const { rows } = await database.pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name) VALUES ($1, 'Coach') RETURNING id`, [creators[0]!.id]);
  return rows[0]!.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  for (let i = 0; i < PROCESSES; i++) {
    pools.push(new pg.Pool({ connectionString: database.url, max: 4 }));
    redises.push(new Redis(testRedisUrl));
  }
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  for (const r of redises) r.disconnect();
  await flushQueueKeys(prefix);
  await database?.drop();
});

describe.each([
  ['PostgreSQL', () => pools.map((pool, i) => new PgModelCallBudget(pool, { prepared: i % 2 === 0 }))],
  ['Redis', () => redises.map((redis) => new RedisModelCallBudget(redis, prefix))],
] as Array<[string, () => ModelCallBudget[]]>)('on %s', (_name, budgets) => {
  it(`lets exactly ${PER_MINUTE} of many concurrent calls through across processes, per bot`, async () => {
    // Counted per calendar minute: start with most of one left.
    await waitFor(() => new Date().getSeconds() < 50, { what: 'room in the minute', timeoutMs: 20_000, intervalMs: 500 });
    const [busy, quiet] = [await newBot(), await newBot()];
    const all = budgets();
    const taken = await Promise.all(Array.from({ length: 24 }, (_, i) => all[i % all.length]!.take(busy, PER_MINUTE)));
    expect(taken.filter(Boolean)).toHaveLength(PER_MINUTE);
    // Another bot has its own budget.
    expect(await all[0]!.take(quiet, PER_MINUTE)).toBe(true);
    // A call given back can be taken again, once.
    await all[1]!.giveBack(busy);
    expect(await all[2]!.take(busy, PER_MINUTE)).toBe(true);
    expect(await all[0]!.take(busy, PER_MINUTE)).toBe(false);
  });
});
