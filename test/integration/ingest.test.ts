import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OllamaEmbedder } from '../../rag/embedders/ollama.embedder.js';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { UrlLoader } from '../../rag/loaders/url.loader.js';
import { TextSplitter } from '../../rag/split.js';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import { BotService } from '../../src/bots/bot.service.js';
import { BotRepository } from '../../src/db/bot.repository.js';
import { DocumentRepository } from '../../src/db/document.repository.js';
import { createJobQueues, type JobQueues } from '../../src/jobs/queues.js';
import { DocumentService, type DocumentSummary } from '../../src/knowledge/document.service.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { createIngestProcessor } from '../../workers/ingest.worker.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { fixture } from '../support/fixtures.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

let db: TestDatabase;
let queues: JobQueues;
let ollama: FakeOllama;
let metrics: Metrics;
let documents: DocumentService;
let vectors: PgVectorStore;
let web: Server;
let webOrigin: string;
/** What the local web server answers per path; tests change it to simulate an edited page. */
const pages = new Map<string, { type: string; body: string | Buffer }>();
let creatorId: string;
let botId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ollama = await startFakeOllama({ models: ['nomic-embed-text:latest'] });
  metrics = createMetrics();
  vectors = new PgVectorStore(db.pool);
  const repository = new DocumentRepository(db.pool);
  // Answers are cached for no time here, so stopping the fake is noticed by the next document.
  const embedder = new OllamaEmbedder({ host: ollama.url, model: 'nomic-embed-text', batchSize: 32, probeCacheMs: 0 });
  queues = createJobQueues({ redisUrl: testRedisUrl, databaseUrl: db.url, prefix: uniquePrefix() });
  const bots = new BotService({ bots: new BotRepository(db.pool), secretBox: new SecretBox(randomBytes(32).toString('hex')) });
  documents = new DocumentService({
    documents: repository,
    bots,
    queue: { enqueue: (job, jobId) => queues.enqueue('ingest', job, { jobId }) },
    vectors,
    embedder,
  });
  const files = createLoaderRegistry();
  const urls = new UrlLoader(files, { timeoutMs: 5_000, maxBytes: 5 * 1024 * 1024, allowPrivate: true });
  queues.work(
    'ingest',
    createIngestProcessor({
      documents: repository,
      sources: { load: (input) => files.load(input), fetch: (url) => urls.fetch(url) },
      splitter: new TextSplitter({ chunkSize: 1000, chunkOverlap: 150 }),
      embedder,
      vectors,
      embedBatchSize: 32,
      metrics,
      logger: createLogger('silent'),
    }),
    { concurrency: 2 },
  );

  web = createServer((req, res) => {
    const page = pages.get(req.url ?? '');
    if (!page) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': page.type }).end(page.body);
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webOrigin = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

  const { rows } = await db.pool.query("INSERT INTO creators (email, name, password_hash) VALUES ('coach@example.test', 'Coach', 'x') RETURNING id");
  creatorId = rows[0].id;
  botId = (await bots.create(creatorId, { name: 'Paper bot', language: 'en' })).id;
});

afterAll(async () => {
  await queues?.close();
  await ollama?.close();
  await new Promise((resolve) => (web ? web.close(resolve) : resolve(undefined)));
  await db?.drop();
});

/** Polls the document until it leaves queued/processing. */
function settled(documentId: string, timeoutMs = 30_000): Promise<DocumentSummary> {
  return waitFor(
    async () => {
      const d = await documents.get(creatorId, botId, documentId);
      return d.status === 'ready' || d.status === 'failed' ? d : undefined;
    },
    { timeoutMs, what: `document ${documentId} to settle` },
  );
}

async function chunkRows(documentId: string) {
  const { rows } = await db.pool.query<{ id: string; page: number | null; text: string; ts_config: string }>(
    'SELECT id, page, text, ts_config::text FROM chunks WHERE document_id = $1 ORDER BY ordinal',
    [documentId],
  );
  return rows;
}

async function vectorChunkIds(documentId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ chunk_id: string }>('SELECT chunk_id FROM chunk_embeddings WHERE document_id = $1 ORDER BY chunk_id', [documentId]);
  return rows.map((r) => r.chunk_id);
}

function upload(bytes: Buffer, filename: string, mediaType: string) {
  return documents.upload(creatorId, botId, { bytes, filename, mediaType });
}

describe('ingestion worker on the real database and queue', () => {
  let paperId: string;

  it('turns the uploaded paper into page-numbered, embedded chunks', async () => {
    const accepted = await upload(fixture('docs/pdfjs__tracemonkey.pdf'), 'tracemonkey.pdf', 'application/pdf');
    expect(accepted.status).toBe('queued');
    paperId = accepted.id;
    const ready = await settled(paperId);
    expect(ready).toMatchObject({ status: 'ready', error: null, pageCount: 14, retrievalMode: 'hybrid', embeddingModel: 'nomic-embed-text', progress: 1 });

    const chunks = await chunkRows(paperId);
    expect(ready.chunkCount).toBe(chunks.length);
    expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
    expect(chunks.find((c) => c.text.includes('Brendan Eich'))?.page).toBe(1);
    // The bot speaks English: its chunks are stemmed as English, so "specializations" finds "specialization".
    expect(new Set(chunks.map((c) => c.ts_config))).toEqual(new Set(['english']));
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM chunks WHERE document_id = $1 AND tsv @@ plainto_tsquery('english', 'specializations')",
      [paperId],
    );
    expect(rows[0].n).toBeGreaterThan(0);

    // One vector per chunk, and the nearest one to a page-1 sentence is on page 1.
    expect(await vectorChunkIds(paperId)).toEqual(chunks.map((c) => c.id).sort());
    const [hit] = await vectors.query(botId, ollama.embedding('Brendan Eich Mike Shaver David Anderson David Mandelin'), 1, 'nomic-embed-text');
    expect(chunks.find((c) => c.id === hit!.chunkId)?.page).toBe(1);
    expect(ollama.embeddedTexts.length).toBe(chunks.length);
    expect((await metrics.registry.getSingleMetricAsString('coach_ingest_documents_total'))).toMatch(/outcome="ready"} 1/);
  });

  it('re-ingesting an unchanged upload does no work', async () => {
    const before = { calls: ollama.embedCalls, chunks: (await chunkRows(paperId)).map((c) => c.id) };
    const answer = await documents.reingest(creatorId, botId, paperId);
    expect(answer.status).toBe('ready');
    expect((await settled(paperId)).status).toBe('ready');
    expect(ollama.embedCalls).toBe(before.calls);
    expect((await chunkRows(paperId)).map((c) => c.id)).toEqual(before.chunks);
  });

  it('stores a document lexical-only when no embedding model answers, and adds vectors once one does', async () => {
    await ollama.stop();
    try {
      const accepted = await upload(Buffer.from('# Sleep\n\nGo to bed at the same time every night.\n'), 'sleep.md', 'text/markdown');
      const ready = await settled(accepted.id);
      expect(ready).toMatchObject({ status: 'ready', retrievalMode: 'lexical', embeddingModel: null, chunkCount: 1, pageCount: null, title: 'Sleep' });
      expect(await vectorChunkIds(accepted.id)).toEqual([]);

      await ollama.start();
      const requeued = await documents.reingest(creatorId, botId, accepted.id);
      expect(requeued.status).toBe('queued');
      const upgraded = await settled(accepted.id);
      expect(upgraded).toMatchObject({ status: 'ready', retrievalMode: 'hybrid', embeddingModel: 'nomic-embed-text' });
      expect(await vectorChunkIds(accepted.id)).toEqual((await chunkRows(accepted.id)).map((c) => c.id));
    } finally {
      await ollama.start();
    }
  });

  it('a web page is fetched again on re-ingest: unchanged costs nothing, changed content replaces its chunks', async () => {
    pages.set('/habits', { type: 'text/html; charset=utf-8', body: '<html><head><title>Habits</title></head><body><p>Drink a glass of water after waking up.</p></body></html>' });
    const accepted = await documents.addUrl(creatorId, botId, { url: `${webOrigin}/habits` });
    expect(accepted.title).toBe(`${webOrigin}/habits`);
    const first = await settled(accepted.id);
    expect(first).toMatchObject({ status: 'ready', title: 'Habits', mediaType: 'text/html', retrievalMode: 'hybrid' });
    const firstChunks = await chunkRows(accepted.id);

    const calls = ollama.embedCalls;
    expect((await documents.reingest(creatorId, botId, accepted.id)).status).toBe('queued');
    expect((await settled(accepted.id)).status).toBe('ready');
    expect(ollama.requests.filter((r) => r.path === '/api/tags').length).toBeGreaterThan(0);
    expect(ollama.embedCalls).toBe(calls);
    expect((await chunkRows(accepted.id)).map((c) => c.id)).toEqual(firstChunks.map((c) => c.id));

    pages.set('/habits', { type: 'text/html', body: '<html><body><p>Walk for ten minutes after lunch.</p></body></html>' });
    await documents.reingest(creatorId, botId, accepted.id);
    await waitFor(async () => (await chunkRows(accepted.id)).some((c) => c.text.includes('Walk for ten minutes')), { what: 'the new content' });
    const replaced = await settled(accepted.id);
    expect(replaced.status).toBe('ready');
    const newChunks = await chunkRows(accepted.id);
    expect(newChunks.map((c) => c.text)).toEqual(['Walk for ten minutes after lunch.']);
    expect(newChunks.map((c) => c.id)).not.toContain(firstChunks[0]!.id);
    // The old chunk's vector went with it; only the new chunk has one.
    expect(await vectorChunkIds(accepted.id)).toEqual(newChunks.map((c) => c.id));
  });

  it('a corrupt PDF fails with its reason while the next document in the queue still becomes ready', async () => {
    const corrupt = await upload(fixture('docs/pdfjs__tracemonkey.pdf').subarray(0, 100_000), 'broken.pdf', 'application/pdf');
    const fine = await upload(Buffer.from('Morning pages: write three pages by hand.'), 'pages.txt', 'text/plain');
    const [failed, ready] = await Promise.all([settled(corrupt.id), settled(fine.id)]);
    expect(failed).toMatchObject({ status: 'failed', error: 'The PDF could not be read (it may be damaged)', chunkCount: 0 });
    expect(ready).toMatchObject({ status: 'ready', chunkCount: 1 });
    // Unreadable input is not retried: the job failed on its first attempt.
    const counts = await queues.counts('ingest');
    expect(counts.failed).toBe(1);
  });

  it('an embedding outage mid-document keeps the old chunks, removes the half-written vectors and recovers on retry', async () => {
    const body = Array.from({ length: 600 }, (_, i) => `Paragraph ${i}: breathe in for four counts, hold for seven, out for eight.`).join('\n\n');
    pages.set('/breathing', { type: 'text/plain', body: 'Box breathing: four counts each.' });
    const doc = await documents.addUrl(creatorId, botId, { url: `${webOrigin}/breathing`, title: 'Breathing' });
    await settled(doc.id);
    const oldChunks = (await chunkRows(doc.id)).map((c) => c.id);

    pages.set('/breathing', { type: 'text/plain', body });
    // The first batch of embeddings succeeds (its vectors are written), the next one hits the outage.
    ollama.failWith(503, { path: '/api/embed', afterCalls: 1 });
    const failuresBefore = ollama.failures.length;
    await documents.reingest(creatorId, botId, doc.id);
    try {
      // markRetrying follows the clean-up, so status queued after an embed failure means it is done.
      await waitFor(
        async () => ollama.failures.length > failuresBefore && (await documents.get(creatorId, botId, doc.id)).status === 'queued',
        { what: 'the failed attempt to be cleaned up' },
      );
      expect((await chunkRows(doc.id)).map((c) => c.id)).toEqual(oldChunks);
      expect(await vectorChunkIds(doc.id)).toEqual([...oldChunks].sort());
    } finally {
      ollama.failWith(null);
    }
    const recovered = await settled(doc.id);
    expect(recovered).toMatchObject({ status: 'ready', retrievalMode: 'hybrid' });
    const newChunks = await chunkRows(doc.id);
    expect(newChunks.length).toBeGreaterThan(1);
    expect(await vectorChunkIds(doc.id)).toEqual(newChunks.map((c) => c.id).sort());
  });

  it('records a readable failure once the last attempt at a temporary problem fails', async () => {
    ollama.failWith(503, { path: '/api/embed' });
    try {
      const bytes = Buffer.from('Stretch for five minutes.');
      const stored = await new DocumentRepository(db.pool).createUpload(creatorId, botId, {
        title: 'stretch.txt',
        filename: 'stretch.txt',
        mediaType: 'text/plain',
        bytes,
        contentHash: 'c0ffee',
      });
      // Two quick attempts instead of the production five with exponential backoff.
      await queues.enqueue('ingest', { documentId: stored!.id, botId }, { jobId: `ingest_${stored!.id}_c0ffee`, attempts: 2, backoff: { type: 'fixed', delay: 50 } });
      const embedFailures = ollama.failures.length;
      const failed = await settled(stored!.id);
      expect(ollama.failures.length - embedFailures).toBe(2);
      expect(failed).toMatchObject({ status: 'failed', error: 'The embedding model (Ollama) could not process the document; try re-ingesting later', chunkCount: 0 });
      expect(await vectorChunkIds(stored!.id)).toEqual([]);
    } finally {
      ollama.failWith(null);
    }
  });
});
