import type pg from 'pg';
import type { ReembedDocumentStore, ReembedTarget } from '../../rag/reembed.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';
import type { ReembedPlan, ReembedPlanStore, ReembedTask } from '../knowledge/reembed.service.js';
import { isUuid } from '../postgres/ids.js';

/** Documents' switches from one embedding model to another: what is wanted, how far it got. */
export class ReembedRepository implements ReembedDocumentStore, ReembedPlanStore {
  /** `events`: told of each step (the creators' live events). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { events?: BotEventPublisher } = {},
  ) {}

  async plan(defaultModel: string, scope?: { botId: string; documentId?: string | undefined }): Promise<ReembedPlan> {
    if (scope && (!isUuid(scope.botId) || (scope.documentId !== undefined && !isUuid(scope.documentId)))) return { pending: [], abandoned: [] };
    // Documents with vectors whose bot now wants another model get it as their re-embedding target
    // (progress reset when the target changes); those back on their own model lose the target. The
    // target a document had before is returned where it changed, so its partial vectors can go.
    const { rows } = await this.pool.query<{ id: string; bot_id: string; wanted: string | null; was: string | null; changed: boolean }>(
      `WITH wanted AS (
         SELECT d.id, d.bot_id, d.reembed_model AS was,
                NULLIF(COALESCE(NULLIF(b.settings->>'embeddingModel', ''), $1), d.embedding_model) AS wanted
         FROM public.documents d JOIN public.bots b ON b.id = d.bot_id
         WHERE ($2::uuid IS NULL OR d.bot_id = $2) AND ($3::uuid IS NULL OR d.id = $3) AND d.embedding_model IS NOT NULL AND d.retrieval_mode = 'hybrid'
         FOR UPDATE OF d
       ),
       changed AS (
         -- Vectors of a model the document just left are kept if it goes back to it: they fit its chunks.
         UPDATE public.documents d SET reembed_model = w.wanted, reembed_done = 0,
                retired_embedding_model = NULLIF(d.retired_embedding_model, w.wanted)
         FROM wanted w
         WHERE d.id = w.id AND d.reembed_model IS DISTINCT FROM w.wanted
         RETURNING d.id
       )
       SELECT w.id, w.bot_id, w.wanted, w.was, c.id IS NOT NULL AS changed
       FROM wanted w LEFT JOIN changed c ON c.id = w.id
       WHERE w.wanted IS NOT NULL OR c.id IS NOT NULL`,
      [defaultModel, scope?.botId ?? null, scope?.documentId ?? null],
    );
    return {
      pending: rows.filter((r) => r.wanted !== null).map((r) => ({ botId: r.bot_id, documentId: r.id, model: r.wanted! })),
      abandoned: rows.filter((r) => r.changed && r.was !== null).map((r) => ({ botId: r.bot_id, documentId: r.id, model: r.was! })),
    };
  }

  async findForReembed(botId: string, documentId: string): Promise<ReembedTarget | null> {
    if (!isUuid(botId) || !isUuid(documentId)) return null;
    const { rows } = await this.pool.query<ReembedTarget>(
      `SELECT embedding_model AS "embeddingModel", reembed_model AS "reembedModel", reembed_done AS "reembedDone",
              COALESCE(ingested_at::text, '') AS version
       FROM public.documents WHERE id = $1 AND bot_id = $2`,
      [documentId, botId],
    );
    return rows[0] ?? null;
  }

  async chunkTexts(botId: string, documentId: string): Promise<Array<{ id: string; text: string }>> {
    const { rows } = await this.pool.query<{ id: string; text: string }>(
      'SELECT id, text FROM public.chunks WHERE document_id = $1 AND bot_id = $2 ORDER BY ordinal, id',
      [documentId, botId],
    );
    return rows;
  }

  async recordProgress(botId: string, documentId: string, model: string, version: string, done: number): Promise<boolean> {
    const { rows } = await this.pool.query<{ total: number }>(
      `UPDATE public.documents SET reembed_done = GREATEST(reembed_done, $4)
       WHERE id = $1 AND bot_id = $2 AND reembed_model = $3 AND COALESCE(ingested_at::text, '') = $5
       RETURNING chunk_count AS total`,
      [documentId, botId, model, done, version],
    );
    const row = rows[0];
    if (row) this.publish(botId, { documentId, model, status: 'embedding', done, total: row.total });
    return Boolean(row);
  }

  async switchModel(botId: string, documentId: string, model: string, version: string): Promise<{ previousModel: string | null } | null> {
    const { rows } = await this.pool.query<{ previous: string | null; total: number }>(
      `UPDATE public.documents d SET embedding_model = $3, reembed_model = NULL, reembed_done = 0, updated_at = now(),
         retired_embedding_model = NULLIF(before.embedding_model, $3)
       FROM (SELECT id, embedding_model FROM public.documents WHERE id = $1 FOR UPDATE) before
       WHERE d.id = before.id AND d.bot_id = $2 AND d.reembed_model = $3 AND COALESCE(d.ingested_at::text, '') = $4
       RETURNING before.embedding_model AS previous, d.chunk_count AS total`,
      [documentId, botId, model, version],
    );
    const row = rows[0];
    if (!row) return null;
    this.publish(botId, { documentId, model, status: 'switched', done: row.total, total: row.total });
    return { previousModel: row.previous };
  }

  async clearRetired(botId: string, documentId: string, model: string): Promise<void> {
    await this.pool.query('UPDATE public.documents SET retired_embedding_model = NULL WHERE id = $1 AND bot_id = $2 AND retired_embedding_model = $3', [
      documentId,
      botId,
      model,
    ]);
  }

  async retired(scope?: { botId: string }): Promise<ReembedTask[]> {
    if (scope && !isUuid(scope.botId)) return [];
    const { rows } = await this.pool.query<{ id: string; bot_id: string; model: string }>(
      `SELECT id, bot_id, retired_embedding_model AS model FROM public.documents
       WHERE retired_embedding_model IS NOT NULL AND ($1::uuid IS NULL OR bot_id = $1)`,
      [scope?.botId ?? null],
    );
    return rows.map((r) => ({ botId: r.bot_id, documentId: r.id, model: r.model }));
  }

  private publish(botId: string, event: { documentId: string; model: string; status: 'embedding' | 'switched'; done: number; total: number }): void {
    this.options.events?.publish(botId, { type: 'reembed', ...event, at: new Date().toISOString() });
  }
}
