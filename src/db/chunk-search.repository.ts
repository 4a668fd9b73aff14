import type pg from 'pg';
import type { BotSearchProfile, ChunkPassage, ChunkSearch } from '../../rag/types.js';
import { PASSAGE_COLUMNS, toPassage, type PassageRow } from '../../rag/stores/passage-row.js';
import { PreparedStatements } from './prepared-statement.js';


/**
 * Full-text search and passage lookups over one bot's live chunks. Chunk rows only ever hold a
 * document's last successful ingestion (they are swapped in one transaction), so a document being
 * re-ingested stays searchable in its previous version; vectors are only trusted through them.
 */
export class ChunkSearchRepository implements ChunkSearch {
  private readonly statements: PreparedStatements;

  /**
   * `prepared`: prepare the full-text search once per connection (PostgreSQL; not the embedded
   * database). Its plan does not depend on the question: the tsqueries are built inside the
   * statement, where the planner cannot see them either way.
   */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  async profile(botId: string, embeddingModel: string | undefined): Promise<BotSearchProfile | null> {
    const { rows } = await this.pool.query<{ language: string; has_vectors: boolean }>(
      `SELECT b.language,
              $2::text IS NOT NULL AND EXISTS (
                SELECT 1 FROM documents d
                WHERE d.bot_id = $1 AND d.retrieval_mode = 'hybrid' AND d.embedding_model = $2
              ) AS has_vectors
       FROM bots b
       WHERE b.id = $1`,
      [botId, embeddingModel ?? null],
    );
    const row = rows[0];
    return row ? { language: row.language, hasVectors: row.has_vectors } : null;
  }

  async lexical(botId: string, config: string, words: string, limit: number): Promise<ChunkPassage[]> {
    // Ranking costs per matching row, and a question's common words can match half of a large bot.
    // So chunks holding two or more of its terms are ranked first (an OR of term pairs, selective
    // through the GIN index); only when they are fewer than `limit` are single-term matches ranked
    // too. Lexemes come from the bot's configuration (stemmed, stop words dropped) and contain only
    // letters and digits (see questionWords), so quoting them makes a valid tsquery.
    // ts_rank rather than ts_rank_cd: with ORed terms cover density adds little, costs about three
    // times as much per row (bench/retrieval.bench.ts) and ranked no better on test/data/eval.
    // Normalisation 1 divides by 1 + log(length), so long chunks do not win by size alone.
    const { rows } = await this.pool.query<PassageRow>(
      this.statements.query(
        'chunk_search_lexical',
        `WITH terms AS (
         SELECT lexeme FROM unnest(to_tsvector($2::regconfig, $3)) ORDER BY length(lexeme) DESC, lexeme LIMIT 16
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
