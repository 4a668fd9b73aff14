import type pg from 'pg';
import type { ChunkReplacement, IngestDocumentStore, IngestTarget } from '../../rag/types.js';
import type { DocumentStore, StoredDocument } from '../knowledge/document.types.js';
import { inTransaction } from '../postgres/transaction.js';
import { replaceDocumentFaqs } from './faq.repository.js';
import { isUuid } from '../postgres/ids.js';
import type { BotEventInput, BotEventPublisher } from '../events/bot-event.types.js';

const DOCUMENT_COLUMNS = `d.id, d.bot_id AS "botId", d.title, d.source_kind AS "sourceKind", d.source_url AS "sourceUrl",
  d.filename, d.media_type AS "mediaType", d.size_bytes AS "sizeBytes", d.content_hash AS "contentHash",
  d.ingested_hash AS "ingestedHash", d.status, d.error, d.progress, d.chunk_count AS "chunkCount",
  d.page_count AS "pageCount", d.retrieval_mode AS "retrievalMode", d.embedding_model AS "embeddingModel",
  d.reembed_model AS "reembedModel", d.reembed_done AS "reembedDone",
  d.created_at AS "createdAt", d.updated_at AS "updatedAt", d.ingested_at AS "ingestedAt"`;

// Rows per INSERT when chunks are written; arrays travel as single parameters.
const CHUNK_INSERT_BATCH = 1000;

function ids(...values: string[]): boolean {
  return values.every((v) => isUuid(v));
}

/**
 * Documents, their stored bytes and their chunks. Creator-facing reads and writes are scoped to the
 * creator through the bot; ingestion's are scoped to the bot.
 */
export class DocumentRepository implements DocumentStore, IngestDocumentStore {
  /** `events`: told when a document's status or progress changes (the creators' live events). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { events?: BotEventPublisher } = {},
  ) {}

  private changed(botId: string, documentId: string, change: Omit<Extract<BotEventInput, { type: 'document' }>, 'type' | 'documentId' | 'at'>): void {
    this.options.events?.publish(botId, { type: 'document', documentId, ...change, at: new Date().toISOString() });
  }

  async createUpload(
    creatorId: string,
    botId: string,
    input: { title: string; filename: string | null; mediaType: string; bytes: Uint8Array; contentHash: string },
  ): Promise<StoredDocument | null> {
    if (!ids(creatorId, botId)) return null;
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<StoredDocument>(
        `WITH d AS (
           INSERT INTO public.documents (bot_id, title, source_kind, filename, media_type, size_bytes, content_hash)
           SELECT b.id, $3, 'upload', $4, $5, $6, $7 FROM public.bots b WHERE b.id = $1 AND b.creator_id = $2
           RETURNING *
         )
         SELECT ${DOCUMENT_COLUMNS} FROM d`,
        [botId, creatorId, input.title, input.filename, input.mediaType, input.bytes.length, input.contentHash],
      );
      const document = rows[0];
      if (!document) {
        return null;
      }
      await client.query('INSERT INTO public.document_blobs (document_id, content) VALUES ($1, $2)', [
        document.id,
        Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength),
      ]);
      return document;
    }).then((document) => {
      if (document) this.changed(document.botId, document.id, { status: 'queued' });
      return document;
    });
  }

  async createUrl(creatorId: string, botId: string, input: { title: string; sourceUrl: string }): Promise<StoredDocument | null> {
    if (!ids(creatorId, botId)) return null;
    const { rows } = await this.pool.query<StoredDocument>(
      `WITH d AS (
         INSERT INTO public.documents (bot_id, title, source_kind, source_url)
         SELECT b.id, $3, 'url', $4 FROM public.bots b WHERE b.id = $1 AND b.creator_id = $2
         RETURNING *
       )
       SELECT ${DOCUMENT_COLUMNS} FROM d`,
      [botId, creatorId, input.title, input.sourceUrl],
    );
    if (rows[0]) this.changed(botId, rows[0].id, { status: 'queued' });
    return rows[0] ?? null;
  }

  async list(creatorId: string, botId: string): Promise<StoredDocument[]> {
    if (!ids(creatorId, botId)) return [];
    const { rows } = await this.pool.query<StoredDocument>(
      `SELECT ${DOCUMENT_COLUMNS} FROM public.documents d JOIN public.bots b ON b.id = d.bot_id
       WHERE d.bot_id = $1 AND b.creator_id = $2 ORDER BY d.created_at, d.id`,
      [botId, creatorId],
    );
    return rows;
  }

  async find(creatorId: string, botId: string, documentId: string): Promise<StoredDocument | null> {
    if (!ids(creatorId, botId, documentId)) return null;
    const { rows } = await this.pool.query<StoredDocument>(
      `SELECT ${DOCUMENT_COLUMNS} FROM public.documents d JOIN public.bots b ON b.id = d.bot_id
       WHERE d.id = $1 AND d.bot_id = $2 AND b.creator_id = $3`,
      [documentId, botId, creatorId],
    );
    return rows[0] ?? null;
  }

  async delete(creatorId: string, botId: string, documentId: string): Promise<boolean> {
    if (!ids(creatorId, botId, documentId)) return false;
    const { rowCount } = await this.pool.query(
      `DELETE FROM public.documents d USING public.bots b
       WHERE d.id = $1 AND d.bot_id = $2 AND b.id = d.bot_id AND b.creator_id = $3`,
      [documentId, botId, creatorId],
    );
    return (rowCount ?? 0) > 0;
  }

  async requeue(creatorId: string, botId: string, documentId: string): Promise<StoredDocument | null> {
    if (!ids(creatorId, botId, documentId)) return null;
    const { rows } = await this.pool.query<StoredDocument>(
      `WITH d AS (
         UPDATE public.documents d SET status = 'queued', progress = 0, error = NULL, ingest_run = NULL, ingest_open_claims = 0, updated_at = now()
         FROM public.bots b
         WHERE d.id = $1 AND d.bot_id = $2 AND b.id = d.bot_id AND b.creator_id = $3
         RETURNING d.*
       )
       SELECT ${DOCUMENT_COLUMNS} FROM d`,
      [documentId, botId, creatorId],
    );
    if (rows[0]) this.changed(botId, documentId, { status: 'queued' });
    return rows[0] ?? null;
  }

  /** Undoes an upload whose ingestion job could not be queued. */
  async remove(botId: string, documentId: string): Promise<void> {
    await this.pool.query('DELETE FROM public.documents WHERE id = $1 AND bot_id = $2', [documentId, botId]);
  }

  // --- ingestion (worker side): scoped to the bot, the job knows no creator ---

  /**
   * Marks the document processing by `run`; null when it no longer exists. `openClaims` counts this
   * run's claims since an attempt last finished (SET sees the row as it was before the update).
   */
  async claim(botId: string, documentId: string, run: string): Promise<{ openClaims: number } | null> {
    if (!ids(botId, documentId)) return null;
    const { rows } = await this.pool.query<{ openClaims: number }>(
      `UPDATE public.documents SET status = 'processing', progress = 0, error = NULL, updated_at = now(),
         ingest_open_claims = CASE WHEN ingest_run IS NOT DISTINCT FROM $3 THEN ingest_open_claims + 1 ELSE 1 END,
         ingest_run = $3
       WHERE id = $1 AND bot_id = $2
       RETURNING ingest_open_claims AS "openClaims"`,
      [documentId, botId, run],
    );
    if (rows[0]) this.changed(botId, documentId, { status: 'processing', progress: 0 });
    return rows[0] ?? null;
  }

  /**
   * Fails the document if `run` still has it queued or processing (BullMQ gave up on a job that
   * never finished); false when it had settled or moved on to another run.
   */
  async failUnsettledRun(botId: string, documentId: string, run: string, reason: string): Promise<boolean> {
    if (!ids(botId, documentId)) return false;
    const { rowCount } = await this.pool.query(
      `UPDATE public.documents SET status = 'failed', error = $4, progress = 0, ingest_open_claims = 0, updated_at = now()
       WHERE id = $1 AND bot_id = $2 AND ingest_run = $3 AND status IN ('queued', 'processing')`,
      [documentId, botId, run, reason],
    );
    if (rowCount) this.changed(botId, documentId, { status: 'failed', error: reason });
    return (rowCount ?? 0) > 0;
  }

  async findForIngest(botId: string, documentId: string): Promise<IngestTarget | null> {
    if (!ids(botId, documentId)) return null;
    const { rows } = await this.pool.query<IngestTarget>(
      `SELECT d.id, d.bot_id AS "botId", b.language AS "botLanguage", d.title, d.source_kind AS "sourceKind",
              d.source_url AS "sourceUrl", d.filename, d.media_type AS "mediaType", d.ingested_hash AS "ingestedHash",
              d.retrieval_mode AS "retrievalMode", d.embedding_model AS "embeddingModel",
              NULLIF(b.settings->>'embeddingModel', '') AS "botEmbeddingModel", d.reembed_model AS "reembedModel"
       FROM public.documents d JOIN public.bots b ON b.id = d.bot_id
       WHERE d.id = $1 AND d.bot_id = $2`,
      [documentId, botId],
    );
    return rows[0] ?? null;
  }

  async readSource(botId: string, documentId: string): Promise<Uint8Array | null> {
    const { rows } = await this.pool.query<{ content: Buffer }>(
      `SELECT x.content FROM public.document_blobs x JOIN public.documents d ON d.id = x.document_id
       WHERE x.document_id = $1 AND d.bot_id = $2`,
      [documentId, botId],
    );
    return rows[0] ? new Uint8Array(rows[0].content) : null;
  }

  async setProgress(botId: string, documentId: string, progress: number): Promise<void> {
    const { rowCount } = await this.pool.query(`UPDATE public.documents SET progress = $3 WHERE id = $1 AND bot_id = $2 AND status = 'processing'`, [
      documentId,
      botId,
      progress,
    ]);
    if (rowCount) this.changed(botId, documentId, { status: 'processing', progress });
  }

  /** A fetched web page's bytes are kept only until ingestion has read them; uploads keep theirs. */
  private async dropFetchedPage(botId: string, documentId: string, client: Pick<pg.Pool, 'query'> = this.pool): Promise<void> {
    await client.query(
      `DELETE FROM public.document_blobs x USING public.documents d
       WHERE x.document_id = $1 AND d.id = x.document_id AND d.bot_id = $2 AND d.source_kind = 'url'`,
      [documentId, botId],
    );
  }

  async markUnchanged(botId: string, documentId: string): Promise<void> {
    await this.dropFetchedPage(botId, documentId);
    const { rows } = await this.pool.query<{ chunks: number; pages: number | null }>(
      `UPDATE public.documents SET status = 'ready', progress = 1, error = NULL, ingest_open_claims = 0, updated_at = now()
       WHERE id = $1 AND bot_id = $2
       RETURNING chunk_count AS chunks, page_count AS pages`,
      [documentId, botId],
    );
    if (rows[0]) this.changed(botId, documentId, { status: 'ready', progress: 1, chunks: rows[0].chunks, pages: rows[0].pages });
  }

  async replaceChunks(r: ChunkReplacement): Promise<{ previousChunkIds: string[] } | null> {
    return inTransaction(this.pool, async (client) => {
      // The row lock orders concurrent swaps of one document; each deletes whatever the other wrote.
      const locked = await client.query('SELECT 1 FROM public.documents WHERE id = $1 AND bot_id = $2 FOR UPDATE', [r.documentId, r.botId]);
      if (!locked.rowCount) {
        return null;
      }
      const previous = await client.query<{ id: string }>('DELETE FROM public.chunks WHERE document_id = $1 RETURNING id', [r.documentId]);
      for (let i = 0; i < r.chunks.length; i += CHUNK_INSERT_BATCH) {
        const batch = r.chunks.slice(i, i + CHUNK_INSERT_BATCH);
        await client.query(
          `INSERT INTO public.chunks (id, bot_id, document_id, ordinal, page, text, ts_config, location_kind, location_value, location_section)
           SELECT u.id, $1, $2, u.ordinal, u.page, u.text, $7::regconfig, u.location_kind, u.location_value, u.location_section
           FROM unnest($3::uuid[], $4::int[], $5::int[], $6::text[], $8::text[], $9::float8[], $10::text[])
             AS u(id, ordinal, page, text, location_kind, location_value, location_section)`,
          [
            r.botId,
            r.documentId,
            batch.map((c) => c.id),
            batch.map((c) => c.ordinal),
            batch.map((c) => c.page),
            batch.map((c) => c.text),
            r.tsConfig,
            // Pages live in `page`; the location columns hold the other kinds only.
            batch.map((c) => (c.location && c.location.kind !== 'page' ? c.location.kind : null)),
            batch.map((c) => (c.location && c.location.kind !== 'page' ? c.location.value : null)),
            batch.map((c) => c.location?.section ?? null),
          ],
        );
      }
      await this.dropFetchedPage(r.botId, r.documentId, client);
      await replaceDocumentFaqs(client, r);
      await client.query(
        `UPDATE public.documents SET
           status = 'ready', error = NULL, progress = 1, chunk_count = $3, page_count = $4, content_hash = $5,
           ingested_hash = $5, size_bytes = $6, media_type = $7, retrieval_mode = $8, embedding_model = $9,
           title = COALESCE($10, title), ingest_open_claims = 0, ingested_at = now(), updated_at = now(),
           reembed_model = NULL, reembed_done = 0
         WHERE id = $1 AND bot_id = $2`,
        [r.documentId, r.botId, r.chunks.length, r.pageCount, r.contentHash, r.sizeBytes, r.mediaType, r.retrievalMode, r.embeddingModel, r.title ?? null],
      );
      return { previousChunkIds: previous.rows.map((row) => row.id) };
    }).then((replaced) => {
      if (replaced) this.changed(r.botId, r.documentId, { status: 'ready', progress: 1, chunks: r.chunks.length, pages: r.pageCount });
      return replaced;
    });
  }

  /** Failed with a reason the creator can read; chunks from an earlier success stay searchable. */
  async markFailed(botId: string, documentId: string, reason: string): Promise<void> {
    await this.dropFetchedPage(botId, documentId);
    const { rowCount } = await this.pool.query(
      `UPDATE public.documents SET status = 'failed', error = $3, progress = 0, ingest_open_claims = 0, updated_at = now()
       WHERE id = $1 AND bot_id = $2`,
      [documentId, botId, reason],
    );
    if (rowCount) this.changed(botId, documentId, { status: 'failed', error: reason });
  }

  /** Waiting for another attempt after a temporary failure. */
  async markRetrying(botId: string, documentId: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.documents SET status = 'queued', progress = 0, ingest_open_claims = 0, updated_at = now()
       WHERE id = $1 AND bot_id = $2`,
      [documentId, botId],
    );
    if (rowCount) this.changed(botId, documentId, { status: 'queued' });
  }
}
