import pg from 'pg';
import { toSql } from 'pgvector/pg';
import type { VectorHit, VectorPassage, VectorRecord, VectorStore } from '../types.js';
import { PASSAGE_COLUMNS, toPassage, type PassageRow } from './passage-row.js';
import { isUuid } from '../../src/postgres/ids.js';
import { inTransaction } from '../../src/postgres/transaction.js';

export interface PgVectorStoreOptions {
  /**
   * Build and use per-dimension HNSW indexes. Off on embedded PGlite, where HNSW inserts are an
   * order of magnitude slower in WASM (DESIGN.md) and exact search is fast enough for its scale.
   */
  hnsw?: boolean;
  /**
   * Bots with fewer vectors than this (of the query's dimension) are searched exactly: scanning
   * their own rows is fast at this size (bench/retrieval.bench.ts measures it).
   */
  exactBelow?: number;
  /**
   * Bots holding less than this share of the table are searched exactly too. HNSW filters by bot
   * while walking the graph and gives up after hnsw.max_scan_tuples (20k) rows, so a bot that is a
   * sliver of a large table could come back short.
   */
  exactBelowShare?: number;
  /** Candidate list size of the HNSW scan; at least the largest k asked for. */
  efSearch?: number;
  /** Rows per INSERT statement when upserting. */
  batchSize?: number;
}

// pgvector cannot index `vector` columns wider than this with HNSW; wider models use exact search.
const HNSW_MAX_DIMS = 2000;
// Several processes may meet a new dimension at once; only one should build its index.
const INDEX_LOCK_KEY = 7_411_022_101;
// How long a bot's size class (exact or HNSW) is trusted before it is counted again.
const SIZE_TTL_MS = 60_000;

/** How a statement names the search's inputs: bind parameters, or literals in a one-round-trip script. */
interface StatementInput {
  bot: string;
  vector: string;
  model: string;
}

interface ScoredPassageRow extends PassageRow {
  score: number;
  /** Position in the nearest-neighbour search's answer (bigint, so a string). */
  rank: string;
}

/** `[x,y,…]` for a vector literal; only finite numbers get through, so it is safe to inline. */
function vectorLiteral(embedding: number[]): string {
  if (!embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new RangeError('An embedding holds only finite numbers');
  return `[${embedding.join(',')}]`;
}

function dimsOf(embedding: number[]): number {
  const dims = embedding.length;
  if (!Number.isInteger(dims) || dims < 1 || dims > 16_000) throw new RangeError(`Unsupported embedding dimension ${dims}`);
  return dims;
}

/**
 * Vectors in PostgreSQL (`chunk_embeddings`), one HNSW partial expression index per dimension so bots
 * on different embedding models share the table without mixing.
 */
export class PgVectorStore implements VectorStore {
  readonly name = 'pgvector' as const;
  private readonly hnsw: boolean;
  private readonly exactBelow: number;
  private readonly exactBelowShare: number;
  private readonly efSearch: number;
  private readonly batchSize: number;
  private readonly indexedDims = new Map<number, Promise<void>>();
  /** Per bot, per dimension: whether it is searched through the index, and since when we know. */
  private readonly sizes = new Map<string, Map<number, { large: boolean; at: number }>>();

  constructor(
    private readonly pool: pg.Pool,
    options: PgVectorStoreOptions = {},
  ) {
    this.hnsw = options.hnsw ?? true;
    this.exactBelow = options.exactBelow ?? 2_000;
    this.exactBelowShare = options.exactBelowShare ?? 0.01;
    this.efSearch = options.efSearch ?? 200;
    this.batchSize = options.batchSize ?? 200;
  }

  async upsert(botId: string, records: VectorRecord[]): Promise<void> {
    if (!records.length) return;
    // One row per chunk (the last record wins): a statement may not update the same row twice.
    const byDims = new Map<number, Map<string, VectorRecord>>();
    for (const record of records) {
      const dims = dimsOf(record.embedding);
      if (!byDims.has(dims)) byDims.set(dims, new Map());
      byDims.get(dims)?.set(`${record.chunkId} ${record.model}`, record);
    }
    for (const dims of byDims.keys()) await this.prepareDimension(dims);
    await inTransaction(this.pool, async (client) => {
      for (const [dims, unique] of byDims) {
        const group = [...unique.values()];
        for (let i = 0; i < group.length; i += this.batchSize) {
          const batch = group.slice(i, i + this.batchSize);
          const values: unknown[] = [botId, dims];
          const rows = batch.map((r) => {
            values.push(r.chunkId, r.documentId, r.model, toSql(r.embedding));
            const n = values.length;
            return `($${n - 3}::uuid, $1::uuid, $${n - 2}::uuid, $${n - 1}::text, $2::int, $${n}::vector)`;
          });
          // A chunk id already stored for another bot is never taken over: its row is left alone
          // and the whole upsert fails.
          const result = await client.query(
            `INSERT INTO chunk_embeddings (chunk_id, bot_id, document_id, model, dims, embedding)
             VALUES ${rows.join(', ')}
             ON CONFLICT (chunk_id, model) DO UPDATE
               SET document_id = EXCLUDED.document_id, dims = EXCLUDED.dims, embedding = EXCLUDED.embedding
               WHERE chunk_embeddings.bot_id = EXCLUDED.bot_id`,
            values,
          );
          if (result.rowCount !== batch.length) throw new Error('A chunk id in this upsert belongs to another bot');
        }
      }
    });
    this.sizes.delete(botId);
  }

  async query(botId: string, embedding: number[], k: number, model: string): Promise<VectorHit[]> {
    const rows = await this.search<{ chunk_id: string; document_id: string; score: number }>(botId, embedding, k, model, (nearest) => nearest);
    return rows.map((r) => ({ chunkId: r.chunk_id, documentId: r.document_id, score: Number(r.score) }));
  }

  async queryPassages(botId: string, embedding: number[], k: number, model: string): Promise<VectorPassage[]> {
    // The nearest vectors first (the same search as `query`, fenced so the join cannot change its
    // plan), numbered in the order the search returned them, then only those whose chunk is live.
    // Ordered here rather than in SQL: with sorting priced out for HNSW, a final sort would make the
    // statement look costly enough to be JIT-compiled, which takes longer than the search.
    const rows = await this.search<ScoredPassageRow>(
      botId,
      embedding,
      k,
      model,
      (nearest, input) =>
        `WITH nearest AS MATERIALIZED (
           SELECT chunk_id, score, row_number() OVER () AS rank FROM (${nearest}) AS n
         )
         SELECT ${PASSAGE_COLUMNS}, n.score, n.rank
         FROM nearest n
         JOIN chunks c ON c.id = n.chunk_id
         JOIN documents d ON d.id = c.document_id
         WHERE c.bot_id = ${input.bot} AND d.bot_id = ${input.bot}
           AND d.embedding_model = ${input.model}`,
    );
    // Best first; equal scores keep the search's order (relaxed_order may swap near neighbours).
    rows.sort((a, b) => Number(b.score) - Number(a.score) || Number(a.rank) - Number(b.rank));
    return rows.map((r) => ({ ...toPassage(r), score: Number(r.score) }));
  }

  /**
   * Runs `statement` around the nearest-neighbour search of one bot's vectors made by `model`
   * (`nearest`: chunk_id, document_id, score, best first), exact or through HNSW as
   * `searchesByIndex` decides; `model` is bound as `input.model`.
   */
  private async search<R extends { score: number | string }>(
    botId: string,
    embedding: number[],
    k: number,
    model: string,
    statement: (nearest: string, input: StatementInput) => string,
  ): Promise<R[]> {
    const dims = dimsOf(embedding);
    const limit = Math.max(1, Math.floor(k));
    if (!(await this.searchesByIndex(botId, dims))) {
      const input = { bot: '$1::uuid', vector: `$2::vector(${dims})`, model: '$3::text' };
      const distance = `embedding::vector(${dims}) <=> ${input.vector}`;
      // Exact: the fenced subquery (OFFSET 0) computes each distance once over the bot's own rows
      // (bot index) and the ordering by its output cannot use the HNSW index.
      const nearest = `SELECT chunk_id, document_id, 1 - distance AS score
         FROM (SELECT chunk_id, document_id, ${distance} AS distance
               FROM chunk_embeddings
               WHERE bot_id = ${input.bot} AND dims = ${dims} AND model = ${input.model}
               OFFSET 0) AS candidates
         ORDER BY distance
         LIMIT ${limit}`;
      const values = [botId, toSql(embedding), model];
      return (await this.pool.query<R>(statement(nearest, input), values)).rows;
    }
    // HNSW needs settings local to its transaction. SET LOCAL takes no bind parameters, so the whole
    // search goes as one simple-protocol script (one implicit transaction, one round trip instead of
    // BEGIN, SET, SELECT, COMMIT), its inputs as literals: a checked UUID, numbers, a quoted string.
    if (!isUuid(botId)) throw new RangeError('A bot id must be a UUID');
    const input = {
      bot: `'${botId}'::uuid`,
      vector: `'${vectorLiteral(embedding)}'::vector(${dims})`,
      model: `${pg.escapeLiteral(model)}::text`,
    };
    const distance = `embedding::vector(${dims}) <=> ${input.vector}`;
    // Ordered by the partial index's expression (cast included) so the planner can walk HNSW.
    const nearest = `SELECT chunk_id, document_id, 1 - (${distance}) AS score
         FROM chunk_embeddings
         WHERE bot_id = ${input.bot} AND dims = ${dims} AND model = ${input.model}
         ORDER BY ${distance}
         LIMIT ${limit}`;
    // Iterative scans (pgvector 0.8) keep walking the graph until enough rows pass the bot filter.
    // The planner cannot tell how many of a bot's rows sit behind the partial index and, not
    // pricing the detoasting of each vector, prefers a sort over the bot's rows that is several
    // times slower at this size; with sorting priced out it walks the index. A sort that still had
    // to happen would carry that price and get the statement JIT-compiled (over 100 ms) for a few
    // dozen rows, so JIT is off for it.
    const script =
      `SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = ${Math.max(this.efSearch, limit)}; ` +
      `SET LOCAL enable_sort = off; SET LOCAL jit = off; ${statement(nearest, input)}`;
    const results = (await this.pool.query(script)) as unknown as Array<pg.QueryResult<R>>;
    const rows = results.at(-1)?.rows ?? [];
    // relaxed_order may return neighbours slightly out of order (a stable sort keeps ties as found).
    return rows.sort((a, b) => Number(b.score) - Number(a.score));
  }

  async deleteChunks(botId: string, chunkIds: string[]): Promise<void> {
    // Every model's vectors go: one statement, so the models hint is not needed here.
    if (!chunkIds.length) return;
    await this.pool.query('DELETE FROM chunk_embeddings WHERE bot_id = $1 AND chunk_id = ANY($2::uuid[])', [botId, chunkIds]);
    this.sizes.delete(botId);
  }

  async deleteDocument(botId: string, documentId: string, model?: string): Promise<void> {
    await this.pool.query('DELETE FROM chunk_embeddings WHERE bot_id = $1 AND document_id = $2 AND ($3::text IS NULL OR model = $3)', [
      botId,
      documentId,
      model ?? null,
    ]);
    this.sizes.delete(botId);
  }

  async deleteBot(botId: string): Promise<void> {
    await this.pool.query('DELETE FROM chunk_embeddings WHERE bot_id = $1', [botId]);
    this.sizes.delete(botId);
  }

  async ping(): Promise<void> {
    await this.pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
  }

  async close(): Promise<void> {
    // The pool belongs to the database handle, which closes it.
  }

  /**
   * Creates the HNSW index for one dimension, once per process. Upserts call it before writing;
   * bulk loaders call it after loading, since building over existing rows beats inserting into the graph.
   */
  prepareDimension(dims: number): Promise<void> {
    if (!this.hnsw || dims > HNSW_MAX_DIMS) return Promise.resolve();
    let pending = this.indexedDims.get(dims);
    if (!pending) {
      pending = this.createIndex(dims);
      this.indexedDims.set(dims, pending);
      pending.catch(() => this.indexedDims.delete(dims));
    }
    return pending;
  }

  private async createIndex(dims: number): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [INDEX_LOCK_KEY]);
      await client.query(
        `CREATE INDEX IF NOT EXISTS chunk_embeddings_hnsw_${dims} ON chunk_embeddings
         USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) WHERE dims = ${dims}`,
      );
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [INDEX_LOCK_KEY]).catch(() => undefined);
      client.release();
    }
  }

  /**
   * Whether queries for this bot walk the HNSW index: it must exist for the dimension and the bot
   * must hold enough of its vectors, absolutely and as a share of the table. Otherwise: exact search.
   */
  async searchesByIndex(botId: string, dims: number): Promise<boolean> {
    if (!this.hnsw || dims > HNSW_MAX_DIMS) return false;
    const cached = this.sizes.get(botId)?.get(dims);
    if (cached && Date.now() - cached.at < SIZE_TTL_MS) return cached.large;
    // Counting stops at the threshold, so this stays cheap however large the bot is; the table's
    // size is the planner's estimate.
    const { rows } = await this.pool.query<{ large: boolean }>(
      `WITH t AS (
         SELECT greatest($3::bigint, ceil(reltuples * $4::float8)::bigint) AS threshold
         FROM pg_class WHERE oid = 'public.chunk_embeddings'::regclass
       )
       SELECT (SELECT count(*) FROM (
                 SELECT 1 FROM chunk_embeddings WHERE bot_id = $1 AND dims = $2 LIMIT (SELECT threshold FROM t)
               ) s) >= (SELECT threshold FROM t) AS large`,
      [botId, dims, this.exactBelow, this.exactBelowShare],
    );
    const large = rows[0]?.large ?? false;
    if (!this.sizes.has(botId)) this.sizes.set(botId, new Map());
    this.sizes.get(botId)?.set(dims, { large, at: Date.now() });
    return large;
  }
}
