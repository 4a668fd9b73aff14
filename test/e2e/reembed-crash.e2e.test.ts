/**
 * A deployment restarted with another OLLAMA_EMBED_MODEL: start-up queues the re-embedding in the
 * background; the worker is killed mid-way (SIGKILL) and the one started after it resumes where it
 * stopped, leaving one vector per chunk of the new model and none of the old.
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startGatedOllama, type GatedOllama } from '../support/gated-ollama.js';
import { DIMS, NEW_MODEL, OLD_MODEL, guide, reembedEnv as env, vectorModels } from '../support/reembed-fixtures.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

describe('a deployment whose OLLAMA_EMBED_MODEL changed, its worker killed mid-way', () => {
  let ollama: FakeOllama;
  let gate: GatedOllama;
  let platform: TestPlatform;
  let pool: pg.Pool;
  let closed = false;
  const workers = new ChildWorkers();

  beforeAll(async () => {
    ollama = await startFakeOllama({ models: [OLD_MODEL, NEW_MODEL, 'llama3.2:3b'], modelDims: DIMS });
    // Lets one batch of the new model through, then holds: the worker dies with work done and to do.
    gate = await startGatedOllama(ollama.url, { holdPath: '/api/embed', holdModel: NEW_MODEL, passFirst: 1 });
    platform = await startTestPlatform({ ...env, REDIS_URL: testRedisUrl, OLLAMA_HOST: ollama.url, OLLAMA_EMBED_MODEL: OLD_MODEL });
    pool = new pg.Pool({ connectionString: platform.testDatabase.url, max: 2 });
  });
  afterEach(async () => {
    await workers.killAll();
  });
  afterAll(async () => {
    await workers.killAll();
    await gate?.close();
    await pool?.end();
    if (closed) {
      await platform.testDatabase.drop();
      rmSync(platform.config.DATA_DIR, { recursive: true, force: true });
    } else await platform?.stop();
    await ollama?.close();
  });

  it(
    'starts re-embedding in the background at start-up, resumes after the crash and ends with one vector per chunk',
    async () => {
      const creator = await signUpCreator(platform.app);
      const botId = (await createBot(platform.app, creator.auth, { name: 'Habit coach', language: 'en' })).id;
      const doc = await uploadAndIngest(platform.app, creator.auth, botId, { name: 'habits.md', type: 'text/markdown', bytes: guide('Habit guide', 2) });
      // The API stays up; only the workers restart with the new model.
      await platform.close();
      closed = true;

      const dataDir = platform.config.DATA_DIR;
      const first = await workers.start(workerEnvFor(platform, dataDir, { ...env, LOG_LEVEL: 'info', OLLAMA_HOST: gate.url, OLLAMA_EMBED_MODEL: NEW_MODEL }));
      await gate.waitForHeld(1, 60_000);
      // Start-up did not wait for it, and said so in one line.
      expect(first.stdout().split('\n').filter((line) => line.includes('re-embedding'))).toEqual([expect.stringContaining(`re-embedding 1 document with ${NEW_MODEL} in the background`)]);
      const midway = await pool.query<{ embedding_model: string; reembed_model: string; reembed_done: number }>(
        'SELECT embedding_model, reembed_model, reembed_done FROM documents WHERE id = $1',
        [doc.id],
      );
      expect(midway.rows[0]).toMatchObject({ embedding_model: OLD_MODEL, reembed_model: NEW_MODEL });
      expect(midway.rows[0]!.reembed_done).toBeGreaterThan(0);
      expect(midway.rows[0]!.reembed_done).toBeLessThan(doc.chunks);
      const doneBeforeCrash = midway.rows[0]!.reembed_done;
      await first.kill();

      const embeddedBefore = ollama.embeddedTexts.length;
      await workers.start(workerEnvFor(platform, dataDir, { ...env, OLLAMA_HOST: ollama.url, OLLAMA_EMBED_MODEL: NEW_MODEL }));
      await waitFor(
        async () => (await pool.query<{ m: string }>('SELECT embedding_model AS m FROM documents WHERE id = $1', [doc.id])).rows[0]?.m === NEW_MODEL || undefined,
        { timeoutMs: 60_000, what: 'the document to switch to the new model' },
      );
      await waitFor(async () => (await vectorModels(pool, botId)).length === 1 || undefined, { what: 'the old vectors to be deleted' });
      expect(await vectorModels(pool, botId)).toEqual([{ model: NEW_MODEL, dims: 96, n: doc.chunks, chunks: doc.chunks }]);
      // Resumed where it stopped: the chunks embedded before the crash were not embedded again.
      expect(ollama.embeddedTexts.length - embeddedBefore).toBe(doc.chunks - doneBeforeCrash);
    },
    WORKER_TEST_TIMEOUT_MS,
  );
});
