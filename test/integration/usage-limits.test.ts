/**
 * The usage limits' stores: the per-bot model-call budget as several worker processes share it
 * (each "process" has its own connection pool or Redis connection, and all take calls at once), and
 * the contact's one "slow down" notice per window.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCallBudget } from '../../src/conversation/turn.ports.js';
import { ContactRateRepository, PgModelCallBudget } from '../../src/db/usage-limits.repository.js';
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

describe('a contact writing too fast', () => {
  async function conversation(): Promise<string> {
    const botId = await newBot();
    const { rows: contacts } = await database.pool.query<{ id: string }>(
      `INSERT INTO contacts (bot_id, channel, external_id) VALUES ($1, 'telegram', '42') RETURNING id`,
      [botId],
    );
    const { rows } = await database.pool.query<{ id: string }>(
      `INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, 'telegram', '42') RETURNING id`,
      [botId, contacts[0]!.id],
    );
    return rows[0]!.id;
  }

  it('is told once per window, and a retried turn keeps its notice (sent through its own ledger row)', async () => {
    const rate = new ContactRateRepository(pools[0]!);
    const other = new ContactRateRepository(pools[1]!, { prepared: true });
    const conversationId = await conversation();
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await rate.claimSlowDownNotice(conversationId, first, 60_000)).toBe(true);
    expect(await other.claimSlowDownNotice(conversationId, first, 60_000)).toBe(true);
    expect(await other.claimSlowDownNotice(conversationId, second, 60_000)).toBe(false);
    // Once the window has passed, the next refused turn tells them again.
    expect(await rate.claimSlowDownNotice(conversationId, third, 0)).toBe(true);
    expect(await rate.claimSlowDownNotice(conversationId, first, 60_000)).toBe(false);
  });

  it('counts only the last window of messages, and no further than asked', async () => {
    const rate = new ContactRateRepository(pools[0]!, { prepared: true });
    const conversationId = await conversation();
    const { rows } = await database.pool.query<{ bot_id: string; contact_id: string }>(`SELECT bot_id, contact_id FROM conversations WHERE id = $1`, [conversationId]);
    const { bot_id: botId, contact_id: contactId } = rows[0]!;
    const insert = (age: string, n: number) =>
      database.pool.query(
        `INSERT INTO inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at)
         SELECT $1, 'telegram', gen_random_uuid()::text, $2, $3, 'text', 'hi', '{}'::jsonb, now() - $4::interval FROM generate_series(1, $5)`,
        [botId, conversationId, contactId, age, n],
      );
    await insert('5 minutes', 30);
    await insert('1 second', 7);
    expect(await rate.recentMessages(conversationId, 60_000, 100)).toBe(7);
    expect(await rate.recentMessages(conversationId, 60_000, 5)).toBe(5);
  });
});
