import type pg from 'pg';
import { textSearchConfig } from '../../rag/text-search-config.js';
import type { ChunkReplacement, FaqCandidates, FaqSearch } from '../../rag/types.js';
import type { FaqPage, FaqPair, FaqStore } from '../knowledge/faq.types.js';
import { isUuid } from '../postgres/ids.js';

const COLUMNS = `f.id, f.seq::text AS seq, f.question, f.answer, f.document_id, f.location_section, f.location_row, f.created_at, f.updated_at`;

interface FaqRow {
  id: string;
  seq: string;
  question: string;
  answer: string;
  document_id: string | null;
  location_section: string | null;
  location_row: number | null;
  created_at: Date;
  updated_at: Date;
}

function toPair(row: FaqRow): FaqPair {
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    documentId: row.document_id,
    location: row.location_row === null ? null : { sheet: row.location_section, row: row.location_row },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// The bot, when it is the creator's.
const OWNED_BOT = 'SELECT b.id, b.language FROM public.bots b WHERE b.id = $2 AND b.creator_id = $1';

/**
 * Replaces a document's FAQ pairs with those of its new version, inside the transaction that swaps
 * its chunks: pairs and passages never disagree about what the document says.
 */
export async function replaceDocumentFaqs(client: pg.PoolClient, r: ChunkReplacement): Promise<void> {
  await client.query('DELETE FROM public.faq_pairs WHERE document_id = $1', [r.documentId]);
  const faqs = r.faqs ?? [];
  if (!faqs.length) return;
  await client.query(
    `INSERT INTO public.faq_pairs (bot_id, document_id, question, answer, ts_config, location_section, location_row)
     SELECT $1, $2, u.question, u.answer, $3::regconfig, u.section, u.row
     FROM unnest($4::text[], $5::text[], $6::text[], $7::int[]) WITH ORDINALITY AS u(question, answer, section, row, n)
     ORDER BY u.n`,
    [
      r.botId,
      r.documentId,
      r.tsConfig,
      faqs.map((f) => f.question),
      faqs.map((f) => f.answer),
      faqs.map((f) => f.location?.section ?? null),
      faqs.map((f) => (f.location?.kind === 'row' ? f.location.value : null)),
    ],
  );
}

/** A bot's FAQ pairs: the creator's reads and writes (scoped through the bot) and the question match. */
export class FaqRepository implements FaqStore, FaqSearch {
  constructor(private readonly pool: pg.Pool) {}

  async create(creatorId: string, botId: string, input: { question: string; answer: string }): Promise<FaqPair | null> {
    if (!isUuid(botId)) return null;
    const bot = await this.pool.query<{ language: string }>(OWNED_BOT, [creatorId, botId]);
    if (!bot.rows[0]) return null;
    const { rows } = await this.pool.query<FaqRow>(
      `INSERT INTO public.faq_pairs AS f (bot_id, question, answer, ts_config) VALUES ($1, $2, $3, $4::regconfig) RETURNING ${COLUMNS}`,
      [botId, input.question, input.answer, textSearchConfig(bot.rows[0].language)],
    );
    return toPair(rows[0] as FaqRow);
  }

  async list(creatorId: string, botId: string, page: { limit: number; after?: string | undefined }): Promise<FaqPage> {
    if (!isUuid(botId)) return { items: [], nextCursor: null };
    const after = page.after && /^\d{1,18}$/.test(page.after) ? page.after : '0';
    const { rows } = await this.pool.query<FaqRow>(
      `SELECT ${COLUMNS} FROM public.faq_pairs f JOIN public.bots b ON b.id = f.bot_id
       WHERE f.bot_id = $2 AND b.creator_id = $1 AND f.seq > $3::bigint
       ORDER BY f.seq LIMIT $4`,
      [creatorId, botId, after, page.limit + 1],
    );
    const items = rows.slice(0, page.limit);
    return { items: items.map(toPair), nextCursor: rows.length > page.limit ? (items.at(-1) as FaqRow).seq : null };
  }

  async find(creatorId: string, botId: string, faqId: string): Promise<FaqPair | null> {
    if (!isUuid(botId) || !isUuid(faqId)) return null;
    const { rows } = await this.pool.query<FaqRow>(
      `SELECT ${COLUMNS} FROM public.faq_pairs f JOIN public.bots b ON b.id = f.bot_id
       WHERE f.id = $3 AND f.bot_id = $2 AND b.creator_id = $1`,
      [creatorId, botId, faqId],
    );
    return rows[0] ? toPair(rows[0]) : null;
  }

  async update(creatorId: string, botId: string, faqId: string, patch: { question?: string | undefined; answer?: string | undefined }): Promise<FaqPair | null> {
    if (!isUuid(botId) || !isUuid(faqId)) return null;
    const { rows } = await this.pool.query<FaqRow>(
      `UPDATE public.faq_pairs f SET question = COALESCE($4, f.question), answer = COALESCE($5, f.answer), updated_at = now()
       FROM public.bots b
       WHERE f.id = $3 AND f.bot_id = $2 AND b.id = f.bot_id AND b.creator_id = $1
       RETURNING ${COLUMNS}`,
      [creatorId, botId, faqId, patch.question ?? null, patch.answer ?? null],
    );
    return rows[0] ? toPair(rows[0]) : null;
  }

  async delete(creatorId: string, botId: string, faqId: string): Promise<boolean> {
    if (!isUuid(botId) || !isUuid(faqId)) return false;
    const { rowCount } = await this.pool.query(
      `DELETE FROM public.faq_pairs f USING public.bots b WHERE f.id = $3 AND f.bot_id = $2 AND b.id = f.bot_id AND b.creator_id = $1`,
      [creatorId, botId, faqId],
    );
    return (rowCount ?? 0) > 0;
  }

  async count(botId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM public.faq_pairs WHERE bot_id = $1', [botId]);
    return rows[0]?.n ?? 0;
  }

  /**
   * The pairs sharing the most terms with the question (through the GIN index on questions), the
   * bot's pair count, and each involved term's document frequency among the bot's questions.
   */
  async candidates(botId: string, config: string, question: string, limit: number): Promise<FaqCandidates> {
    const { rows } = await this.pool.query<{ query_terms: string[]; pair_count: number; candidates: Array<{ id: string; document_id: string | null; question: string; answer: string; terms: string[] }> | null; df: Record<string, number> | null }>(
      `WITH q AS (
         SELECT COALESCE(array_agg(t.lexeme), '{}') AS terms,
                string_agg(quote_literal(t.lexeme), ' | ')::tsquery AS any_term
         FROM unnest(to_tsvector($2::regconfig, $3)) t
       ),
       found AS (
         SELECT f.id, f.document_id, f.question, f.answer, tsvector_to_array(f.question_tsv) AS terms
         FROM public.faq_pairs f, q
         WHERE f.bot_id = $1 AND f.question_tsv @@ q.any_term
         ORDER BY (SELECT count(*) FROM unnest(tsvector_to_array(f.question_tsv)) l WHERE l = ANY (q.terms)) DESC, f.seq
         LIMIT $4
       ),
       involved AS (
         SELECT DISTINCT term FROM (SELECT unnest(q.terms) AS term FROM q UNION ALL SELECT unnest(found.terms) FROM found) x
       )
       SELECT q.terms AS query_terms,
              (SELECT count(*)::int FROM public.faq_pairs WHERE bot_id = $1) AS pair_count,
              (SELECT json_agg(found) FROM found) AS candidates,
              (SELECT json_object_agg(d.term, d.df) FROM (
                 SELECT l.lexeme AS term, count(*)::int AS df
                 FROM public.faq_pairs f, unnest(f.question_tsv) l
                 WHERE f.bot_id = $1 AND l.lexeme IN (SELECT term FROM involved)
                 GROUP BY l.lexeme) d) AS df
       FROM q`,
      [botId, config, question, limit],
    );
    const row = rows[0];
    return {
      queryTerms: row?.query_terms ?? [],
      pairCount: row?.pair_count ?? 0,
      documentFrequency: new Map(Object.entries(row?.df ?? {})),
      candidates: (row?.candidates ?? []).map((c) => ({ id: c.id, documentId: c.document_id, question: c.question, answer: c.answer, terms: c.terms })),
    };
  }
}
