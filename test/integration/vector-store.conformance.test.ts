import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChromaVectorStore } from '../../rag/stores/chroma.store.js';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import type { VectorRecord, VectorStore } from '../../rag/types.js';
import { createPool, openDatabase } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

interface StoreUnderTest {
  store: VectorStore;
  /** The database the chunks live in, when the store lives there too (it then offers queryPassages). */
  pool?: pg.Pool;
  dispose(): Promise<void>;
}

async function pgvectorStore(options: ConstructorParameters<typeof PgVectorStore>[1]): Promise<StoreUnderTest> {
  const db: TestDatabase = await createTestDatabase();
  const store = new PgVectorStore(db.pool, options);
  return { store, pool: db.pool, dispose: async () => (await store.close(), await db.drop()) };
}

interface SeedDocument {
  title: string;
  /** The model its vectors came from (documents.embedding_model). */
  model: string;
  chunks: Array<{ text: string; page?: number }>;
}

/**
 * A bot with documents and live chunks, as ingestion leaves them (vectors are upserted separately):
 * returns the bot id and, per document, its id and chunk ids.
 */
async function seedBot(pool: pg.Pool, documents: SeedDocument[]): Promise<{ botId: string; documents: Array<{ id: string; chunkIds: string[] }> }> {
  const { rows: creators } = await pool.query<{ id: string }>(
    `INSERT INTO creators (email, name, password_hash) VALUES ($1, 'Seed', 'x') RETURNING id`,
    [`${randomUUID()}@example.test`],
  );
  const { rows: bots } = await pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name) VALUES ($1, 'Seed coach') RETURNING id`, [creators[0]!.id]);
  const botId = bots[0]!.id;
  const seeded: Array<{ id: string; chunkIds: string[] }> = [];
  for (const document of documents) {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO documents (bot_id, title, source_kind, status, retrieval_mode, embedding_model, chunk_count)
       VALUES ($1, $2, 'upload', 'ready', 'hybrid', $3, $4) RETURNING id`,
      [botId, document.title, document.model, document.chunks.length],
    );
    const documentId = rows[0]!.id;
    const chunkIds: string[] = [];
    for (const [ordinal, chunk] of document.chunks.entries()) {
      const { rows: inserted } = await pool.query<{ id: string }>(
        `INSERT INTO chunks (bot_id, document_id, ordinal, page, text) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [botId, documentId, ordinal, chunk.page ?? null, chunk.text],
      );
      chunkIds.push(inserted[0]!.id);
    }
    seeded.push({ id: documentId, chunkIds });
  }
  return { botId, documents: seeded };
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
        pool: database.pool,
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

// The embedding model the cases' vectors come from, unless a case is about models.
const MODEL = 'embed-a';

function records(documentId: string, embeddings: number[][], model = MODEL): VectorRecord[] {
  return embeddings.map((embedding) => ({ chunkId: randomUUID(), documentId, model, embedding }));
}

describe.each(factories)('VectorStore conformance: %s', (_name, factory) => {
  const itBesideChunks = (name: string, fn: () => Promise<void>): void => {
    if (_name.startsWith('pgvector')) it(name, fn);
  };
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
    const hits = await store.query(bot, query, 3, MODEL);

    expect(hits.map((h) => h.chunkId)).toEqual([exact!.chunkId, near!.chunkId, far!.chunkId]);
    expect(hits.every((h) => h.documentId === doc)).toBe(true);
    expect(hits[0]!.score).toBeCloseTo(cosine(query, exact!.embedding), 4);
    expect(hits[1]!.score).toBeCloseTo(cosine(query, near!.embedding), 4);
    expect(hits[2]!.score).toBeCloseTo(0, 4);
  });

  it('returns at most k hits', async () => {
    const bot = randomUUID();
    await store.upsert(bot, records(randomUUID(), Array.from({ length: 10 }, (_, i) => vec(i % DIMS, (i + 1) % DIMS, 0.1 * (i % 5)))));
    expect(await store.query(bot, vec(0), 3, MODEL)).toHaveLength(3);
    expect(await store.query(bot, vec(0), 1, MODEL)).toHaveLength(1);
    expect(await store.query(bot, vec(0), 50, MODEL)).toHaveLength(10);
  });

  it('replaces a chunk’s vector when it is upserted again', async () => {
    const bot = randomUUID();
    const doc = randomUUID();
    const [chunk, other] = records(doc, [vec(0), vec(1)]);
    await store.upsert(bot, [chunk!, other!]);
    await store.upsert(bot, [{ ...chunk!, embedding: vec(3) }]);

    const hits = await store.query(bot, vec(3), 10, MODEL);
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ chunkId: chunk!.chunkId, documentId: doc });
    expect(hits[0]!.score).toBeCloseTo(1, 4);
    // The old vector is gone: querying for it finds nothing identical.
    const old = await store.query(bot, vec(0), 10, MODEL);
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
    const ids = async (botId: string) => new Set((await store.query(botId, vec(0, 1, 0.5), 50, MODEL)).map((h) => h.chunkId));

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

    const hits = await store.query(botB, query, 5, MODEL);
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
    const [found] = await store.query(botC, vec(7), 1, MODEL);
    expect(found).toMatchObject({ chunkId: witness!.chunkId, documentId: witness!.documentId });
    expect(found!.score).toBeCloseTo(1, 4);
  });

  // Stores beside the chunks (pgvector) answer retrieval's vector side in one statement; the others
  // do not offer it (retrieval then looks the passages up itself), so these cases are theirs alone.
  itBesideChunks('answers with the live passages of its nearest vectors, in the order of query', async () => {
    const pool = subject.pool!;
    const seeded = await seedBot(pool, [
      { title: 'Sleep basics', model: 'embed-a', chunks: [{ text: 'Keep a fixed wake time.', page: 3 }, { text: 'Dim the lights.' }, { text: 'Skip late coffee.' }] },
      { title: 'Old model notes', model: 'embed-b', chunks: [{ text: 'Embedded by another model.' }] },
    ]);
    const [a, b] = seeded.documents;
    const [wake, dim, coffee] = a!.chunkIds;
    const otherModel = b!.chunkIds[0]!;
    const orphan = randomUUID(); // a vector whose chunk was replaced, as during re-ingestion
    await store.upsert(seeded.botId, [
      { chunkId: wake!, documentId: a!.id, model: 'embed-a', embedding: vec(0) },
      { chunkId: dim!, documentId: a!.id, model: 'embed-a', embedding: vec(0, 1, 0.3) },
      { chunkId: coffee!, documentId: a!.id, model: 'embed-a', embedding: vec(2) },
      { chunkId: otherModel, documentId: b!.id, model: 'embed-b', embedding: vec(0, 1, 0.1) },
      { chunkId: orphan, documentId: a!.id, model: 'embed-a', embedding: vec(0, 1, 0.05) },
    ]);
    const query = vec(0, 1, 0.1);
    const hits = await store.query(seeded.botId, query, 10, 'embed-a');
    expect(hits.map((h) => h.chunkId)).toEqual([orphan, wake, dim, coffee]);
    const scoreOf = (chunkId: string) => hits.find((h) => h.chunkId === chunkId)!.score;

    const passages = await store.queryPassages!(seeded.botId, query, 10, 'embed-a');
    expect(passages).toEqual([
      { chunkId: wake, documentId: a!.id, title: 'Sleep basics', text: 'Keep a fixed wake time.', page: 3, location: { kind: 'page', value: 3 }, score: expect.closeTo(scoreOf(wake!), 5) },
      { chunkId: dim, documentId: a!.id, title: 'Sleep basics', text: 'Dim the lights.', page: null, location: null, score: expect.closeTo(scoreOf(dim!), 5) },
      { chunkId: coffee, documentId: a!.id, title: 'Sleep basics', text: 'Skip late coffee.', page: null, location: null, score: expect.closeTo(scoreOf(coffee!), 5) },
    ]);
    // Each model answers for its own documents; k bounds the vectors searched, before the live ones are kept.
    expect((await store.queryPassages!(seeded.botId, query, 10, 'embed-b')).map((p) => p.chunkId)).toEqual([otherModel]);
    expect((await store.queryPassages!(seeded.botId, query, 2, 'embed-a')).map((p) => p.chunkId)).toEqual([wake]);
  });

  itBesideChunks('never returns another bot’s passages, even through a vector filed under the wrong bot (cross-tenant canary)', async () => {
    const pool = subject.pool!;
    const victim = await seedBot(pool, [{ title: 'Private retreat', model: 'embed-a', chunks: [{ text: 'Canary: quokka marmalade.' }, { text: 'Canary two.' }] }]);
    const searcher = await seedBot(pool, [{ title: 'Own notes', model: 'embed-a', chunks: [{ text: 'Breathe slowly.' }] }]);
    const query = vec(0, 1, 0.2);
    const [canary, unvectored] = victim.documents[0]!.chunkIds;
    await store.upsert(victim.botId, [{ chunkId: canary!, documentId: victim.documents[0]!.id, model: MODEL, embedding: query }]);
    const own = searcher.documents[0]!;
    // Identical to the query, filed under the searcher but naming the victim's chunk: only its own live chunks may count.
    await store.upsert(searcher.botId, [
      { chunkId: own.chunkIds[0]!, documentId: own.id, model: MODEL, embedding: vec(3) },
      { chunkId: unvectored!, documentId: victim.documents[0]!.id, model: MODEL, embedding: query },
    ]);

    const passages = await store.queryPassages!(searcher.botId, query, 10, 'embed-a');
    expect(passages.map((p) => p.title)).toEqual(['Own notes']);
    expect(JSON.stringify(passages)).not.toMatch(/Canary|quokka/);
    // The canary is found for its owner, so its absence above is isolation, not luck.
    expect((await store.queryPassages!(victim.botId, query, 10, 'embed-a')).map((p) => p.text)).toEqual(['Canary: quokka marmalade.']);
  });

  it('keeps each model’s vectors of a chunk apart, of any dimension, and deletes them by model', async () => {
    const bot = randomUUID();
    const doc = randomUUID();
    const [first, second] = records(doc, [vec(0), vec(1)], 'embed-a');
    // The same chunks re-embedded by a model of another dimension, as while a bot switches models.
    const wide = [
      { chunkId: first!.chunkId, documentId: doc, model: 'embed-b:latest', embedding: vec(5, undefined, 0, 12) },
      { chunkId: second!.chunkId, documentId: doc, model: 'embed-b:latest', embedding: vec(11, undefined, 0, 12) },
    ];
    await store.upsert(bot, [first!, second!]);
    await store.upsert(bot, wide);
    // Upserting a batch again adds nothing.
    await store.upsert(bot, wide);
    const ids = async (embedding: number[], model: string) => (await store.query(bot, embedding, 10, model)).map((h) => h.chunkId);

    expect(await ids(vec(0), 'embed-a')).toEqual([first!.chunkId, second!.chunkId]);
    expect(await ids(vec(11, undefined, 0, 12), 'embed-b:latest')).toEqual([second!.chunkId, first!.chunkId]);
    expect((await store.query(bot, vec(5, undefined, 0, 12), 10, 'embed-b:latest'))[0]!.score).toBeCloseTo(1, 4);
    expect(await store.query(bot, vec(0), 10, 'embed-c')).toEqual([]);

    // The old model's vectors go once the document is switched; the new model's stay.
    await store.deleteDocument(bot, doc, 'embed-a');
    expect(await ids(vec(0), 'embed-a')).toEqual([]);
    expect(await ids(vec(5, undefined, 0, 12), 'embed-b:latest')).toEqual([first!.chunkId, second!.chunkId]);
    // A chunk deleted without naming models loses its vectors of every model.
    await store.upsert(bot, [first!]);
    await store.deleteChunks(bot, [first!.chunkId]);
    expect(await ids(vec(0), 'embed-a')).toEqual([]);
    expect(await ids(vec(5, undefined, 0, 12), 'embed-b:latest')).toEqual([second!.chunkId]);
    await store.deleteBot(bot);
    expect(await ids(vec(5, undefined, 0, 12), 'embed-b:latest')).toEqual([]);
  });

  it('keeps bots on different embedding dimensions apart', async () => {
    const small = randomUUID();
    const large = randomUUID();
    const smallRecords = records(randomUUID(), [vec(0, undefined, 0, 8), vec(1, undefined, 0, 8)]);
    const largeRecords = records(randomUUID(), [vec(0, undefined, 0, 12), vec(11, undefined, 0, 12), vec(5, 0, 0.5, 12)]);
    await store.upsert(small, smallRecords);
    await store.upsert(large, largeRecords);

    const fromSmall = await store.query(small, vec(0, undefined, 0, 8), 10, MODEL);
    const fromLarge = await store.query(large, vec(0, undefined, 0, 12), 10, MODEL);
    expect(fromSmall.map((h) => h.chunkId)).toEqual([smallRecords[0]!.chunkId, smallRecords[1]!.chunkId]);
    expect(fromLarge.map((h) => h.chunkId)).toEqual([largeRecords[0]!.chunkId, largeRecords[2]!.chunkId, largeRecords[1]!.chunkId]);
    expect(fromLarge[0]!.score).toBeCloseTo(1, 4);
  });
});

describe('PgVectorStore on a large bot (HNSW path)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('walks the HNSW index, filters by bot during the scan and still returns k of the bot’s own nearest vectors', async () => {
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
    const hits = await store.query(small, query, 10, MODEL);

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

  it('gives the same nearest passages through the index, with its settings kept to that one search', async () => {
    // One connection, so a setting that outlived the search would show on the next statement.
    const pool = createPool(db.url, 1);
    try {
      const store = new PgVectorStore(pool, { exactBelow: 100, efSearch: 10 });
      const random = (seed: number) => {
        let x = seed;
        return () => ((x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648) * 2 - 1;
      };
      const next = random(7);
      const randomVector = () => Array.from({ length: DIMS }, next);
      // Model names are matched as given, quotes included.
      const model = "coach's-embed:latest";
      const seeded = await seedBot(pool, [{ title: 'Habits', model, chunks: Array.from({ length: 150 }, (_, i) => ({ text: `Habit note ${i}`, page: i + 1 })) }]);
      const document = seeded.documents[0]!;
      await store.upsert(
        seeded.botId,
        document.chunkIds.map((chunkId) => ({ chunkId, documentId: document.id, model, embedding: randomVector() })),
      );
      await pool.query('ANALYZE chunk_embeddings');
      expect(await store.searchesByIndex(seeded.botId, DIMS)).toBe(true);
      const indexScans = async () =>
        (await pool.query<{ n: number }>(`SELECT idx_scan::int AS n FROM pg_stat_user_indexes WHERE indexrelname = 'chunk_embeddings_hnsw_${DIMS}'`)).rows[0]?.n ?? 0;
      const before = await indexScans();

      const query = randomVector();
      const hits = await store.query(seeded.botId, query, 10, model);
      const passages = await store.queryPassages(seeded.botId, query, 10, model);

      expect(passages).toHaveLength(10);
      expect(passages.map((p) => p.chunkId)).toEqual(hits.map((h) => h.chunkId));
      const ordinal = (chunkId: string) => document.chunkIds.indexOf(chunkId);
      expect(passages.map((p) => [p.title, p.text, p.page])).toEqual(passages.map((p) => ['Habits', `Habit note ${ordinal(p.chunkId)}`, ordinal(p.chunkId) + 1]));
      expect(await store.queryPassages(seeded.botId, query, 10, 'another-model')).toEqual([]);
      expect((await pool.query<{ enable_sort: string }>('SHOW enable_sort')).rows[0]!.enable_sort).toBe('on');
      await waitFor(async () => (await indexScans()) >= before + 2, { timeoutMs: 5_000, what: 'HNSW index scans in pg_stat_user_indexes' });
    } finally {
      await pool.end();
    }
  });
});
