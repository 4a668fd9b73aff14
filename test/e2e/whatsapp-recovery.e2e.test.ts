import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { startGatedOllama } from '../support/gated-ollama.js';
import { flushQueueKeys } from '../support/redis-keys.js';
import { freePort } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import { deliverChanges, profile, userMessage, whatsappBot, whatsappLedger } from '../support/whatsapp-e2e.js';

const REPLY = 'Start with a two-minute version of the habit.';

let graph: FakeWhatsApp;
let ollama: FakeOllama;
const platforms: TestPlatform[] = [];
const workers = new ChildWorkers();

beforeAll(async () => {
  graph = await startFakeWhatsApp();
  ollama = await startFakeOllama({ chatReply: REPLY });
});

// Every worker process dies with its test, passed, failed or timed out.
afterEach(() => workers.killAll());

afterAll(async () => {
  await workers.close();
  for (const platform of platforms) await platform.stop();
  await graph?.close();
  await ollama?.close();
});

/** An API-only platform on Redis queues, listening on a real port. */
async function apiPlatform(env: Record<string, string> = {}) {
  const port = await freePort();
  const platform = await startTestPlatform(
    { PUBLIC_URL: `http://127.0.0.1:${port}`, WHATSAPP_GRAPH_URL: graph.url, WHATSAPP_RECIPIENT_GAP_MS: '0', OLLAMA_HOST: ollama.url, REDIS_URL: testRedisUrl, ...env },
    { workers: false },
  );
  platforms.push(platform);
  await platform.app.listen({ host: '127.0.0.1', port });
  return { platform, baseUrl: `http://127.0.0.1:${port}` };
}

describe('WhatsApp when Redis loses its data', () => {
  it('the reconciler re-enqueues the stored message and it is answered once', async () => {
    const { platform, baseUrl } = await apiPlatform({ RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '300' });
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 } });
    const waId = '15557000001';
    const delivered = await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [userMessage(waId, 'wamid.redis1', 'text', { body: 'Are you there?' })] }]);
    expect(delivered.status).toBe(200);
    expect(await flushQueueKeys(platform.config.QUEUE_PREFIX)).toBeGreaterThan(0);

    platform.startWorkers();
    await graph.waitForMessages(1, { to: waId, timeoutMs: 30_000 });
    await waitFor(async () => (await whatsappLedger(platform, bot.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(graph.sentTo(waId)).toHaveLength(1);
  });
});

describe('a WhatsApp turn whose worker is killed', () => {
  it('is completed by the next worker: exactly one reply, ledger sent', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const gate = await startGatedOllama(ollama.url);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
    try {
      const { platform, baseUrl } = await apiPlatform();
      const env = workerEnvFor(platform, dataDir, {
        WHATSAPP_GRAPH_URL: graph.url,
        WHATSAPP_RECIPIENT_GAP_MS: '0',
        OLLAMA_HOST: gate.url,
      });
      const first = await workers.start(env);
      const bot = await whatsappBot(platform, graph, { settings: { mergeWindowMs: 0 } });
      const waId = '15557000002';
      await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [userMessage(waId, 'wamid.kill1', 'text', { body: 'How do I start a habit?' })] }]);

      // The turn is waiting for the model when the worker dies.
      await gate.waitForHeld(1);
      await first.kill();
      expect(graph.sentTo(waId)).toHaveLength(0);

      gate.release();
      await workers.start(env);
      await graph.waitForMessages(1, { to: waId, timeoutMs: 30_000 });
      await waitFor(async () => (await whatsappLedger(platform, bot.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
      expect(graph.sentTo(waId)).toHaveLength(1);
      expect(graph.sentTo(waId)[0]!.text).toContain(REPLY);
    } finally {
      await gate.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
