/**
 * Broadcast delivery at scale through the fake Telegram server: one bot with N contacts (10,000 by
 * default, seeded in SQL), one broadcast to all of them, delivered by the platform's proactive
 * worker with the Telegram throttler on (TELEGRAM_THROTTLE, grammY's defaults: about 30 messages a
 * second per bot, one a second per chat), as in production.
 *
 *   npm run bench:broadcast [-- --recipients 10000 --limit 30 --workers 1]
 *
 * `--workers N` adds N-1 worker processes beside the platform's own (same database and Redis): the
 * bot's send slots are shared through Redis, so together they keep the one limit.
 *
 * Reported: the fan-out (POST → 202, recipients stored and their jobs queued), delivered messages
 * per second from the 202 to the last one against the channel's limit, the most messages the fake
 * saw in any one second (sliding window), duplicates (a chat that got the message more than once),
 * rate_limited: calls Telegram would refuse — answered 429 by the fake, or beyond `--limit` within
 * one second of the calls before them — and the totals the API reports. Last line:
 * `delivered_per_s=<v> limit_per_s=<v> duplicates=<n> rate_limited=<n>`.
 * Writes bench/results/broadcast-<timestamp>.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ChildWorkers, workerEnvFor } from '../test/support/child-worker.js';
import { createBot, signUpCreator } from '../test/support/creator-session.js';
import { startFakeTelegram } from '../test/support/fake-telegram.js';
import { freePort } from '../test/support/free-port.js';
import { testRedisUrl } from '../test/support/test-database.js';
import { startTestPlatform } from '../test/support/test-platform.js';
import { saveResults } from './bench-report.js';

const { values: args } = parseArgs({
  options: {
    recipients: { type: 'string', default: '10000' },
    // Telegram's documented broadcast limit per bot: about 30 messages a second.
    limit: { type: 'string', default: '30' },
    workers: { type: 'string', default: '1' },
  },
});
const WORKERS = Number(args.workers);
const RECIPIENTS = Number(args.recipients);
const LIMIT = Number(args.limit);
const FIRST_CHAT_ID = 900_000_000;
const TEXT = 'Our live Q&A starts in an hour: bring your questions!';

const telegram = await startFakeTelegram();
const port = await freePort();
const platform = await startTestPlatform({
  TELEGRAM_API_ROOT: telegram.apiRoot,
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  REDIS_URL: testRedisUrl,
  LOG_LEVEL: 'warn',
});
const extraWorkers = new ChildWorkers();
const workerDataDir = mkdtempSync(path.join(tmpdir(), 'coach-broadcast-'));
try {
  await platform.app.listen({ host: '127.0.0.1', port });
  for (let i = 1; i < WORKERS; i++) {
    await extraWorkers.start(workerEnvFor(platform, workerDataDir, { TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: `http://127.0.0.1:${port}` }));
  }
  if (WORKERS > 1) console.log(`${WORKERS} processes sending: the platform's and ${WORKERS - 1} more`);
  const session = await signUpCreator(platform.app);
  const bot = await createBot(platform.app, session.auth, { name: 'Maya', language: 'en' });
  const fakeBot = telegram.addBot();
  const connected = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot.id}/channels/telegram`, headers: session.auth, payload: { token: fakeBot.token } });
  if (connected.statusCode !== 200) throw new Error(`connecting Telegram failed: ${connected.body}`);

  const pool = platform.infrastructure.database.pool;
  const seedStart = performance.now();
  await pool.query(
    `WITH k AS (
       INSERT INTO contacts (bot_id, channel, external_id)
       SELECT $1, 'telegram', ($2::bigint + i)::text FROM generate_series(0, $3 - 1) i RETURNING id, external_id
     )
     INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) SELECT $1, id, 'telegram', external_id FROM k`,
    [bot.id, FIRST_CHAT_ID, RECIPIENTS],
  );
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.log(`seeded ${RECIPIENTS} Telegram contacts in ${seedSeconds.toFixed(1)} s`);

  const start = performance.now();
  const created = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/broadcasts`, headers: session.auth, payload: { text: TEXT, segment: { type: 'all' } } });
  if (created.statusCode !== 202) throw new Error(`creating the broadcast failed: ${created.body}`);
  const fanOutMs = performance.now() - start;
  const { id } = created.json() as { id: string };
  console.log(`fan-out (202 with ${RECIPIENTS} recipients stored and queued): ${fanOutMs.toFixed(0)} ms`);

  let view: Record<string, unknown> = {};
  let lastReport = start;
  for (;;) {
    const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.id}/broadcasts/${id}`, headers: session.auth });
    view = response.json() as Record<string, unknown>;
    if (view.status === 'done') break;
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(`  ${((lastReport - start) / 1000).toFixed(0)} s: sent ${String(view.sent)} of ${String(view.total)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const calls = telegram.callsOf('sendMessage').filter((c) => c.token === fakeBot.token && c.params.text === TEXT);
  const delivered = calls.filter((c) => c.response.ok);
  const lastAt = Math.max(...delivered.map((c) => c.at));
  const seconds = (lastAt - start) / 1000;
  const perChat = new Map<string, number>();
  for (const c of delivered) perChat.set(String(c.params.chat_id), (perChat.get(String(c.params.chat_id)) ?? 0) + 1);
  const duplicates = [...perChat.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const answered429 = calls.filter((c) => !c.response.ok && c.response.error_code === 429).length;
  // Calls beyond the limit within one second of the calls before them (sliding window over arrivals).
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let overLimit = 0;
  let maxInSecond = 0;
  for (let i = 0, j = 0; i < times.length; i += 1) {
    while (times[i]! - times[j]! >= 1000) j += 1;
    const inWindow = i - j + 1;
    maxInSecond = Math.max(maxInSecond, inWindow);
    if (inWindow > LIMIT) overLimit += 1;
  }
  const deliveredPerSecond = delivered.length / seconds;
  const missing = RECIPIENTS - perChat.size;

  console.log(`\ndelivered ${delivered.length} messages to ${perChat.size} chats in ${seconds.toFixed(1)} s: ${deliveredPerSecond.toFixed(1)}/s against a limit of ${LIMIT}/s`);
  console.log(`most in any one second: ${maxInSecond}; answered 429: ${answered429}; beyond the limit: ${overLimit}; chats missing the message: ${missing}`);
  console.log(`API totals: ${JSON.stringify({ status: view.status, total: view.total, sent: view.sent, failed: view.failed, skipped: view.skipped })}`);
  const file = saveResults('broadcast', {
    benchmark: 'broadcast',
    date: new Date().toISOString(),
    channel: 'telegram',
    recipients: RECIPIENTS,
    workerProcesses: WORKERS,
    limitPerSecond: LIMIT,
    seedSeconds,
    fanOutMs,
    deliverySeconds: seconds,
    deliveredPerSecond,
    maxInAnySecond: maxInSecond,
    duplicates,
    answered429,
    beyondLimit: overLimit,
    missing,
    totals: view,
  });
  console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
  console.log(`delivered_per_s=${deliveredPerSecond.toFixed(1)} limit_per_s=${LIMIT} duplicates=${duplicates} rate_limited=${answered429 + overLimit}`);
} finally {
  await extraWorkers.killAll();
  rmSync(workerDataDir, { recursive: true, force: true });
  await platform.stop();
  await telegram.close();
}
