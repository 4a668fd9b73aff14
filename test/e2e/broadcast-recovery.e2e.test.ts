import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { startFakeTelegram, type FakeTelegram, type HeldCall } from '../support/fake-telegram.js';
import { connectedBot, freePort } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let telegram: FakeTelegram;
let platform: TestPlatform;
const workers = new ChildWorkers();
const FIRST_CHAT_ID = 7_500_000;
const CONTACTS = 10;
const TEXT = 'The spring challenge starts Monday!';

beforeAll(async () => {
  telegram = await startFakeTelegram();
  const port = await freePort();
  // The API alone: broadcasts are delivered by the worker processes this test starts and kills.
  platform = await startTestPlatform(
    { TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: `http://127.0.0.1:${port}`, TELEGRAM_THROTTLE: 'false', REDIS_URL: testRedisUrl },
    { workers: false },
  );
  await platform.app.listen({ host: '127.0.0.1', port });
});

// Every worker process dies with its test, passed, failed or timed out.
afterEach(() => workers.killAll());

afterAll(async () => {
  await workers.close();
  await platform?.stop();
  await telegram?.close();
});

describe('a worker killed in the middle of a broadcast', () => {
  it('leaves the rest to the next worker: every contact gets the message exactly once', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
    try {
      const env = workerEnvFor(platform, dataDir, {
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_THROTTLE: 'false',
        PROACTIVE_LOCK_DURATION_MS: '1500',
        PROACTIVE_STALLED_INTERVAL_MS: '300',
      });
      const bot = await connectedBot(platform, telegram, { ingest: false });
      // Contacts as earlier conversations left them.
      await platform.infrastructure.database.pool.query(
        `WITH k AS (
           INSERT INTO contacts (bot_id, channel, external_id)
           SELECT $1, 'telegram', ($2::bigint + i)::text FROM generate_series(0, $3 - 1) i RETURNING id, external_id
         )
         INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) SELECT $1, id, 'telegram', external_id FROM k`,
        [bot.botId, FIRST_CHAT_ID, CONTACTS],
      );
      const chats = Array.from({ length: CONTACTS }, (_, i) => FIRST_CHAT_ID + i);
      const holds = new Map<number, HeldCall>(chats.map((chatId) => [chatId, telegram.holdNext('sendMessage', { chatId })]));
      const arrived: number[] = [];
      for (const [chatId, hold] of holds) void hold.arrived.then(() => arrived.push(chatId));

      const first = await workers.start(env);
      const created = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.botId}/broadcasts`, headers: bot.session.auth, payload: { text: TEXT, segment: { type: 'all' } } });
      expect(created.statusCode).toBe(202);
      const { id } = created.json();

      // Two messages are on their way: the first goes through, the second is caught by the kill.
      await waitFor(() => arrived.length >= 2 || null, { what: 'two messages on their way' });
      const [delivered, caught] = arrived as [number, number];
      holds.get(delivered)!.release();
      await waitFor(() => telegram.texts(delivered).length === 1 || null, { what: 'the first message delivered' });
      await first.kill();
      await holds.get(caught)!.clientGone;
      for (const hold of holds.values()) hold.release();
      await waitFor(() => holds.get(caught)!.dropped || null, { what: 'the message in flight dropped with its worker' });
      const sentBeforeKill = chats.filter((chatId) => telegram.texts(chatId).length > 0);
      expect(sentBeforeKill.length).toBeLessThan(CONTACTS);

      // A message claimed by the dead worker is taken again only once it is stale (minutes):
      // the test moves its claim back in time instead of waiting.
      await platform.infrastructure.database.pool.query(
        `UPDATE outbound_messages SET updated_at = now() - interval '1 hour' WHERE status = 'sending' AND starts_with(dedupe_key, $1)`,
        [`broadcast:${id}:`],
      );
      await workers.start(env);
      const done = await waitFor(
        async () => {
          const view = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.botId}/broadcasts/${id}`, headers: bot.session.auth })).json();
          return view.status === 'done' ? view : null;
        },
        { what: 'the broadcast done by the second worker', timeoutMs: 60_000 },
      );
      expect(done).toMatchObject({ total: CONTACTS, sent: CONTACTS, failed: 0, skipped: 0 });
      for (const chatId of chats) expect(telegram.texts(chatId), `chat ${chatId}`).toEqual([TEXT]);
      expect(telegram.callsOf('sendMessage').filter((c) => c.params.text === TEXT && c.response.ok)).toHaveLength(CONTACTS);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
