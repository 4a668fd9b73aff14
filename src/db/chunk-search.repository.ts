import type pg from 'pg';
import type { BotSearchProfile, ChunkPassage, ChunkSearch } from '../../rag/types.js';
import { PASSAGE_COLUMNS, toPassage, type PassageRow } from '../../rag/stores/passage-row.js';
import { PreparedStatements } from './prepared-statement.js';


/** How full-text matches are ordered: BM25 (the default) or PostgreSQL's ts_rank (kept to compare against). */
export type LexicalRanking = 'bm25' | 'ts_rank';

export interface ChunkSearchOptions {
  /**
   * Prepare the full-text search once per connection (PostgreSQL; not the embedded database). Its
   * plan does not depend on the question: the tsqueries are built inside the statement, where the
   * planner cannot see them either way.
   */
  prepared?: boolean;
  ranking?: LexicalRanking;
  /** BM25 term-frequency saturation (RETRIEVAL_BM25_K1). */
  k1?: number;
  /** BM25 length normalisation, 0–1 (RETRIEVAL_BM25_B). */
  b?: number;
}

// Longest lexemes first: with more terms than this, the short (usually common) ones go.
const MAX_QUERY_TERMS = 16;

/**
 * Full-text search and passage lookups over one bot's live chunks. Chunk rows only ever hold a
 * document's last successful ingestion (they are swapped in one transaction), so a document being
 * re-ingested stays searchable in its previous version; vectors are only trusted through them.
 */
export class ChunkSearchRepository implements ChunkSearch {
  private readonly statements: PreparedStatements;
  private readonly ranking: LexicalRanking;
  private readonly k1: number;
  private readonly b: number;

  constructor(
    private readonly pool: pg.Pool,
    options: ChunkSearchOptions = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
    this.ranking = options.ranking ?? 'bm25';
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
  }

  async profile(botId: string): Promise<BotSearchProfile | null> {
    const { rows } = await this.pool.query<{ language: string; models: string[] }>(
      `SELECT b.language,
              ARRAY(
                SELECT DISTINCT d.embedding_model FROM documents d
                WHERE d.bot_id = $1 AND d.retrieval_mode = 'hybrid' AND d.embedding_model IS NOT NULL
                ORDER BY 1
              ) AS models
       FROM bots b
       WHERE b.id = $1`,
      [botId],
    );
    const row = rows[0];
    return row ? { language: row.language, vectorModels: row.models } : null;
  }

  async lexical(botId: string, config: string, words: string, limit: number): Promise<ChunkPassage[]> {
    if (this.ranking === 'ts_rank') return this.lexicalByTsRank(botId, config, words, limit);
    return (await this.scoreBm25(botId, config, words, limit)).map((scored) => scored.passage);
  }

  /**
   * The bot's best chunks for `words` with their BM25 scores: Σ idf(t)·tf·(k1+1) / (tf + k1·(1 − b +
   * b·len/avglen)), idf = ln(1 + (N − df + 0.5) / (df + 0.5)), with N, avglen and df from the bot's own
   * statistics (migrations/0066_chunk_bm25.sql) and tf the number of positions of the term in the
   * chunk's tsvector. Lexemes come from the bot's configuration (stemmed, stop words dropped) and
   * contain only letters and digits (see questionWords), so quoting them makes a valid tsquery; terms
   * the bot has never seen are dropped before the match. The query's terms are cut out of each chunk's
   * tsvector by weight marking (setweight + ts_filter, in C) so only they are unnested.
   *
   * Only chunks that can reach the top `limit` are scored (MaxScore pruning, exact): a term adds at
   * most idf·(k1+1) to any chunk. The chunks holding the rarest term found in at least `limit` chunks
   * are scored first; the score of the `limit`-th of them is a floor the answer's last one will meet. The most common terms whose
   * bounds add up to no more than that floor cannot lift a chunk holding only them into the answer,
   * so the chunks scored are those holding one of the other terms: on a large bot, far fewer than
   * all the chunks a common word matches.
   */
  async scoreBm25(botId: string, config: string, words: string, limit: number): Promise<Array<{ passage: ChunkPassage; score: number }>> {
    const score = `(SELECT sum(w.idf * m.tf * ($5::float8 + 1) / (m.tf + $5::float8 * (1 - $6::float8 + $6::float8 * c.token_count / s.avglen)))
                   FROM (SELECT lexeme, COALESCE(array_length(positions, 1), 1)::float8 AS tf
                           FROM unnest(ts_filter(setweight(c.tsv, 'A', q.terms), '{a}'))) m
                   JOIN weights w ON w.term = m.lexeme)`;
    const { rows } = await this.pool.query<PassageRow & { score: number }>(
      this.statements.query(
        'chunk_search_bm25',
        `WITH terms AS (
         SELECT lexeme FROM unnest(to_tsvector($2::regconfig, $3)) ORDER BY length(lexeme) DESC, lexeme LIMIT ${MAX_QUERY_TERMS}
       ),
       stats AS (
         SELECT chunk_count::float8 AS n, GREATEST(token_count::float8 / chunk_count, 1) AS avglen
         FROM bot_text_stats WHERE bot_id = $1 AND chunk_count > 0
       ),
       weights AS (
         SELECT f.term, f.df, ln(1 + (s.n - f.df + 0.5) / (f.df + 0.5)) AS idf
         FROM terms t
         JOIN bot_term_frequencies f ON f.bot_id = $1 AND f.term = t.lexeme
         CROSS JOIN stats s
       ),
       q AS (
         SELECT array_agg(term) AS terms,
                -- Any term gives a true floor; the rarest that can fill the top $4 gives the highest.
                (SELECT quote_literal(term)::tsquery FROM weights WHERE df >= $4 ORDER BY df, term LIMIT 1) AS seed
         FROM weights
       ),
       first AS MATERIALIZED (
         SELECT ${score} AS score
         FROM chunks c, q, stats s
         WHERE c.bot_id = $1 AND c.tsv @@ q.seed
         ORDER BY score DESC
         LIMIT $4
       ),
       -- A score the answer's last chunk will reach (0 when no term is in $4 chunks).
       floor AS (
         SELECT CASE WHEN count(*) >= $4 THEN min(score) ELSE 0 END AS score FROM first
       ),
       -- Terms from the most common up, with the most their bounds add to a chunk holding only them.
       bounded AS (
         SELECT term, sum(idf * ($5::float8 + 1)) OVER (ORDER BY idf, term) AS bound FROM weights
       ),
       essential AS (
         SELECT string_agg(quote_literal(term), ' | ')::tsquery AS any_term
         FROM bounded WHERE bound > (SELECT score FROM floor)
       ),
       scored AS MATERIALIZED (
         SELECT c.id, ${score} AS score
         FROM chunks c, q, essential e, stats s
         WHERE c.bot_id = $1 AND c.tsv @@ e.any_term
         ORDER BY score DESC, c.id
         LIMIT $4
       )
       SELECT ${PASSAGE_COLUMNS}, r.score
       FROM scored r
       JOIN chunks c ON c.id = r.id
       JOIN documents d ON d.id = c.document_id
       WHERE c.bot_id = $1 AND d.bot_id = $1
       ORDER BY r.score DESC, c.id
       LIMIT $4`,
        [botId, config, words, limit, this.k1, this.b],
      ),
    );
    return rows.map((row) => ({ passage: toPassage(row), score: Number(row.score) }));
  }

  /** The ranking before BM25, kept so evaluation and benchmarks can compare the two in one run. */
  private async lexicalByTsRank(botId: string, config: string, words: string, limit: number): Promise<ChunkPassage[]> {
    // Ranking costs per matching row, and a question's common words can match half of a large bot.
    // So chunks holding two or more of its terms are ranked first (an OR of term pairs, selective
    // through the GIN index); only when they are fewer than `limit` are single-term matches ranked
    // too. Normalisation 1 divides by 1 + log(length), so long chunks do not win by size alone.
    const { rows } = await this.pool.query<PassageRow>(
      this.statements.query(
        'chunk_search_lexical',
        `WITH terms AS (
         SELECT lexeme FROM unnest(to_tsvector($2::regconfig, $3)) ORDER BY length(lexeme) DESC, lexeme LIMIT ${MAX_QUERY_TERMS}
       ),
       q AS (
         SELECT (SELECT string_agg(quote_literal(lexeme), ' | ') FROM terms)::tsquery AS any_term,
                (SELECT string_agg(quote_literal(a.lexeme) || ' & ' || quote_literal(b.lexeme), ' | ')
                   FROM terms a JOIN terms b ON a.lexeme < b.lexeme)::tsquery AS two_terms
       ),
       strict AS MATERIALIZED (
         SELECT c.id, ts_rank(c.tsv, q.any_term, 1) AS rank
         FROM chunks c, q
         WHERE c.bot_id = $1 AND c.tsv @@ q.two_terms
         ORDER BY rank DESC, c.id
         LIMIT $4
       ),
       loose AS (
         SELECT c.id, ts_rank(c.tsv, q.any_term, 1) AS rank
         FROM chunks c, q
         WHERE (SELECT count(*) FROM strict) < $4 AND c.bot_id = $1 AND c.tsv @@ q.any_term
           AND c.id NOT IN (SELECT id FROM strict)
         ORDER BY rank DESC, c.id
         LIMIT $4
       ),
       ranked AS (SELECT id, rank, 0 AS pass FROM strict UNION ALL SELECT id, rank, 1 AS pass FROM loose)
       SELECT ${PASSAGE_COLUMNS}
       FROM ranked r
       JOIN chunks c ON c.id = r.id
       JOIN documents d ON d.id = c.document_id
       WHERE c.bot_id = $1 AND d.bot_id = $1
       ORDER BY r.pass, r.rank DESC, c.id
       LIMIT $4`,
        [botId, config, words, limit],
      ),
    );
    return rows.map(toPassage);
  }

  async passages(botId: string, chunkIds: string[], embeddingModel: string | undefined): Promise<ChunkPassage[]> {
    if (!chunkIds.length) return [];
    const { rows } = await this.pool.query<PassageRow>(
      `SELECT ${PASSAGE_COLUMNS}
       FROM chunks c
       JOIN documents d ON d.id = c.document_id
       WHERE c.bot_id = $1 AND c.id = ANY($2::uuid[]) AND d.bot_id = $1
         AND ($3::text IS NULL OR d.embedding_model = $3)`,
      [botId, chunkIds, embeddingModel ?? null],
    );
    return rows.map(toPassage);
  }
}
