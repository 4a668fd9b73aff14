import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SET_ASIDE_REASON } from '../../workers/ingest.worker.js';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startGatedOllama, type GatedOllama } from '../support/gated-ollama.js';
import { multipart } from '../support/multipart.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let ollama: FakeOllama;
let gate: GatedOllama;
let dataDir: string;
const workers = new ChildWorkers();

beforeAll(async () => {
  ollama = await startFakeOllama({ models: ['nomic-embed-text:latest'] });
  // Holds every embedding request: a worker that reaches it is known to be mid-document.
  gate = await startGatedOllama(ollama.url, { holdPath: '/api/embed' });
  // The API alone; documents are processed by worker processes this test kills.
  platform = await startTestPlatform({ REDIS_URL: testRedisUrl }, { workers: false });
  dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
});

afterEach(() => workers.killAll());
afterAll(async () => {
  await platform?.stop();
  await gate?.close();
  await ollama?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('a document whose processing keeps taking its worker down', () => {
  it('is set aside as failed with the reason on the third claim, instead of crashing workers forever', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const env = workerEnvFor(platform, dataDir, {
      OLLAMA_HOST: gate.url,
      // Another worker takes a dead worker's document over within a couple of seconds.
      INGEST_LOCK_DURATION_MS: '1500',
      INGEST_STALLED_INTERVAL_MS: '300',
    });
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const body = multipart({ name: 'notes.md', type: 'text/markdown', bytes: Buffer.from('# Notes\n\nSleep eight hours.') });
    const accepted = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
    expect(accepted.statusCode).toBe(202);
    const documentUrl = `/v1/bots/${bot.id}/documents/${accepted.json().id}`;
    const document = async () => (await platform.app.inject({ method: 'GET', url: documentUrl, headers: session.auth })).json();

    // Twice, a worker takes the document and dies in the middle of it.
    for (const held of [1, 2]) {
      const worker = await workers.start(env);
      await gate.waitForHeld(held, 60_000);
      expect((await document()).status).toBe('processing');
      await worker.kill();
    }

    await workers.start(env);
    const settled = await waitFor(
      async () => {
        const current = await document();
        return current.status === 'failed' || current.status === 'ready' ? current : undefined;
      },
      { timeoutMs: 60_000, what: 'the document to be set aside' },
    );
    expect(settled).toMatchObject({ status: 'failed', error: SET_ASIDE_REASON });
    // The third worker never started on it: no third embedding request.
    expect(gate.held).toBe(2);
  });
});
