/**
 * The queue only carries work: deleting any part of it at any moment (a partial eviction, a failover,
 * an operator's mistake) must not lose a message. While Telegram updates flow, each delivered twice,
 * a random subset of the `converse` queue's Redis keys (scale-out mode) or of its rows in BullMQ's
 * PostgreSQL tables (small-server mode) is deleted at a random moment; every stored message must then
 * be answered exactly once. Replay a failure with QUEUE_FAULT_SEED=<seed printed below>.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, type ConnectedBot } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// 100 messages (200 deliveries) per repetition: 5 repetitions per backend stay within the suite's
// budget on a busy 2-core machine, and a deletion still hits jobs in every state.
const MESSAGES = 100;
const REPETITIONS = 5;
const SENDERS = 16;
const RECONCILE_INTERVAL_MS = 500;

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const firstSeed = process.env.QUEUE_FAULT_SEED ? Number(process.env.QUEUE_FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);

/** Deletes each of the queue's Redis keys with probability `share`; returns how many went. */
async function deleteRedisKeys(prefix: string, random: () => number, share: number): Promise<number> {
  const redis = new Redis(testRedisUrl);
  try {
    const doomed: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:converse:*`, 'COUNT', 1000);
      cursor = next;
      doomed.push(...keys.filter(() => random() < share));
    } while (cursor !== '0');
    return doomed.length ? await redis.del(...doomed) : 0;
  } finally {
    redis.disconnect();
  }
}

// Every table of BullMQ's PostgreSQL backend that holds rows of one queue, with an expression naming a row.
const bullmqTables: Array<{ table: string; row: string }> = [
  { table: 'job', row: 'id' },
  { table: 'meta', row: 'field' },
  { table: 'event', row: 'id::text' },
  { table: 'metrics', row: 'kind' },
  { table: 'rate_limit', row: 'queue' },
  { table: 'dedup', row: 'dedup_id' },
  { table: 'job_log', row: "job_id || ':' || idx" },
];

/** Deletes each of the queue's rows in BullMQ's tables with probability `share`; returns how many went. */
async function deletePostgresRows(databaseUrl: string, random: () => number, share: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let deleted = 0;
    for (const { table, row } of bullmqTables) {
      const { rows } = await client.query<{ row: string }>(`SELECT ${row} AS row FROM bullmq.${table} WHERE queue = 'converse'`);
      const doomed = rows.filter(() => random() < share).map((r) => r.row);
      const result = await client.query(`DELETE FROM bullmq.${table} WHERE queue = 'converse' AND ${row} = ANY($1)`, [doomed]);
      deleted += result.rowCount ?? 0;
    }
    return deleted;
  } finally {
    await client.end();
  }
}

let telegram: FakeTelegram;

beforeAll(async () => {
  telegram = await startFakeTelegram();
});

afterAll(async () => {
  await telegram?.close();
});

async function faultPlatform(env: Record<string, string>) {
  const port = await freePort();
  const platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TELEGRAM_THROTTLE: 'false',
    RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
    RECONCILE_GRACE_MS: '500',
    CONVERSE_CONCURRENCY: '8',
    CONVERSE_PER_CREATOR: '8',
    // A job whose record is deleted while it runs stays listed as active until its lock expires and
    // BullMQ's stalled-job check drops it (its turn is answered, or the reconciler re-creates it):
    // short values let the test see an idle queue soon.
    CONVERSE_LOCK_DURATION_MS: '3000',
    CONVERSE_STALLED_INTERVAL_MS: '1000',
    ...env,
  });
  await platform.app.listen({ host: '127.0.0.1', port });
  return platform;
}

/**
 * One repetition: `MESSAGES` updates to distinct chats, each delivered twice, interleaved; after a
 * random number of deliveries `fault` deletes part of the queue. Resolves once every chat is answered
 * and no work is left, with the chats for the exactly-once check.
 */
async function runWithFault(
  platform: TestPlatform,
  bot: ConnectedBot,
  firstChat: number,
  seed: number,
  fault: (random: () => number, share: number) => Promise<number>,
) {
  const random = seeded(seed);
  const chats = Array.from({ length: MESSAGES }, (_, i) => firstChat + i);
  // Each update twice, with the same update id, as Telegram redelivers it.
  const deliveries = [...chats, ...chats].map((chatId) => ({ chatId, updateId: chatId }));
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const faultAt = Math.floor(random() * deliveries.length);
  const share = 0.2 + random() * 0.8;

  let next = 0;
  let faulted: Promise<number> | undefined;
  const sender = async () => {
    while (next < deliveries.length) {
      const index = next++;
      if (index === faultAt) faulted = fault(random, share);
      const { chatId, updateId } = deliveries[index]!;
      const response = await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(`Message for chat ${chatId}`, { updateId, chatId }));
      expect(response.status).toBe(200);
    }
  };
  const began = Date.now();
  await Promise.all(Array.from({ length: SENDERS }, sender));
  const deleted = await faulted;
  const delivered = Date.now();

  const stored = await platform.infrastructure.database.pool.query<{ chat: string }>(
    `SELECT c.external_chat_id AS chat FROM inbound_messages i JOIN conversations c ON c.id = i.conversation_id
      WHERE c.bot_id = $1 AND c.external_chat_id = ANY($2)`,
    [bot.botId, chats.map(String)],
  );
  expect(stored.rows.map((r) => Number(r.chat)).sort()).toEqual([...chats].sort());

  await waitFor(() => chats.every((chatId) => telegram.texts(chatId).length > 0), {
    what: `a reply in every chat (seed ${seed}, ${deleted} deleted after delivery ${faultAt})`,
    timeoutMs: 45_000,
    intervalMs: 100,
  });
  const answered = Date.now();
  // Nothing left that could still send: every turn answered and no converse job pending.
  let left = '';
  await waitFor(
    async () => {
      const { rows } = await platform.infrastructure.database.pool.query<{ status: string; n: string }>(
        `SELECT t.status, count(*) AS n FROM turns t JOIN conversations c ON c.id = t.conversation_id
          WHERE c.bot_id = $1 AND c.external_chat_id = ANY($2) AND t.status <> 'answered' GROUP BY t.status`,
        [bot.botId, chats.map(String)],
      );
      const counts = await platform.infrastructure.queues.counts('converse');
      left = JSON.stringify({ turns: rows, counts });
      return rows.length === 0 && !counts.waiting && !counts.active && !counts.delayed && !counts.prioritized;
    },
    { what: `every turn answered and the queue idle (seed ${seed})`, timeoutMs: 30_000, intervalMs: 100 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; left: ${left}`);
  });
  console.info(
    `  ${deleted} deleted after delivery ${faultAt}/${deliveries.length}; delivered in ${delivered - began} ms, all answered ${answered - delivered} ms later, queue idle after ${Date.now() - answered} ms more`,
  );
  return { chats, deleted };
}

function faultSuite(mode: 'redis' | 'postgres') {
  describe(`queue ${mode === 'redis' ? 'keys (Redis)' : 'rows (PostgreSQL backend)'} deleted at a random moment`, () => {
    let platform: TestPlatform;
    let bot: ConnectedBot;

    beforeAll(async () => {
      platform = await faultPlatform(mode === 'redis' ? { REDIS_URL: testRedisUrl } : {});
      bot = await connectedBot(platform, telegram, { ingest: false, settings: { mergeWindowMs: 0 } });
    });

    afterAll(async () => {
      await platform?.stop();
    });

    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      it(`repetition ${repetition + 1}: every stored message is answered exactly once`, { timeout: 90_000 }, async () => {
        const seed = firstSeed + repetition;
        console.info(`queue fault (${mode}) repetition ${repetition + 1}: seed ${seed} (replay all with QUEUE_FAULT_SEED=${firstSeed})`);
        const fault =
          mode === 'redis'
            ? (random: () => number, share: number) => deleteRedisKeys(platform.config.QUEUE_PREFIX, random, share)
            : (random: () => number, share: number) => deletePostgresRows(platform.infrastructure.database.url, random, share);
        // The fake Telegram is shared: each backend and repetition writes to chats of its own.
        const firstChat = (mode === 'redis' ? 700_000 : 800_000) + repetition * 1_000;
        const { chats } = await runWithFault(platform, bot, firstChat, seed, fault);
        const duplicated = chats.filter((chatId) => telegram.texts(chatId).length !== 1);
        expect(duplicated).toEqual([]);
      });
    }
  });
}

faultSuite('redis');
faultSuite('postgres');
