/**
 * Retrieval latency on the real PostgreSQL + pgvector: hybrid retrieval for one bot (vector + full
 * text + fusion, query embedding given) against the naive baseline of a plain nearest-neighbour
 * scan over the same rows, at 10k and 100k chunks spread over 20 bots of skewed sizes.
 *
 *   npm run bench:retrieval [-- --sizes 10000,100000 --queries 300 --unprepared]
 *
 * Prints a table and writes bench/results/retrieval-<timestamp>.json. Figures, not assertions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { toSql } from 'pgvector/pg';
import { HybridRetriever } from '../rag/retrieve.js';
import { PgVectorStore } from '../rag/stores/pgvector.store.js';
import type { Embedder } from '../rag/types.js';
import { ChunkSearchRepository } from '../src/db/chunk-search.repository.js';
import { migrate } from '../src/db/migrate.js';
import { withPgClient } from '../test/support/test-database.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '300' },
    bots: { type: 'string', default: '20' },
    dims: { type: 'string', default: '768' },
    // Leaves the database in place (its name is printed) for EXPLAIN ANALYZE afterwards.
    keep: { type: 'boolean', default: false },
    // Plans the full-text statement on every query instead of preparing it per connection, as the platform does on PostgreSQL.
    unprepared: { type: 'boolean', default: false },
    // Stores vectors inline in the heap instead of TOAST before loading: a proposed migration
    // (ALTER TABLE chunk_embeddings ALTER COLUMN embedding SET STORAGE MAIN), measured here first.
    'inline-vectors': { type: 'boolean', default: false },
  },
});
const SIZES = args.sizes.split(',').map(Number);
const QUERIES = Number(args.queries);
const BOTS = Number(args.bots);
const DIMS = Number(args.dims);
const TOPICS = 200;
const MODEL = 'bench-embed';
const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// Deterministic pseudo-random numbers, so every run measures the same data.
let seed = 20_240_601;
function random(): number {
  seed = (seed * 1_664_525 + 1_013_904_223) >>> 0;
  return seed / 4_294_967_296;
}
function gaussian(): number {
  return Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

// Synthetic text shaped like real prose: stop words (FILLER), a general vocabulary of 20k words
// with Zipf–Mandelbrot frequencies (q = 10: the head of plain Zipf is made of stop words, which
// FILLER already plays and full-text search drops), and per-topic terms (a few coaching words plus
// rarer ones) that make a creator's niche.
const COACHING = `sleep habit routine morning evening energy focus stress breathing calm anxiety coffee caffeine nap
  bedtime wake light screen phone protein vegetables hydration meal lunch dinner breakfast snack sugar craving hunger
  training strength squat deadlift run running walk mobility stretch recovery rest injury muscle progress weight
  interval tempo endurance goal plan review value motivation reward streak journal gratitude meditation attention
  distraction pomodoro boundary burnout nature travel alcohol posture monitor coach mindset setback accountability`
  .split(/\s+/)
  .filter(Boolean);
const FILLER = 'the a to and of in for with on is it you your this that can be when more less often most some'.split(' ');
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'te', 'vi', 'do', 'pe', 'ga', 'fo', 'li', 'mu', 'ba', 'zo', 'ri', 'ta', 'en', 'or'];
const GENERAL = Array.from({ length: 20_000 }, (_, i) => {
  let word = '';
  for (let n = i + 400; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return word;
});
// Cumulative weights 1 / (rank + 10) over GENERAL, sampled by binary search.
const ZIPF = (() => {
  const cumulative: number[] = [];
  let sum = 0;
  for (let rank = 1; rank <= GENERAL.length; rank++) cumulative.push((sum += 1 / (rank + 10)));
  return cumulative.map((c) => c / sum);
})();
function generalWord(): string {
  const r = random();
  let lo = 0;
  let hi = ZIPF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return GENERAL[lo]!;
}

function topicWords(topic: number): string[] {
  const coaching = Array.from({ length: 8 }, (_, i) => COACHING[(topic * 31 + i * 7) % COACHING.length]!);
  const rare = Array.from({ length: 32 }, (_, i) => GENERAL[2_000 + ((topic * 97 + i * 389) % 18_000)]!);
  return [...coaching, ...rare];
}

function chunkText(topic: number): string {
  const words = topicWords(topic);
  const out: string[] = [];
  for (let length = 0; length < 900; ) {
    const r = random();
    const word = r < 0.35 ? pick(FILLER) : r < 0.5 ? pick(words) : generalWord();
    out.push(word);
    length += word.length + 1;
  }
  return `${out.join(' ')}.`;
}

const centroids = Array.from({ length: TOPICS }, () => Array.from({ length: DIMS }, gaussian));
function embedding(topic: number, noise = 0.6): number[] {
  const v = centroids[topic]!.map((x) => x + noise * gaussian());
  const norm = Math.hypot(...v);
  return v.map((x) => Number((x / norm).toFixed(6)));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function summarise(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean: sorted.reduce((s, x) => s + x, 0) / sorted.length, n: sorted.length };
}
async function time<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await work();
  return [performance.now() - started, result];
}

const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withPgClient(adminUrl, work);

interface SizeResult {
  chunks: number;
  bots: Array<{ id: string; chunks: number; path: 'hnsw' | 'exact' }>;
  loadSeconds: number;
  indexSeconds: number;
  hybrid: ReturnType<typeof summarise>;
  hybridByPath: Record<string, ReturnType<typeof summarise>>;
  vectorOnly: ReturnType<typeof summarise>;
  lexicalOnly: ReturnType<typeof summarise>;
  /** The full-text leg ranked by ts_rank (the ranking before BM25), same queries, same run. */
  lexicalTsRank: ReturnType<typeof summarise>;
  baseline: ReturnType<typeof summarise>;
  ratioP95: number;
  vectorRecallAt10: number;
}

async function runSize(total: number): Promise<SizeResult> {
  const name = `t_bench_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // A generous maintenance_work_mem keeps the HNSW graph build in memory.
  const pool = new pg.Pool({ connectionString: url.toString(), max: 8, options: '-c maintenance_work_mem=1GB' });
  try {
    await migrate(pool);
    if (args['inline-vectors']) await pool.query('ALTER TABLE chunk_embeddings ALTER COLUMN embedding SET STORAGE MAIN');
    // Tenant sizes are skewed in practice: bot i holds a share proportional to 1 / (i + 1).
    const weights = Array.from({ length: BOTS }, (_, i) => 1 / (i + 1));
    const weightSum = weights.reduce((s, w) => s + w, 0);
    const counts = weights.map((w) => Math.max(1, Math.round((w / weightSum) * total)));
    const { rows: creators } = await pool.query<{ id: string }>(
      `INSERT INTO creators (email, name, password_hash) VALUES ('bench@example.test', 'Bench', 'x') RETURNING id`,
    );
    const bots: Array<{ id: string; chunks: number; topics: number[] }> = [];
    for (const count of counts) {
      const { rows } = await pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name) VALUES ($1, 'bench') RETURNING id`, [creators[0]!.id]);
      // Each bot covers a handful of topics, like a creator's niche.
      bots.push({ id: rows[0]!.id, chunks: count, topics: Array.from({ length: 8 }, () => Math.floor(random() * TOPICS)) });
    }

    const [loadMs] = await time(async () => {
      for (const bot of bots) {
        const perDocument = 20;
        for (let done = 0; done < bot.chunks; ) {
          const batch = Math.min(500, bot.chunks - done);
          const ids: string[] = [];
          const documents: string[] = [];
          const ordinals: number[] = [];
          const texts: string[] = [];
          const vectors: string[] = [];
          let documentId = '';
          for (let i = 0; i < batch; i++) {
            if ((done + i) % perDocument === 0) {
              documentId = randomUUID();
              await pool.query(
                `INSERT INTO documents (id, bot_id, title, source_kind, status, retrieval_mode, embedding_model, chunk_count)
                 VALUES ($1, $2, $3, 'upload', 'ready', 'hybrid', $4, $5)`,
                [documentId, bot.id, `Document ${done + i}`, MODEL, perDocument],
              );
            }
            const topic = pick(bot.topics);
            ids.push(randomUUID());
            documents.push(documentId);
            ordinals.push((done + i) % perDocument);
            texts.push(chunkText(topic));
            vectors.push(toSql(embedding(topic)));
          }
          await pool.query(
            `INSERT INTO chunks (id, bot_id, document_id, ordinal, text, ts_config)
             SELECT id, $1, document_id, ordinal, text, 'english' FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[]) AS t(id, document_id, ordinal, text)`,
            [bot.id, ids, documents, ordinals, texts],
          );
          await pool.query(
            `INSERT INTO chunk_embeddings (chunk_id, bot_id, document_id, model, dims, embedding)
             SELECT id, $1, document_id, $6, $2, embedding::vector FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS t(id, document_id, embedding)`,
            [bot.id, DIMS, ids, documents, vectors, MODEL],
          );
          done += batch;
        }
      }
      await pool.query('VACUUM ANALYZE');
    });

    const store = new PgVectorStore(pool);
    const [indexMs] = await time(() => store.prepareDimension(DIMS));
    await pool.query('ANALYZE chunk_embeddings');

    const embedder: Embedder = { model: MODEL, available: async () => true, embed: async () => [] };
    // As the platform runs on PostgreSQL: the full-text statement prepared per connection.
    const chunks = new ChunkSearchRepository(pool, { prepared: !args.unprepared });
    const retriever = new HybridRetriever(chunks, store, embedder);
    const lexicalOnly = new HybridRetriever(chunks, store, undefined);
    const lexicalTsRankOnly = new HybridRetriever(new ChunkSearchRepository(pool, { prepared: !args.unprepared, ranking: 'ts_rank' }), store, undefined);
    const exactStore = new PgVectorStore(pool, { exactBelow: Number.MAX_SAFE_INTEGER });

    const queries = Array.from({ length: QUERIES }, () => {
      const bot = pick(bots);
      const topic = pick(bot.topics);
      const words = topicWords(topic);
      return { bot, text: `how can I ${pick(words)} my ${pick(words)} with ${generalWord()}?`, vector: embedding(topic, 0.9) };
    });
    // Which bots the store searches through the HNSW index (the others: exact scan of their rows).
    const largeBots = new Set<string>();
    for (const bot of bots) if (await store.searchesByIndex(bot.id, DIMS)) largeBots.add(bot.id);

    // Warm-up: caches and plans, as in a running service.
    for (const q of queries.slice(0, 30)) {
      await retriever.retrieveWith(q.bot.id, q.text, { k: 10 }, q.vector);
      await lexicalTsRankOnly.retrieveWith(q.bot.id, q.text, { k: 10 }, null);
    }

    const hybrid: number[] = [];
    const byPath: Record<string, number[]> = { hnsw: [], exact: [] };
    const vector: number[] = [];
    const lexical: number[] = [];
    const lexicalTsRank: number[] = [];
    const baseline: number[] = [];
    let recallHits = 0;
    let recallTotal = 0;
    for (const q of queries) {
      const [hybridMs] = await time(() => retriever.retrieveWith(q.bot.id, q.text, { k: 10 }, q.vector));
      hybrid.push(hybridMs);
      byPath[largeBots.has(q.bot.id) ? 'hnsw' : 'exact']!.push(hybridMs);
      const [vectorMs, hits] = await time(() => store.query(q.bot.id, q.vector, 50, MODEL));
      vector.push(vectorMs);
      const [lexicalMs] = await time(() => lexicalOnly.retrieveWith(q.bot.id, q.text, { k: 10 }, null));
      lexical.push(lexicalMs);
      const [tsRankMs] = await time(() => lexicalTsRankOnly.retrieveWith(q.bot.id, q.text, { k: 10 }, null));
      lexicalTsRank.push(tsRankMs);
      const [baselineMs] = await time(() =>
        pool.query('SELECT chunk_id FROM chunk_embeddings ORDER BY embedding <=> $1 LIMIT 10', [toSql(q.vector)]),
      );
      baseline.push(baselineMs);
      if (largeBots.has(q.bot.id)) {
        const truth = new Set((await exactStore.query(q.bot.id, q.vector, 10, MODEL)).map((h) => h.chunkId));
        recallHits += hits.slice(0, 10).filter((h) => truth.has(h.chunkId)).length;
        recallTotal += truth.size;
      }
    }
    const hybridSummary = summarise(hybrid);
    const baselineSummary = summarise(baseline);
    return {
      chunks: total,
      bots: bots.map((b) => ({ id: b.id, chunks: b.chunks, path: largeBots.has(b.id) ? 'hnsw' : 'exact' })),
      loadSeconds: loadMs / 1000,
      indexSeconds: indexMs / 1000,
      hybrid: hybridSummary,
      hybridByPath: Object.fromEntries(Object.entries(byPath).filter(([, s]) => s.length).map(([k, s]) => [k, summarise(s)])),
      vectorOnly: summarise(vector),
      lexicalOnly: summarise(lexical),
      lexicalTsRank: summarise(lexicalTsRank),
      baseline: baselineSummary,
      ratioP95: baselineSummary.p95 / hybridSummary.p95,
      vectorRecallAt10: recallTotal ? recallHits / recallTotal : NaN,
    };
  } finally {
    await pool.end();
    if (args.keep) console.log(`  kept database ${name}`);
    else await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

const ms = (x: number) => x.toFixed(2).padStart(8);
const results: SizeResult[] = [];
for (const size of SIZES) {
  console.log(`loading ${size} chunks (${DIMS}-d) across ${BOTS} bots…`);
  const result = await runSize(size);
  results.push(result);
  console.log(`  loaded in ${result.loadSeconds.toFixed(1)} s, HNSW built in ${result.indexSeconds.toFixed(1)} s`);
}

console.log(`\nlatency in ms (p50 / p95), k=10, query embedding given; vectors ${args['inline-vectors'] ? 'inline (STORAGE MAIN)' : 'in TOAST (schema as migrated)'}`);
console.log('chunks   | hybrid p50 | hybrid p95 | vector p95 | lexical p95 | baseline p50 | baseline p95 | baseline/hybrid p95 | vector recall@10 (HNSW bots)');
for (const r of results) {
  console.log(
    `${String(r.chunks).padEnd(8)} | ${ms(r.hybrid.p50)}   | ${ms(r.hybrid.p95)}   | ${ms(r.vectorOnly.p95)}   | ${ms(r.lexicalOnly.p95)}    | ${ms(r.baseline.p50)}     | ${ms(r.baseline.p95)}     | ${r.ratioP95.toFixed(1).padStart(8)}x           | ${Number.isNaN(r.vectorRecallAt10) ? '   n/a' : r.vectorRecallAt10.toFixed(3)}`,
  );
  console.log(
    `         full text alone: BM25 p50 ${r.lexicalOnly.p50.toFixed(2)} p95 ${r.lexicalOnly.p95.toFixed(2)}; ts_rank (before) p50 ${r.lexicalTsRank.p50.toFixed(2)} p95 ${r.lexicalTsRank.p95.toFixed(2)}`,
  );
  for (const [route, s] of Object.entries(r.hybridByPath)) {
    const count = r.bots.filter((b) => b.path === route).length;
    console.log(`         hybrid for the ${count} bots searched ${route === 'hnsw' ? 'through HNSW' : 'exactly'}: p50 ${s.p50.toFixed(2)} p95 ${s.p95.toFixed(2)} (n=${s.n})`);
  }
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `retrieval-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      benchmark: 'retrieval',
      date: new Date().toISOString(),
      dims: DIMS,
      bots: BOTS,
      queries: QUERIES,
      vectorStorage: args['inline-vectors'] ? 'main' : 'external',
      target: 'hybrid p95 <= 25 ms at 100k',
      results,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
