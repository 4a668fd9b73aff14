/**
 * Retrieval quality on a small labelled set, through the real platform: a fresh database, a
 * creator and bot made through the API, every corpus line uploaded as a document and ingested by
 * the ingest worker, then each question asked through the same HybridRetriever the bot uses.
 *
 *   npm run eval:retrieval -- --corpus test/data/eval/coaching-corpus.jsonl \
 *     --queries test/data/eval/coaching-queries.jsonl [--store pgvector|chroma] [--embeddings ollama|hashed] [--verbose]
 *
 * Corpus lines: {"id","title","text"}. Query lines: {"id","question","gold_ids":[...]}. A query is a
 * hit at k when a gold document is among the first k distinct documents of the ranked passages.
 * Database: DATABASE_URL if set, else a temporary `t_eval_<random>` on the local server (dropped at
 * the end), else embedded PGlite. Vectors need an embedding model at OLLAMA_HOST; without one the
 * evaluation is of full-text search alone (it says which). `--embeddings hashed` embeds with a local
 * stand-in for Ollama instead (test/support/fake-ollama.ts: word-hashed bags of words, a far weaker
 * signal than a real model), so the hybrid rows can be measured on a machine without one.
 *
 * Full text is ranked three ways in the same run, over the same chunks: by ts_rank (the ranking
 * before BM25), by the platform's BM25 in SQL, and by a plain BM25 written here (the reference: same
 * tokenisation, statistics counted from the chunks in memory); each alone and, with vectors, fused
 * with them as the bot retrieves. The target is the platform's recall@5 at least the reference's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { HybridRetriever } from '../rag/retrieve.js';
import type { ChunkPassage, ChunkSearch, Embedder, Retriever, VectorStore } from '../rag/types.js';
import { loadConfig } from '../src/config.js';
import { ChunkSearchRepository } from '../src/db/chunk-search.repository.js';
import { createLogger } from '../src/observability/logger.js';
import { createPlatform, type Platform } from '../src/platform.js';

export interface CorpusDocument {
  id: string;
  title: string;
  text: string;
}

export interface EvalQuery {
  id: string;
  question: string;
  gold_ids: string[];
}

export interface EvalReport {
  queries: number;
  /** 'hybrid' when every document got vectors, 'lexical' when none did. */
  retrievalMode: string;
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  mrr: number;
  /** Per query: the distinct corpus documents in rank order (first ten) and the first gold rank. */
  details: Array<{ id: string; ranked: string[]; goldRank: number | null }>;
}

/** Reads a JSON-lines file, skipping blank lines. */
export function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line) as T;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: ${(err as Error).message}`, { cause: err });
      }
    });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of several routes
async function call(app: FastifyInstance, options: InjectOptions, expected: number): Promise<any> {
  const response = await app.inject(options);
  if (response.statusCode !== expected) {
    throw new Error(`${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`);
  }
  return response.json();
}

/** Uploads one file as `POST /v1/bots/:botId/documents` (multipart: the title field, then the file); resolves to its id. */
export async function uploadDocument(
  app: FastifyInstance,
  auth: { authorization: string },
  botId: string,
  file: { title?: string; filename: string; bytes: Uint8Array | string; mediaType: string },
): Promise<string> {
  const form = new FormData();
  if (file.title) form.append('title', file.title);
  const content = typeof file.bytes === 'string' ? file.bytes : new Uint8Array(file.bytes);
  form.append('file', new Blob([content], { type: file.mediaType }), file.filename);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  const payload = Buffer.from(await request.arrayBuffer());
  const headers = { ...auth, 'content-type': request.headers.get('content-type') ?? '' };
  const created = await call(app, { method: 'POST', url: `/v1/bots/${botId}/documents`, headers, payload }, 202);
  return created.id as string;
}

/** Polls the bot's document list until every document is ready (throws on a failed one); resolves to their retrieval modes. */
export async function waitUntilReady(
  app: FastifyInstance,
  auth: { authorization: string },
  botId: string,
  expected: number,
  { timeoutMs = 120_000 } = {},
): Promise<Set<string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { documents } = (await call(app, { method: 'GET', url: `/v1/bots/${botId}/documents`, headers: auth }, 200)) as {
      documents: Array<{ id: string; title: string; status: string; error?: string; retrievalMode?: string | null }>;
    };
    const failed = documents.find((d) => d.status === 'failed');
    if (failed) throw new Error(`Ingestion of "${failed.title}" failed: ${failed.error}`);
    if (documents.length === expected && documents.every((d) => d.status === 'ready')) {
      return new Set(documents.map((d) => d.retrievalMode ?? 'unknown'));
    }
    if (Date.now() > deadline) throw new Error(`Documents not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Signs up a creator, creates a bot and uploads the corpus through the API; resolves once every document is ready. */
export async function ingestCorpus(
  app: FastifyInstance,
  corpus: CorpusDocument[],
): Promise<{ auth: { authorization: string }; botId: string; corpusIdByDocumentId: Map<string, string>; retrievalMode: string }> {
  const email = `eval-${randomBytes(6).toString('hex')}@example.test`;
  const session = await call(app, { method: 'POST', url: '/v1/auth/signup', payload: { email, password: 'evaluation password', name: 'Evaluation' } }, 201);
  const auth = { authorization: `Bearer ${session.accessToken as string}` };
  const bot = await call(app, { method: 'POST', url: '/v1/bots', headers: auth, payload: { name: 'Evaluation coach', language: 'en' } }, 201);
  const botId = bot.id as string;

  const corpusIdByDocumentId = new Map<string, string>();
  for (const doc of corpus) {
    const id = await uploadDocument(app, auth, botId, {
      title: doc.title,
      filename: `${doc.id}.txt`,
      bytes: `${doc.title}\n\n${doc.text}\n`,
      mediaType: 'text/plain',
    });
    corpusIdByDocumentId.set(id, doc.id);
  }
  const modes = await waitUntilReady(app, auth, botId, corpus.length);
  return { auth, botId, corpusIdByDocumentId, retrievalMode: [...modes].sort().join('+') };
}

/** Runs every query through the retriever and scores the ranked documents against the gold ids. */
export async function evaluate(
  knowledge: { retriever: Pick<Retriever, 'retrieve'> },
  botId: string,
  queries: EvalQuery[],
  corpusIdByDocumentId: Map<string, string>,
  retrievalMode: string,
): Promise<EvalReport> {
  const details: EvalReport['details'] = [];
  for (const query of queries) {
    // The most passages the API hands out; enough distinct documents for recall@10.
    const passages = await knowledge.retriever.retrieve(botId, query.question, { k: 50 });
    const ranked: string[] = [];
    for (const passage of passages) {
      const corpusId = corpusIdByDocumentId.get(passage.documentId) ?? passage.documentId;
      if (!ranked.includes(corpusId)) ranked.push(corpusId);
    }
    const index = ranked.findIndex((id) => query.gold_ids.includes(id));
    details.push({ id: query.id, ranked: ranked.slice(0, 10), goldRank: index === -1 ? null : index + 1 });
  }
  const recall = (k: number) => details.filter((d) => d.goldRank !== null && d.goldRank <= k).length / details.length;
  return {
    queries: details.length,
    retrievalMode,
    recallAt1: recall(1),
    recallAt5: recall(5),
    recallAt10: recall(10),
    mrr: details.reduce((sum, d) => sum + (d.goldRank ? 1 / d.goldRank : 0), 0) / details.length,
    details,
  };
}

/** Uploads the corpus to a fresh bot of `platform` and evaluates the queries against it. */
export async function evaluateOnPlatform(platform: Platform, corpus: CorpusDocument[], queries: EvalQuery[]): Promise<EvalReport & { botId: string }> {
  const { botId, corpusIdByDocumentId, retrievalMode } = await ingestCorpus(platform.app, corpus);
  return { ...(await evaluate(platform.knowledge, botId, queries, corpusIdByDocumentId, retrievalMode)), botId };
}

/**
 * A plain BM25 over one bot's chunks, in memory: the reference the SQL ranking is held to. It shares
 * only the tokenisation with the platform (each chunk's tsvector, the question through to_tsvector in
 * the bot's configuration); N, average length, document frequencies and scores are computed here.
 * It stands in for the full-text side of retrieval (profile and passage lookups are the platform's),
 * so the same HybridRetriever can rank by it alone or fuse it with vectors.
 */
export async function plainBm25ChunkSearch(pool: pg.Pool, botId: string, { k1, b }: { k1: number; b: number }): Promise<ChunkSearch> {
  const platform = new ChunkSearchRepository(pool);
  const { rows } = await pool.query<{ id: string; document_id: string; title: string; text: string; terms: Array<{ lexeme: string; tf: number }> }>(
    `SELECT c.id, c.document_id, d.title, c.text,
            COALESCE((SELECT json_agg(json_build_object('lexeme', lexeme, 'tf', COALESCE(array_length(positions, 1), 1))) FROM unnest(c.tsv)), '[]') AS terms
     FROM chunks c JOIN documents d ON d.id = c.document_id
     WHERE c.bot_id = $1`,
    [botId],
  );
  const chunks = rows.map((row) => ({ ...row, tf: new Map(row.terms.map((t) => [t.lexeme, t.tf])), length: row.terms.reduce((sum, t) => sum + t.tf, 0) }));
  const df = new Map<string, number>();
  for (const chunk of chunks) for (const term of chunk.tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = chunks.length;
  const avgLength = Math.max(1, chunks.reduce((sum, c) => sum + c.length, 0) / Math.max(1, n));
  return {
    profile: (id) => platform.profile(id),
    passages: (id, chunkIds, model) => platform.passages(id, chunkIds, model),
    async lexical(id: string, config: string, words: string, limit: number): Promise<ChunkPassage[]> {
      if (id !== botId) return [];
      const { rows: terms } = await pool.query<{ lexeme: string }>('SELECT lexeme FROM unnest(to_tsvector($1::regconfig, $2))', [config, words]);
      const scored = chunks.map((chunk) => {
        let score = 0;
        for (const { lexeme } of terms) {
          const tf = chunk.tf.get(lexeme);
          if (!tf) continue;
          const frequency = df.get(lexeme)!;
          const idf = Math.log(1 + (n - frequency + 0.5) / (frequency + 0.5));
          score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * chunk.length) / avgLength));
        }
        return { chunk, score };
      });
      return scored
        .filter((s) => s.score > 0)
        .sort((x, y) => y.score - x.score || (x.chunk.id < y.chunk.id ? -1 : 1))
        .slice(0, limit)
        .map(({ chunk }) => ({ chunkId: chunk.id, documentId: chunk.document_id, title: chunk.title, text: chunk.text, page: null, location: null }));
    },
  };
}

/** Recall and MRR of one full-text ranking, alone and (with an embedder) fused with vectors. */
export interface RankingComparison {
  tsRank: EvalReport;
  bm25: EvalReport;
  reference: EvalReport;
  /** The platform's BM25 recall@5 is at least the plain reference's. */
  targetMet: boolean;
}

export type LexicalComparison = RankingComparison;

/**
 * One bot's queries ranked three ways over the same chunks — ts_rank, the platform's BM25 in SQL and
 * the plain BM25 above — by full text alone or, given an embedder, fused with vectors by RRF as the
 * bot retrieves.
 */
export async function compareRankings(
  pool: pg.Pool,
  vectors: VectorStore,
  embedder: Embedder | undefined,
  botId: string,
  queries: EvalQuery[],
  corpusIdByDocumentId: Map<string, string>,
  bm25: { k1: number; b: number },
): Promise<RankingComparison> {
  const mode = embedder ? 'hybrid' : 'lexical';
  const run = async (search: ChunkSearch) =>
    evaluate({ retriever: new HybridRetriever(search, vectors, embedder) }, botId, queries, corpusIdByDocumentId, mode);
  const tsRank = await run(new ChunkSearchRepository(pool, { ranking: 'ts_rank', ...bm25 }));
  const ours = await run(new ChunkSearchRepository(pool, { ranking: 'bm25', ...bm25 }));
  const reference = await run(await plainBm25ChunkSearch(pool, botId, bm25));
  return { tsRank, bm25: ours, reference, targetMet: ours.recallAt5 >= reference.recallAt5 };
}

/** Full text alone on one bot, ranked by ts_rank, by the platform's BM25 and by the plain reference, over the same chunks. */
export function compareLexicalRankings(
  pool: pg.Pool,
  vectors: VectorStore,
  botId: string,
  queries: EvalQuery[],
  corpusIdByDocumentId: Map<string, string>,
  bm25: { k1: number; b: number },
): Promise<LexicalComparison> {
  return compareRankings(pool, vectors, undefined, botId, queries, corpusIdByDocumentId, bm25);
}

const adminDatabaseUrl = process.env.EVAL_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database for this run: DATABASE_URL, else a temporary one on the local server, else none (PGlite). */
async function chooseDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, drop: async () => undefined };
  const admin = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch {
    return { drop: async () => undefined };
  }
  const name = `t_eval_${randomBytes(5).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string' },
      queries: { type: 'string' },
      store: { type: 'string', default: 'pgvector' },
      embeddings: { type: 'string', default: 'ollama' },
      verbose: { type: 'boolean', default: false },
    },
  });
  if (!values.corpus || !values.queries || !['pgvector', 'chroma'].includes(values.store) || !['ollama', 'hashed'].includes(values.embeddings)) {
    console.error('usage: npm run eval:retrieval -- --corpus FILE --queries FILE [--store pgvector|chroma] [--embeddings ollama|hashed] [--verbose]');
    process.exit(64);
  }
  const corpus = readJsonLines<CorpusDocument>(values.corpus);
  const queries = readJsonLines<EvalQuery>(values.queries);

  const database = await chooseDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-eval-'));
  // A local Chroma server for this run when none is configured.
  const chroma =
    values.store === 'chroma' && !process.env.CHROMA_URL ? await (await import('../test/support/chroma-server.js')).startChromaServer() : undefined;
  const hashed = values.embeddings === 'hashed' ? await (await import('../test/support/fake-ollama.js')).startFakeOllama({ models: ['nomic-embed-text:latest'] }) : undefined;
  let platform: Platform | undefined;
  try {
    const config = loadConfig({
      ...process.env,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      QUEUE_PREFIX: `eval_${randomBytes(4).toString('hex')}`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      VECTOR_STORE: values.store,
      CHROMA_URL: process.env.CHROMA_URL ?? chroma?.url,
      ...(hashed ? { OLLAMA_HOST: hashed.url, OLLAMA_EMBED_MODEL: 'nomic-embed-text:latest' } : {}),
      RATE_LIMIT_MAX: '1000000',
      AUTH_RATE_LIMIT_MAX: '1000000',
      // The corpus is larger than the default Free plan allows; this measures retrieval, not plans.
      PLANS_JSON: JSON.stringify([{ id: 'free', name: 'Evaluation', limits: { bots: null, documents: null, storageBytes: null, repliesPerMonth: null, contacts: null } }]),
    });
    platform = await createPlatform(config, createLogger(config.LOG_LEVEL));
    platform.startWorkers();
    const { botId, corpusIdByDocumentId, retrievalMode } = await ingestCorpus(platform.app, corpus);
    const report = await evaluate(platform.knowledge, botId, queries, corpusIdByDocumentId, retrievalMode);
    const bm25 = { k1: config.RETRIEVAL_BM25_K1, b: config.RETRIEVAL_BM25_B };
    const { pool } = platform.infrastructure.database;
    const { vectorStore, embedder } = platform.knowledge;
    const lexical = await compareRankings(pool, vectorStore, undefined, botId, queries, corpusIdByDocumentId, bm25);
    const hybrid = retrievalMode === 'hybrid' ? await compareRankings(pool, vectorStore, embedder, botId, queries, corpusIdByDocumentId, bm25) : undefined;
    if (values.verbose) {
      for (const d of report.details) {
        if (d.goldRank !== 1) console.log(`${d.id}: gold at ${d.goldRank ?? '>10'}; ranked ${d.ranked.slice(0, 5).join(', ')}`);
      }
    }
    const vectorsFrom = hashed ? 'word-hashed stand-in embeddings' : `${config.OLLAMA_EMBED_MODEL} at ${config.OLLAMA_HOST}`;
    console.log(
      `${report.queries} queries over ${corpus.length} documents; store ${values.store} on ${platform.infrastructure.database.kind}; retrieval ${report.retrievalMode}` +
        (report.retrievalMode === 'hybrid' ? ` (vectors: ${vectorsFrom})` : ' (no embedding model answered: full text alone)'),
    );
    const row = (name: string, r: EvalReport) =>
      console.log(`${name.padEnd(64)} ${[r.recallAt1, r.recallAt5, r.recallAt10, r.mrr].map((x) => x.toFixed(4).padStart(9)).join(' ')}`);
    console.log(`${'ranking'.padEnd(64)} ${['recall@1', 'recall@5', 'recall@10', 'MRR'].map((h) => h.padStart(9)).join(' ')}`);
    const rows = (label: string, c: RankingComparison) => {
      row(`${label}: ts_rank (before)`, c.tsRank);
      row(`${label}: BM25 in SQL (k1=${bm25.k1}, b=${bm25.b})`, c.bm25);
      row(`${label}: plain BM25 (reference, this script)`, c.reference);
    };
    rows('full text alone', lexical);
    if (hybrid) rows('hybrid (RRF with vectors)', hybrid);
    row(`as the bot retrieves (${report.retrievalMode})`, report);
    console.log(
      `target (BM25 recall@5 >= plain BM25 recall@5), full text alone: ${lexical.bm25.recallAt5.toFixed(4)} vs ${lexical.reference.recallAt5.toFixed(4)}: ${lexical.targetMet ? 'met' : 'NOT met'}` +
        (hybrid ? `; hybrid: ${hybrid.bm25.recallAt5.toFixed(4)} vs ${hybrid.reference.recallAt5.toFixed(4)}: ${hybrid.targetMet ? 'met' : 'NOT met'}` : ''),
    );
  } finally {
    await platform?.close();
    await chroma?.stop();
    await hashed?.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
