import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChromaVectorStore } from '../../rag/stores/chroma.store.js';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import type { VectorRecord, VectorStore } from '../../rag/types.js';
import { openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

interface StoreUnderTest {
  store: VectorStore;
  dispose(): Promise<void>;
}

async function pgvectorStore(options: ConstructorParameters<typeof PgVectorStore>[1]): Promise<StoreUnderTest> {
  const db: TestDatabase = await createTestDatabase();
  const store = new PgVectorStore(db.pool, options);
  return { store, dispose: async () => (await store.close(), await db.drop()) };
}

// Every implementation of VectorStore must pass the same cases (DESIGN.md, convention 3).
const factories: Array<[string, () => Promise<StoreUnderTest>]> = [
  ['pgvector', () => pgvectorStore({})],
  // As on embedded PGlite, but on the server: no index, exact search over the bot's rows.
  ['pgvector without HNSW', () => pgvectorStore({ hnsw: false })],
  [
    'pgvector on embedded PGlite',
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pglite-store-'));
      const database = await openDatabase({ dataDir, poolMax: 4 });
      await migrate(database.pool);
      const store = new PgVectorStore(database.pool, { hnsw: database.kind !== 'pglite' });
      return {
        store,
        dispose: async () => {
          await database.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'chroma',
    async () => {
      const store = new ChromaVectorStore(inject('chromaUrl'));
      return { store, dispose: () => store.close() };
    },
  ],
];

const DIMS = 8;

/** A unit vector along `axis`, nudged towards `towards` by `mix`. */
function vec(axis: number, towards?: number, mix = 0, dims = DIMS): number[] {
  const v = new Array<number>(dims).fill(0);
  v[axis] = 1 - mix;
  if (towards !== undefined) v[towards] = (v[towards] ?? 0) + mix;
  return v;
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return dot / (norm(a) * norm(b));
}

function records(documentId: string, embeddings: number[][]): VectorRecord[] {
  return embeddings.map((embedding) => ({ chunkId: randomUUID(), documentId, embedding }));
}

describe.each(factories)('VectorStore conformance: %s', (_name, factory) => {
  let subject: StoreUnderTest;
  let store: VectorStore;

  beforeAll(async () => {
    subject = await factory();
    store = subject.store;
  });
  afterAll(async () => {
    await subject?.dispose();
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('ranks the nearest vectors first, with cosine similarity as score', async () => {
    const bot = randomUUID();
    const doc = randomUUID();
    const [exact, near, far] = records(doc, [vec(0), vec(0, 1, 0.3), vec(2)]);
    await store.upsert(bot, [far!, exact!, near!]);

    const query = vec(0, 1, 0.1);
    const hits = await store.query(bot, query, 3);

    expect(hits.map((h) => h.chunkId)).toEqual([exact!.chunkId, near!.chunkId, far!.chunkId]);
    expect(hits.every((h) => h.documentId === doc)).toBe(true);
    expect(hits[0]!.score).toBeCloseTo(cosine(query, exact!.embedding), 4);
    expect(hits[1]!.score).toBeCloseTo(cosine(query, near!.embedding), 4);
    expect(hits[2]!.score).toBeCloseTo(0, 4);
  });

  it('returns at most k hits', async () => {
    const bot = randomUUID();
    await store.upsert(bot, records(randomUUID(), Array.from({ length: 10 }, (_, i) => vec(i % DIMS, (i + 1) % DIMS, 0.1 * (i % 5)))));
    expect(await store.query(bot, vec(0), 3)).toHaveLength(3);
    expect(await store.query(bot, vec(0), 1)).toHaveLength(1);
    expect(await store.query(bot, vec(0), 50)).toHaveLength(10);
  });

  it('replaces a chunk’s vector when it is upserted again', async () => {
    const bot = randomUUID();
    const doc = randomUUID();
    const [chunk, other] = records(doc, [vec(0), vec(1)]);
    await store.upsert(bot, [chunk!, other!]);
    await store.upsert(bot, [{ ...chunk!, embedding: vec(3) }]);

    const hits = await store.query(bot, vec(3), 10);
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ chunkId: chunk!.chunkId, documentId: doc });
    expect(hits[0]!.score).toBeCloseTo(1, 4);
    // The old vector is gone: querying for it finds nothing identical.
    const old = await store.query(bot, vec(0), 10);
    expect(old.find((h) => h.chunkId === chunk!.chunkId)!.score).toBeCloseTo(0, 4);
  });

  it('deletes exactly the given chunks, documents and bots', async () => {
    const bot = randomUUID();
    const otherBot = randomUUID();
    const [docA, docB] = [randomUUID(), randomUUID()];
    const a = records(docA, [vec(0), vec(1), vec(2)]);
    const b = records(docB, [vec(3), vec(4)]);
    const elsewhere = records(randomUUID(), [vec(0), vec(5)]);
    await store.upsert(bot, [...a, ...b]);
    await store.upsert(otherBot, elsewhere);
    const ids = async (botId: string) => new Set((await store.query(botId, vec(0, 1, 0.5), 50)).map((h) => h.chunkId));

    await store.deleteChunks(bot, [a[0]!.chunkId]);
    expect(await ids(bot)).toEqual(new Set([a[1]!.chunkId, a[2]!.chunkId, b[0]!.chunkId, b[1]!.chunkId]));

    await store.deleteDocument(bot, docA);
    expect(await ids(bot)).toEqual(new Set([b[0]!.chunkId, b[1]!.chunkId]));

    await store.deleteBot(bot);
    expect(await ids(bot)).toEqual(new Set());
    // The neighbouring bot is untouched by all of it.
    expect(await ids(otherBot)).toEqual(new Set(elsewhere.map((r) => r.chunkId)));
    // Deleting what does not exist is not an error.
    await store.deleteBot(bot);
    await store.deleteDocument(bot, docA);
    await store.deleteChunks(bot, [a[0]!.chunkId]);
  });

  it('never returns another bot’s vectors, even ones identical to the query (cross-tenant canary)', async () => {
    const botA = randomUUID();
    const botB = randomUUID();
    const query = vec(0, 1, 0.2);
    // Many canaries, all at distance 0 from the query, so an unfiltered nearest-neighbour scan
    // would fill any k with them before reaching bot B.
    const canaries = records(randomUUID(), Array.from({ length: 300 }, () => query));
    await store.upsert(botA, canaries);
    const own = records(randomUUID(), [vec(2), vec(3), vec(0, 4, 0.5), vec(5), vec(6)]);
    await store.upsert(botB, own);
    const canaryIds = new Set(canaries.map((c) => c.chunkId));

    const hits = await store.query(botB, query, 5);
    expect(hits.filter((h) => canaryIds.has(h.chunkId))).toEqual([]);
    // Bot B still gets all of its k nearest, nearest first.
    expect(new Set(hits.map((h) => h.chunkId))).toEqual(new Set(own.map((r) => r.chunkId)));
    expect(hits[0]!.chunkId).toBe(own[2]!.chunkId);

    // Writes scoped to bot B cannot reach another bot's vectors either.
    const botC = randomUUID();
    const [witness] = records(randomUUID(), [vec(7)]);
    await store.upsert(botC, [witness!]);
    await store.deleteChunks(botB, [witness!.chunkId]);
    await store.deleteDocument(botB, witness!.documentId);
    // Reusing the chunk id under bot B either fails or stays bot B's own record (Chroma).
    await store.upsert(botB, [{ ...witness!, embedding: vec(1) }]).catch(() => undefined);
    const [found] = await store.query(botC, vec(7), 1);
    expect(found).toMatchObject({ chunkId: witness!.chunkId, documentId: witness!.documentId });
    expect(found!.score).toBeCloseTo(1, 4);
  });

  it('keeps bots on different embedding dimensions apart', async () => {
    const small = randomUUID();
    const large = randomUUID();
    const smallRecords = records(randomUUID(), [vec(0, undefined, 0, 8), vec(1, undefined, 0, 8)]);
    const largeRecords = records(randomUUID(), [vec(0, undefined, 0, 12), vec(11, undefined, 0, 12), vec(5, 0, 0.5, 12)]);
    await store.upsert(small, smallRecords);
    await store.upsert(large, largeRecords);

    const fromSmall = await store.query(small, vec(0, undefined, 0, 8), 10);
    const fromLarge = await store.query(large, vec(0, undefined, 0, 12), 10);
    expect(fromSmall.map((h) => h.chunkId)).toEqual([smallRecords[0]!.chunkId, smallRecords[1]!.chunkId]);
    expect(fromLarge.map((h) => h.chunkId)).toEqual([largeRecords[0]!.chunkId, largeRecords[2]!.chunkId, largeRecords[1]!.chunkId]);
    expect(fromLarge[0]!.score).toBeCloseTo(1, 4);
  });
});

describe('PgVectorStore on a large bot (HNSW path)', () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it('walks the HNSW index, filters by bot during the scan and still returns k of the bot’s own nearest vectors', async () => {
    db = await createTestDatabase();
    // exactBelow 100: this bot counts as large; efSearch 10 makes single-pass HNSW visibly short.
    const store = new PgVectorStore(db.pool, { exactBelow: 100, efSearch: 10 });
    const random = (seed: number) => {
      let x = seed;
      return () => ((x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * 2 - 1;
    };
    const next = random(42);
    const randomVector = () => Array.from({ length: DIMS }, next);
    const big = randomUUID();
    const small = randomUUID();
    await store.upsert(big, records(randomUUID(), Array.from({ length: 2000 }, randomVector)));
    const own = records(randomUUID(), Array.from({ length: 150 }, randomVector));
    await store.upsert(small, own);
    await db.pool.query('ANALYZE chunk_embeddings');
    const indexScans = async () =>
      (await db.pool.query<{ n: number }>(`SELECT idx_scan::int AS n FROM pg_stat_user_indexes WHERE indexrelname = 'chunk_embeddings_hnsw_${DIMS}'`))
        .rows[0]?.n ?? 0;
    const before = await indexScans();

    const query = randomVector();
    const hits = await store.query(small, query, 10);

    // ef_search 10 over a graph where the bot holds 7% of the rows yields about one row of its own
    // per pass; only iterative scanning reaches ten.
    expect(hits).toHaveLength(10);
    const ownIds = new Set(own.map((r) => r.chunkId));
    expect(hits.every((h) => ownIds.has(h.chunkId))).toBe(true);
    const exact = [...own].sort((a, b) => cosine(query, b.embedding) - cosine(query, a.embedding)).slice(0, 10);
    const overlap = hits.filter((h) => exact.some((e) => e.chunkId === h.chunkId)).length;
    expect(overlap).toBeGreaterThanOrEqual(8);
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    // The answer came from the index, not from a scan of the bot's rows (statistics are flushed lazily).
    await waitFor(async () => (await indexScans()) > before, { timeoutMs: 5_000, what: 'an HNSW index scan in pg_stat_user_indexes' });
  });
});
