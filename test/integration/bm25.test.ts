import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkSearchRepository } from '../../src/db/chunk-search.repository.js';
import { openDatabase } from '../../src/db/database.js';
import { DocumentRepository } from '../../src/db/document.repository.js';
import { migrate } from '../../src/db/migrate.js';
import { plainBm25ChunkSearch } from '../../scripts/eval-retrieval.js';
import { createTestDatabase } from '../support/test-database.js';

// Full-text retrieval scores by BM25 over each bot's own statistics, kept by triggers as chunks are
// written (ingestion's swap) and removed (document and bot deletion). Same SQL on PostgreSQL and on
// the embedded PGlite.
describe.each([['PostgreSQL'], ['embedded PGlite']] as const)('BM25 full-text ranking on %s', (kind) => {
  let pool: pg.Pool;
  let close: () => Promise<void>;
  let documents: DocumentRepository;
  let search: ChunkSearchRepository;
  let creatorId: string;

  beforeAll(async () => {
    if (kind === 'PostgreSQL') {
      const database = await createTestDatabase();
      pool = database.pool;
      close = () => database.drop();
    } else {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-pglite-bm25-'));
      const database = await openDatabase({ dataDir, poolMax: 4 });
      await migrate(database.pool);
      pool = database.pool;
      close = async () => {
        await database.close();
        rmSync(dataDir, { recursive: true, force: true });
      };
    }
    documents = new DocumentRepository(pool);
    search = new ChunkSearchRepository(pool, { k1: 1.2, b: 0.75 });
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO creators (email, name, password_hash) VALUES ($1, 'C', 'x') RETURNING id`, [
      `${randomUUID()}@example.test`,
    ]);
    creatorId = rows[0]!.id;
  });
  afterAll(async () => {
    await close?.();
  });

  async function newBot(): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name) VALUES ($1, 'Coach') RETURNING id`, [creatorId]);
    return rows[0]!.id;
  }

  /** Writes a document's chunks the way ingestion does (one swap transaction); resolves to the document id. */
  async function ingest(botId: string, texts: string[], documentId?: string): Promise<string> {
    const id =
      documentId ??
      (await pool.query<{ id: string }>(`INSERT INTO documents (bot_id, title, source_kind, status) VALUES ($1, 'Doc', 'upload', 'processing') RETURNING id`, [botId]))
        .rows[0]!.id;
    await documents.replaceChunks({
      botId,
      documentId: id,
      chunks: texts.map((text, ordinal) => ({ id: randomUUID(), ordinal, page: null, location: null, text })),
      tsConfig: 'simple',
      contentHash: randomUUID(),
      sizeBytes: 1,
      mediaType: 'text/plain',
      pageCount: null,
      retrievalMode: 'lexical',
      embeddingModel: null,
    });
    return id;
  }

  async function scores(botId: string, words: string): Promise<Array<[string, number]>> {
    return (await search.scoreBm25(botId, 'simple', words, 10)).map(({ passage, score }) => [passage.documentId, score]);
  }

  /** The bot's kept statistics next to a recount from its live chunks: they must always agree. */
  async function statistics(botId: string) {
    const kept = await pool.query<{ chunk_count: string; token_count: string }>('SELECT chunk_count, token_count FROM bot_text_stats WHERE bot_id = $1', [botId]);
    const df = await pool.query<{ term: string; df: number }>('SELECT term, df FROM bot_term_frequencies WHERE bot_id = $1 ORDER BY term', [botId]);
    const recount = await pool.query<{ term: string; df: number }>(
      'SELECT t.lexeme AS term, count(*)::int AS df FROM chunks c, unnest(c.tsv) t WHERE c.bot_id = $1 GROUP BY t.lexeme ORDER BY t.lexeme',
      [botId],
    );
    expect(df.rows).toEqual(recount.rows);
    return {
      chunks: Number(kept.rows[0]?.chunk_count ?? 0),
      tokens: Number(kept.rows[0]?.token_count ?? 0),
      df: Object.fromEntries(df.rows.map((r) => [r.term, r.df])),
    };
  }

  it('scores three small documents exactly as BM25 computed by hand, and keeps scoring right as they are re-ingested and deleted', async () => {
    const botId = await newBot();
    const d1 = await ingest(botId, ['apple apple banana']);
    const d2 = await ingest(botId, ['apple cherry']);
    const d3 = await ingest(botId, ['banana cherry cherry durian']);
    expect(await statistics(botId)).toEqual({ chunks: 3, tokens: 9, df: { apple: 2, banana: 2, cherry: 2, durian: 1 } });

    // N = 3, avglen = 9 / 3 = 3, k1 = 1.2, b = 0.75.
    // idf(apple)  = ln(1 + (3 − 2 + 0.5) / (2 + 0.5)) = ln 1.6    = 0.470004
    // idf(durian) = ln(1 + (3 − 1 + 0.5) / (1 + 0.5)) = ln 2.6667 = 0.980829
    // d3: durian tf 1, len 4: 0.980829 · 1 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 4/3)) = 0.980829 · 2.2 / 2.5 = 0.863130
    // d1: apple tf 2, len 3:  0.470004 · 2 · 2.2 / (2 + 1.2 · (0.25 + 0.75 · 3/3)) = 0.470004 · 4.4 / 3.2 = 0.646255
    // d2: apple tf 1, len 2:  0.470004 · 1 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 2/3)) = 0.470004 · 2.2 / 1.9 = 0.544215
    // The rare word wins over the repeated common one (ts_rank has no idf and puts d1 first).
    const ranked = await scores(botId, 'apple durian');
    expect(ranked.map(([id]) => id)).toEqual([d3, d1, d2]);
    expect(ranked[0]![1]).toBeCloseTo(0.86313, 5);
    expect(ranked[1]![1]).toBeCloseTo(0.646255, 5);
    expect(ranked[2]![1]).toBeCloseTo(0.544215, 5);
    const asPassages = await search.lexical(botId, 'simple', 'apple durian', 10);
    expect(asPassages.map((p) => p.documentId)).toEqual([d3, d1, d2]);

    // d3 re-ingested without durian and cherry: their document frequencies go down, durian's row goes.
    await ingest(botId, ['banana banana'], d3);
    expect(await statistics(botId)).toEqual({ chunks: 3, tokens: 7, df: { apple: 2, banana: 2, cherry: 1 } });
    expect(await scores(botId, 'durian')).toEqual([]);
    // cherry: N = 3, df 1, avglen 7/3; d2 len 2: 0.980829 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 2 / (7/3))) = 1.041708
    const cherry = await scores(botId, 'cherry');
    expect(cherry.map(([id]) => id)).toEqual([d2]);
    expect(cherry[0]![1]).toBeCloseTo(1.041708, 5);

    // d1 deleted: N = 2, avglen 2, apple df 1: idf = ln 2, d2: ln 2 · 2.2 / (1 + 1.2 · 1) = 0.693147.
    expect(await documents.delete(creatorId, botId, d1)).toBe(true);
    expect(await statistics(botId)).toEqual({ chunks: 2, tokens: 4, df: { apple: 1, banana: 1, cherry: 1 } });
    const apple = await scores(botId, 'apple');
    expect(apple.map(([id]) => id)).toEqual([d2]);
    expect(apple[0]![1]).toBeCloseTo(Math.LN2, 5);
  });

  it('gives the same answer as a plain BM25 whether or not common words could be left out of the first candidates', async () => {
    const botId = await newBot();
    // "steady" is in 96 of 110 chunks (common: it could match most of a large bot); "anchor" in 4.
    await ingest(botId, [
      ...Array.from({ length: 92 }, (_, i) => `steady word${i}`),
      ...Array.from({ length: 4 }, (_, i) => `anchor habit${i} steady ${'steady '.repeat(i)}`),
      ...Array.from({ length: 14 }, (_, i) => `other thing${i}`),
    ]);
    const reference = await plainBm25ChunkSearch(pool, botId, { k1: 1.2, b: 0.75 });
    const same = async (words: string, limit: number) => {
      const ours = await search.scoreBm25(botId, 'simple', words, limit);
      const plain = await reference.lexical(botId, 'simple', words, limit);
      expect(ours.map((s) => s.passage.chunkId)).toEqual(plain.map((p) => p.chunkId));
      return ours;
    };
    // The three best hold "anchor": chunks with "steady" alone score too little to reach them.
    const top = await same('anchor steady', 3);
    expect(top.every((s) => s.passage.text.startsWith('anchor'))).toBe(true);
    // Ten asked for, four hold "anchor": chunks with "steady" alone must fill the rest.
    const ten = await same('anchor steady', 10);
    expect(ten.map((s) => s.passage.text.split(' ')[0])).toEqual([...Array(4).fill('anchor'), ...Array(6).fill('steady')]);
    // Only common words: all of them are searched.
    expect(await same('steady', 5)).toHaveLength(5);

    // Questions mixing words of every frequency over a bot of skewed vocabulary, as prose has.
    let seed = 42;
    const random = () => ((seed = (seed * 1_664_525 + 1_013_904_223) >>> 0) / 4_294_967_296);
    const word = () => `w${Math.floor(1 / (random() * 0.98 + 0.02))}`;
    const prose = await newBot();
    await ingest(prose, Array.from({ length: 300 }, () => Array.from({ length: 4 + Math.floor(random() * 30) }, word).join(' ')));
    const plain = await plainBm25ChunkSearch(pool, prose, { k1: 1.2, b: 0.75 });
    for (let i = 0; i < 40; i++) {
      const words = Array.from({ length: 2 + (i % 4) }, word).join(' ');
      const limit = [3, 10, 50][i % 3]!;
      const ours = (await search.scoreBm25(prose, 'simple', words, limit)).map((s) => s.passage.chunkId);
      expect(ours, words).toEqual((await plain.lexical(prose, 'simple', words, limit)).map((p) => p.chunkId));
    }
  });

  it("never lets one bot's documents change another bot's scores or results", async () => {
    const ours = await newBot();
    const a = await ingest(ours, ['apple apple banana']);
    const b = await ingest(ours, ['apple cherry']);
    const c = await ingest(ours, ['banana cherry cherry durian']);
    const before = await scores(ours, 'apple durian cherry');
    expect(before.map(([id]) => id).sort()).toEqual([a, b, c].sort());

    // Another bot where apple is everywhere and durian is rare would rank differently if statistics mixed.
    const theirs = await newBot();
    for (let i = 0; i < 6; i++) await ingest(theirs, [`apple apple cherry pie number${i}`]);
    const theirDurian = await ingest(theirs, ['durian durian durian durian']);
    expect(await scores(ours, 'apple durian cherry')).toEqual(before);
    expect((await scores(theirs, 'durian')).map(([id]) => id)).toEqual([theirDurian]);
    expect(await statistics(theirs)).toMatchObject({ chunks: 7 });

    // Deleting the other bot (its chunks go by cascade) leaves ours as it was and its statistics gone.
    await pool.query('DELETE FROM bots WHERE id = $1', [theirs]);
    expect(await scores(ours, 'apple durian cherry')).toEqual(before);
    expect((await pool.query('SELECT 1 FROM bot_term_frequencies WHERE bot_id = $1 UNION ALL SELECT 1 FROM bot_text_stats WHERE bot_id = $1', [theirs])).rowCount).toBe(0);
  });
});
