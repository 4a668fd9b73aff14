import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startGatedOllama } from '../support/gated-ollama.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, GUIDE_TITLE, ledger, turnsOf } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { signUpCreator, createBot } from '../support/creator-session.js';
import { waitFor } from '../support/wait-for.js';
import { flushQueueKeys } from '../support/redis-keys.js';

const REPLY = 'Aim for seven to nine hours of sleep and keep a steady wake-up time.';

let telegram: FakeTelegram;
let ollama: FakeOllama;
const platforms: TestPlatform[] = [];
const workers = new ChildWorkers();

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
});

// Every worker process dies with its test, passed, failed or timed out.
afterEach(() => workers.killAll());

afterAll(async () => {
  await workers.close();
  for (const platform of platforms) await platform.stop();
  await telegram?.close();
  await ollama?.close();
});

/** An API-only platform listening on a real port, as the webhook target. */
async function apiPlatform(env: Record<string, string> = {}) {
  const port = await freePort();
  const platform = await startTestPlatform(
    {
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OLLAMA_HOST: ollama.url,
      TELEGRAM_THROTTLE: 'false',
      REDIS_URL: testRedisUrl,
      ...env,
    },
    { workers: false },
  );
  platforms.push(platform);
  await platform.app.listen({ host: '127.0.0.1', port });
  return platform;
}

describe('PUBLIC_URL', () => {
  it('connecting Telegram without PUBLIC_URL answers 409 saying webhooks need it', async () => {
    const platform = await startTestPlatform({ TELEGRAM_API_ROOT: telegram.apiRoot }, { workers: false });
    platforms.push(platform);
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const response = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${bot.id}/channels/telegram`,
      headers: session.auth,
      payload: { token: telegram.addBot().token },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'PUBLIC_URL_REQUIRED', message: expect.stringContaining('PUBLIC_URL') });
  });
});

describe('Redis loses its data', () => {
  it('the reconciler re-enqueues the unanswered message and it is answered once', async () => {
    const platform = await apiPlatform({ RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '300' });
    const bot = await connectedBot(platform, telegram, { ingest: false, settings: { mergeWindowMs: 0 } });
    const chatId = 6101;
    const delivered = await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('Are you there?', { updateId: 1, chatId }));
    expect(delivered.status).toBe(200);
    const prefix = platform.config.QUEUE_PREFIX;
    expect(await flushQueueKeys(prefix)).toBeGreaterThan(0);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT id FROM inbound_messages`);
    expect(await platform.infrastructure.queues.jobState('converse', `converse_${rows[0].id}`)).toBe('unknown');

    platform.startWorkers();
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the reply after reconciliation' });
    await waitFor(async () => (await ledger(platform, bot.botId, chatId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(telegram.texts(chatId)).toHaveLength(1);
  });
});

describe('a worker killed mid-turn', () => {
  it('has the turn completed by the next worker: exactly one reply, ledger sent', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const gate = await startGatedOllama(ollama.url);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
    try {
      const platform = await apiPlatform();
      const env = workerEnvFor(platform, dataDir, {
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_THROTTLE: 'false',
        OLLAMA_HOST: gate.url,
      });
      const first = await workers.start(env);
      // The first worker ingests the guide too: this platform runs no workers of its own.
      const bot = await connectedBot(platform, telegram);
      const chatId = 6201;
      await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('How much sleep do I need?', { updateId: 2, chatId }));

      // The turn is claimed and waiting for the model when the worker dies.
      await gate.waitForHeld(1);
      expect((await turnsOf(platform, bot.botId, chatId))[0]?.status).toBe('processing');
      await first.kill();
      expect(telegram.texts(chatId)).toHaveLength(0);

      gate.release();
      await workers.start(env);
      await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the reply from the second worker', timeoutMs: 30_000 });
      await waitFor(async () => (await ledger(platform, bot.botId, chatId))[0]?.status === 'sent', { what: 'ledger sent' });
      // The ledger row is marked sent just before the turn is closed: wait for both.
      await waitFor(async () => (await turnsOf(platform, bot.botId, chatId))[0]?.status === 'answered', { what: 'turn answered' });
      const [reply] = telegram.texts(chatId);
      expect(reply).toContain(REPLY);
      expect(reply).toContain(`— ${GUIDE_TITLE}`);
      expect(await turnsOf(platform, bot.botId, chatId)).toHaveLength(1);
      expect(telegram.texts(chatId)).toHaveLength(1);
    } finally {
      await gate.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a worker killed while its reply is going out', () => {
  it('has the recorded reply sent by the next worker: exactly one message, not written again', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
    try {
      const platform = await apiPlatform();
      const env = workerEnvFor(platform, dataDir, { TELEGRAM_API_ROOT: telegram.apiRoot, TELEGRAM_THROTTLE: 'false', OLLAMA_HOST: ollama.url });
      const first = await workers.start(env);
      const bot = await connectedBot(platform, telegram);
      const chatId = 6301;
      // The final message is held on its way to Telegram: the reply is complete and recorded.
      const held = telegram.holdNext('sendMessage', { chatId });
      await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('How much sleep do I need?', { updateId: 3, chatId }));
      await held.arrived;
      const [row] = await ledger(platform, bot.botId, chatId);
      expect(row).toMatchObject({ status: 'sending', text: expect.stringContaining(REPLY) });
      const modelCalls = ollama.chatRequests.length;

      // Killed before Telegram took the message: the user has seen only the draft.
      await first.kill();
      // Released only once the fake has seen the connection close, so the call is surely dropped.
      await held.clientGone;
      held.release();
      await waitFor(() => held.dropped, { what: 'the held message to be dropped' });
      expect(telegram.texts(chatId)).toHaveLength(0);

      // Were the turn generated again, the user would get this instead of the reply already written.
      ollama.chatReply = 'A different answer, written a second time.';
      try {
        await workers.start(env);
        await waitFor(async () => (await turnsOf(platform, bot.botId, chatId))[0]?.status === 'answered', { what: 'turn answered', timeoutMs: 30_000 });
      } finally {
        ollama.chatReply = REPLY;
      }
      const texts = telegram.texts(chatId);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toBe(row!.text);
      expect(ollama.chatRequests.length).toBe(modelCalls);
      expect(await ledger(platform, bot.botId, chatId)).toMatchObject([{ status: 'sent', text: row!.text }]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
