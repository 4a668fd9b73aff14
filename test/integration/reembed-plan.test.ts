/**
 * Which documents are re-embedded, and what becomes of vectors of a model a document no longer
 * wants: the plan over real PostgreSQL, vectors in pgvector, jobs in BullMQ on Redis.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import { ReembedRepository } from '../../src/db/reembed.repository.js';
import { createJobQueues, type JobQueues } from '../../src/jobs/queues.js';
import { ReembedService, reembedJobId } from '../../src/knowledge/reembed.service.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';

const DEFAULT_MODEL = 'embed-a';

let db: TestDatabase;
let queues: JobQueues;
let vectors: PgVectorStore;
let service: ReembedService;
const cleanupErrors: unknown[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  queues = createJobQueues({ redisUrl: testRedisUrl, databaseUrl: db.url, prefix: uniquePrefix() });
  vectors = new PgVectorStore(db.pool, { hnsw: false });
  service = new ReembedService({
    store: new ReembedRepository(db.pool),
    queue: { ensure: (job, jobId) => queues.ensure('reembed', job, { jobId }) },
    vectors,
    defaultModel: DEFAULT_MODEL,
    onCleanupError: (err) => cleanupErrors.push(err),
  });
});
afterAll(async () => {
  await queues?.close();
  await db?.drop();
});

/** A bot (with its own embedding model, if given) and one embedded document of two chunks, with vectors of `model`. */
async function seed(options: { botModel?: string; model: string; retrievalMode?: 'hybrid' | 'lexical' }) {
  const { rows: creators } = await db.pool.query<{ id: string }>(`INSERT INTO creators (email, name, password_hash) VALUES ($1, 'Seed', 'x') RETURNING id`, [
    `${randomUUID()}@example.test`,
  ]);
  const settings = options.botModel ? { embeddingModel: options.botModel } : {};
  const { rows: bots } = await db.pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name, settings) VALUES ($1, 'Coach', $2) RETURNING id`, [
    creators[0]!.id,
    JSON.stringify(settings),
  ]);
  const botId = bots[0]!.id;
  const { rows: docs } = await db.pool.query<{ id: string }>(
    `INSERT INTO documents (bot_id, title, source_kind, status, retrieval_mode, embedding_model, chunk_count, ingested_at)
     VALUES ($1, 'Guide', 'upload', 'ready', $2, $3, 2, now()) RETURNING id`,
    [botId, options.retrievalMode ?? 'hybrid', options.retrievalMode === 'lexical' ? null : options.model],
  );
  const documentId = docs[0]!.id;
  const chunkIds = [randomUUID(), randomUUID()];
  for (const [ordinal, id] of chunkIds.entries()) {
    await db.pool.query(`INSERT INTO chunks (id, bot_id, document_id, ordinal, text) VALUES ($1, $2, $3, $4, 'Sleep well.')`, [id, botId, documentId, ordinal]);
  }
  if (options.retrievalMode !== 'lexical') {
    await vectors.upsert(
      botId,
      chunkIds.map((chunkId, i) => ({ chunkId, documentId, model: options.model, embedding: [1, i, 0] })),
    );
  }
  return { botId, documentId, chunkIds };
}

async function state(documentId: string) {
  const { rows } = await db.pool.query<{ reembed_model: string | null; retired: string | null }>(
    'SELECT reembed_model, retired_embedding_model AS retired FROM documents WHERE id = $1',
    [documentId],
  );
  return rows[0];
}

const vectorCount = async (botId: string, model: string) => (await vectors.query(botId, [1, 0, 0], 10, model)).length;

describe('re-embedding plan', () => {
  it('queues one job per document whose bot wants another model, and leaves the rest alone', async () => {
    const moving = await seed({ botModel: 'embed-b', model: DEFAULT_MODEL });
    const staying = await seed({ model: DEFAULT_MODEL });
    const lexical = await seed({ botModel: 'embed-b', model: DEFAULT_MODEL, retrievalMode: 'lexical' });

    const planned = await service.reconcile();
    expect(planned.documents).toBeGreaterThanOrEqual(1);
    expect(await state(moving.documentId)).toMatchObject({ reembed_model: 'embed-b' });
    expect(await state(staying.documentId)).toMatchObject({ reembed_model: null });
    expect(await state(lexical.documentId)).toMatchObject({ reembed_model: null });
    const job = { botId: moving.botId, documentId: moving.documentId, model: 'embed-b' };
    expect(await queues.jobState('reembed', reembedJobId(job))).toBe('waiting');
    // Planning again changes nothing and queues nothing twice.
    await service.reconcile(moving.botId);
    expect(await queues.counts('reembed')).toMatchObject({ waiting: 1 });
  });

  it('drops the half-written vectors of a model the bot no longer wants', async () => {
    const doc = await seed({ botModel: 'embed-b', model: DEFAULT_MODEL });
    await service.reconcile(doc.botId);
    // A first batch of the new model was written before the bot went back to the default.
    await vectors.upsert(doc.botId, [{ chunkId: doc.chunkIds[0]!, documentId: doc.documentId, model: 'embed-b', embedding: [1, 0, 0] }]);
    await db.pool.query(`UPDATE bots SET settings = '{}' WHERE id = $1`, [doc.botId]);

    await service.reconcile(doc.botId);

    expect(await state(doc.documentId)).toMatchObject({ reembed_model: null });
    expect(await vectorCount(doc.botId, 'embed-b')).toBe(0);
    expect(await vectorCount(doc.botId, DEFAULT_MODEL)).toBe(2);
  });

  it('deletes the vectors of the model a document left when the worker stopped before it could', async () => {
    const doc = await seed({ botModel: 'embed-b', model: DEFAULT_MODEL });
    // Switched to embed-b, its new vectors complete; the worker died before deleting the old ones.
    await vectors.upsert(
      doc.botId,
      doc.chunkIds.map((chunkId) => ({ chunkId, documentId: doc.documentId, model: 'embed-b', embedding: [0, 1, 0] })),
    );
    await db.pool.query(`UPDATE documents SET embedding_model = 'embed-b', retired_embedding_model = $2 WHERE id = $1`, [doc.documentId, DEFAULT_MODEL]);

    await service.reconcile();

    expect(await state(doc.documentId)).toMatchObject({ reembed_model: null, retired: null });
    expect(await vectorCount(doc.botId, DEFAULT_MODEL)).toBe(0);
    expect(await vectorCount(doc.botId, 'embed-b')).toBe(2);
    expect(cleanupErrors).toEqual([]);
  });
});
