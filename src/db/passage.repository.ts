import type pg from 'pg';
import { textSearchConfig } from '../../rag/text-search-config.js';
import type { PassageDraft, PassageWriter } from '../../rag/types.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';

/**
 * Passages written directly rather than ingested from a source: each title becomes a ready document
 * of the bot, its passages chunks in the bot's full-text configuration (BM25 statistics follow by
 * trigger), so the bot's retrieval sees them as it sees any ingested chunk.
 */
export class PassageRepository implements PassageWriter {
  constructor(private readonly pool: pg.Pool) {}

  async addPassages(botId: string, passages: PassageDraft[], embeddingModel: string | null): Promise<Array<{ chunkId: string; documentId: string }> | null> {
    if (!isUuid(botId)) return null;
    const badId = passages.find((p) => p.id !== undefined && !isUuid(p.id));
    if (badId) throw new RangeError(`A passage id must be a UUID: ${badId.id}`);
    return inTransaction(this.pool, async (client) => {
      const { rows: bots } = await client.query<{ language: string }>('SELECT language FROM public.bots WHERE id = $1 FOR SHARE', [botId]);
      const bot = bots[0];
      if (!bot) return null;
      // Given ids replace the bot's own chunks of those ids; another bot's id fails on the primary key.
      const given = passages.flatMap((p) => (p.id ? [p.id] : []));
      if (given.length) await this.deleteChunks(client, botId, given);
      const byTitle = new Map<string, number[]>();
      passages.forEach((p, i) => byTitle.set(p.title, [...(byTitle.get(p.title) ?? []), i]));
      const added = new Array<{ chunkId: string; documentId: string }>(passages.length);
      for (const [title, indexes] of byTitle) {
        const { rows: documents } = await client.query<{ id: string }>(
          `INSERT INTO public.documents (bot_id, title, source_kind, media_type, status, progress, chunk_count, retrieval_mode, embedding_model, ingested_at)
           VALUES ($1, $2, 'upload', 'text/plain', 'ready', 1, $3, $4, $5, now()) RETURNING id`,
          [botId, title, indexes.length, embeddingModel ? 'hybrid' : 'lexical', embeddingModel],
        );
        const documentId = documents[0]!.id;
        const group = indexes.map((i) => passages[i]!);
        const { rows: chunks } = await client.query<{ id: string; ordinal: number }>(
          `INSERT INTO public.chunks (id, bot_id, document_id, ordinal, page, text, ts_config, location_kind, location_value, location_section)
           SELECT COALESCE(u.id, gen_random_uuid()), $1, $2, u.ordinal, u.page, u.text, $3::regconfig, u.location_kind, u.location_value, u.location_section
           FROM unnest($4::uuid[], $5::int[], $6::int[], $7::text[], $8::text[], $9::float8[], $10::text[])
             AS u(id, ordinal, page, text, location_kind, location_value, location_section)
           RETURNING id, ordinal`,
          [
            botId,
            documentId,
            textSearchConfig(bot.language),
            group.map((p) => p.id ?? null),
            group.map((_, ordinal) => ordinal),
            group.map((p) => p.page ?? (p.location?.kind === 'page' ? p.location.value : null)),
            group.map((p) => p.text),
            // Pages live in `page`; the location columns hold the other kinds only.
            group.map((p) => (p.location && p.location.kind !== 'page' ? p.location.kind : null)),
            group.map((p) => (p.location && p.location.kind !== 'page' ? p.location.value : null)),
            group.map((p) => (p.location && p.location.kind !== 'page' ? (p.location.section ?? null) : null)),
          ],
        );
        for (const chunk of chunks) added[indexes[chunk.ordinal]!] = { chunkId: chunk.id, documentId };
      }
      return added;
    });
  }

  async removePassages(botId: string, chunkIds: string[]): Promise<string[]> {
    const ids = chunkIds.filter(isUuid);
    if (!isUuid(botId) || !ids.length) return [];
    return inTransaction(this.pool, (client) => this.deleteChunks(client, botId, ids));
  }

  /** Deletes the bot's chunks of `ids`, keeps their documents' counts right and drops documents left empty. */
  private async deleteChunks(client: pg.PoolClient, botId: string, ids: string[]): Promise<string[]> {
    const { rows } = await client.query<{ id: string; document_id: string }>(
      'DELETE FROM public.chunks WHERE bot_id = $1 AND id = ANY($2::uuid[]) RETURNING id, document_id',
      [botId, ids],
    );
    const documentIds = [...new Set(rows.map((r) => r.document_id))];
    if (documentIds.length) {
      await client.query(
        `UPDATE public.documents d SET chunk_count = (SELECT count(*) FROM public.chunks c WHERE c.document_id = d.id), updated_at = now()
         WHERE d.bot_id = $1 AND d.id = ANY($2::uuid[])`,
        [botId, documentIds],
      );
      // Only documents that were passages alone go with their last passage; an upload or a web page
      // keeps its row (and source) to be re-ingested.
      await client.query(
        `DELETE FROM public.documents d
         WHERE d.bot_id = $1 AND d.id = ANY($2::uuid[]) AND d.chunk_count = 0 AND d.source_url IS NULL AND d.filename IS NULL
           AND NOT EXISTS (SELECT 1 FROM public.document_blobs b WHERE b.document_id = d.id)`,
        [botId, documentIds],
      );
    }
    return rows.map((r) => r.id);
  }
}
