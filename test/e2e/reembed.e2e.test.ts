/**
 * Changing the embedding model re-embeds a bot's documents in the background: retrieval answers
 * from the old vectors until each document's new ones are complete, then switches; the old vectors
 * go. Two fake embedding models of different dimensions; a gate holds the new model's requests to
 * observe the state in between, and a worker killed mid-way is replaced by one that finishes.
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { freePort } from '../support/free-port.js';
import { startGatedOllama, type GatedOllama } from '../support/gated-ollama.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const OLD_MODEL = 'embed-small';
const NEW_MODEL = 'embed-wide';
const DIMS = { [OLD_MODEL]: 64, [NEW_MODEL]: 96 };

const TOPICS = [
  'Keep a fixed wake time every morning, weekends included, and let bedtime follow from it.',
  'Dim the lights an hour before bed; bright screens late at night push sleep back.',
  'A short nap of twenty minutes after lunch restores focus without ruining the night.',
  'Caffeine lingers for hours: the last coffee belongs before noon for light sleepers.',
  'Habits stick when they are tied to a cue you already have, such as brushing your teeth.',
  'Track one habit at a time on paper; a streak you can see is a streak you keep.',
  'Stretch the hips and hamstrings for five minutes after long stretches of sitting.',
  'Walk outside in daylight within an hour of waking to anchor your body clock.',
  'Write tomorrow’s three most important tasks before you stop working today.',
  'Breathe in for four counts and out for six when stress rises before a meeting.',
];

/** A Markdown guide whose paragraphs become one chunk each (CHUNK_SIZE 200). */
function guide(title: string, offset: number): Buffer {
  const paragraphs = TOPICS.map((_, i) => TOPICS[(i + offset) % TOPICS.length]!);
  return Buffer.from(`# ${title}\n\n${paragraphs.map((p, i) => `## Tip ${i + 1}\n\n${p}`).join('\n\n')}\n`);
}

interface DocumentView {
  id: string;
  chunks: number;
  embeddingModel?: string;
  reembedding?: { model: string; chunksDone: number; progress: number };
}

const env = {
  CHUNK_SIZE: '200',
  CHUNK_OVERLAP: '0',
  // Several batches per document, so progress moves in steps and a crash lands mid-way.
  EMBED_BATCH_SIZE: '2',
  INGEST_LOCK_DURATION_MS: '1500',
  INGEST_STALLED_INTERVAL_MS: '300',
};

async function vectorModels(pool: pg.Pool, botId: string): Promise<Array<{ model: string; dims: number; n: number; chunks: number }>> {
  const { rows } = await pool.query<{ model: string; dims: number; n: number; chunks: number }>(
    `SELECT model, dims, count(*)::int AS n, count(DISTINCT chunk_id)::int AS chunks FROM chunk_embeddings WHERE bot_id = $1 GROUP BY model, dims ORDER BY model`,
    [botId],
  );
  return rows;
}

/** Models the fake was asked to embed with since `from` (requests, in order). */
function embedModels(ollama: FakeOllama, from: number): string[] {
  return ollama.requests.slice(from).flatMap((r) => (r.path === '/api/embed' ? [String((r.body as { model: string }).model)] : []));
}

describe('a bot switching its embedding model (per-bot setting)', () => {
  let ollama: FakeOllama;
  let gate: GatedOllama;
  let platform: TestPlatform;
  let creator: CreatorSession;
  let base: string;
  const streams: LiveSse[] = [];

  beforeAll(async () => {
    ollama = await startFakeOllama({ models: [OLD_MODEL, NEW_MODEL, 'llama3.2:3b'], modelDims: DIMS });
    gate = await startGatedOllama(ollama.url, { holdPath: '/api/embed', holdModel: NEW_MODEL });
    platform = await startTestPlatform({ ...env, OLLAMA_HOST: gate.url, OLLAMA_EMBED_MODEL: OLD_MODEL });
    const port = await freePort();
    await platform.app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
    creator = await signUpCreator(platform.app);
  });
  afterAll(async () => {
    for (const stream of streams) stream.drop();
    // The gate first: a held request would keep the worker, and so the platform's shutdown, waiting.
    await gate?.close();
    await platform?.stop();
    await ollama?.close();
  });

  it('keeps answering from the old vectors until each document’s new ones are complete, then uses only the new model', async () => {
    const app = platform.app;
    const pool = platform.infrastructure.database.pool;
    const botId = (await createBot(app, creator.auth, { name: 'Sleep coach', language: 'en' })).id;
    const docs = [
      await uploadAndIngest(app, creator.auth, botId, { name: 'sleep.md', type: 'text/markdown', bytes: guide('Sleep guide', 0) }),
      await uploadAndIngest(app, creator.auth, botId, { name: 'habits.md', type: 'text/markdown', bytes: guide('Habit guide', 4) }),
    ];
    const totalChunks = docs.reduce((n, d) => n + d.chunks, 0);
    expect(totalChunks).toBeGreaterThanOrEqual(10);
    expect(await vectorModels(pool, botId)).toEqual([{ model: OLD_MODEL, dims: 64, n: totalChunks, chunks: totalChunks }]);
    const events = await openSse(`${base}/v1/bots/${botId}/events`, { headers: creator.auth });
    streams.push(events);
    await events.waitFor((e) => e.event === 'ready');

    const search = async (q: string) => {
      const response = await app.inject({ url: `/v1/bots/${botId}/search?q=${encodeURIComponent(q)}&k=3`, headers: creator.auth });
      expect(response.statusCode).toBe(200);
      return (response.json() as { results: Array<{ documentId: string; text: string }> }).results;
    };
    const listed = async () => ((await app.inject({ url: `/v1/bots/${botId}/documents`, headers: creator.auth })).json() as { documents: DocumentView[] }).documents;

    const patched = await app.inject({ method: 'PATCH', url: `/v1/bots/${botId}`, headers: creator.auth, payload: { settings: { embeddingModel: NEW_MODEL } } });
    expect(patched.statusCode).toBe(200);
    expect((patched.json() as { settings: { embeddingModel: string } }).settings.embeddingModel).toBe(NEW_MODEL);

    // The new model's first batch is held: every document is still searched by the old vectors.
    await gate.waitForHeld(1);
    const during = await listed();
    expect(during.map((d) => [d.embeddingModel, d.reembedding?.model])).toEqual([
      [OLD_MODEL, NEW_MODEL],
      [OLD_MODEL, NEW_MODEL],
    ]);
    const before = ollama.requests.length;
    const answers = await search('how long should a nap be after lunch');
    expect(answers.map((a) => a.text).join('\n')).toContain('nap of twenty minutes');
    // The question was embedded by the model the documents are searched by now, not the held one.
    expect(embedModels(ollama, before)).toEqual([OLD_MODEL]);
    expect((await vectorModels(pool, botId)).find((r) => r.model === OLD_MODEL)?.n).toBe(totalChunks);

    gate.release();
    // Progress is reported chunk batch by chunk batch, then the switch, per document.
    for (const doc of docs) {
      await events.waitFor((e) => e.event === 'reembed' && e.data.documentId === doc.id && e.data.status === 'switched', `${doc.id} switched`);
    }
    const progress = events.events.filter((e) => e.event === 'reembed' && e.data.documentId === docs[0]!.id && e.data.status === 'embedding').map((e) => e.data.done);
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(docs[0]!.chunks / 2));
    expect(progress).toEqual([...progress].sort((a, b) => Number(a) - Number(b)));
    expect(progress.at(-1)).toBe(docs[0]!.chunks);

    const after = await listed();
    expect(after.map((d) => [d.embeddingModel, d.reembedding])).toEqual([
      [NEW_MODEL, undefined],
      [NEW_MODEL, undefined],
    ]);
    // The old model's vectors are gone; each chunk has exactly one of the new model's, of its dimension.
    await waitFor(async () => (await vectorModels(pool, botId)).length === 1, { what: 'the old vectors to be deleted' });
    expect(await vectorModels(pool, botId)).toEqual([{ model: NEW_MODEL, dims: 96, n: totalChunks, chunks: totalChunks }]);
    const afterSwitch = ollama.requests.length;
    expect((await search('how long should a nap be after lunch')).map((a) => a.text).join('\n')).toContain('nap of twenty minutes');
    expect(embedModels(ollama, afterSwitch)).toEqual([NEW_MODEL]);
  });
});

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
      expect(first.stdout().split('\n').filter((line) => line.includes('re-embedding'))).toEqual([expect.stringContaining(`re-embedding 1 documents with ${NEW_MODEL} in the background`)]);
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
