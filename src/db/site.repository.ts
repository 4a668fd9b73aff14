import type pg from 'pg';
import type { CrawlSite, KnownPage, PageFetchState, SitePageStore } from '../../rag/crawl/crawl.types.js';
import type { UrlPage, UrlPageStore } from '../../rag/crawl/url-sync.js';
import type { NewSite, SitePage, SiteStore, StoredSite } from '../knowledge/site.types.js';
import { inTransaction } from '../postgres/transaction.js';
import { isUuid } from '../postgres/ids.js';

const SITE_COLUMNS = `s.id, s.bot_id AS "botId", s.root_url AS "rootUrl", s.use_sitemap AS "useSitemap", s.max_pages AS "maxPages",
  s.same_origin AS "sameOrigin", s.sync_interval_hours AS "syncIntervalHours", s.status, s.error, s.pages_found AS "pagesFound",
  s.last_synced_at AS "lastSyncedAt", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

function ids(...values: string[]): boolean {
  return values.every((v) => isUuid(v));
}

/** The site a crawl run holds, as the crawler reads it. */
export interface ClaimedSite extends CrawlSite {
  syncIntervalHours: number;
}

/**
 * Sites and their pages. Creator-facing calls are scoped to the creator through the bot; the crawl
 * worker's to the bot and the run holding the site.
 */
export class SiteRepository implements SiteStore, SitePageStore, UrlPageStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(creatorId: string, botId: string, site: NewSite): Promise<StoredSite | null> {
    if (!ids(creatorId, botId)) return null;
    const { rows } = await this.pool.query<StoredSite>(
      `WITH s AS (
         INSERT INTO public.sites (bot_id, root_url, use_sitemap, max_pages, same_origin, sync_interval_hours)
         SELECT b.id, $3, $4, $5, $6, $7 FROM public.bots b WHERE b.id = $1 AND b.creator_id = $2
         RETURNING *
       )
       SELECT ${SITE_COLUMNS} FROM s`,
      [botId, creatorId, site.rootUrl, site.useSitemap, site.maxPages, site.sameOrigin, site.syncIntervalHours],
    );
    return rows[0] ?? null;
  }

  async list(creatorId: string, botId: string): Promise<StoredSite[]> {
    if (!ids(creatorId, botId)) return [];
    const { rows } = await this.pool.query<StoredSite>(
      `SELECT ${SITE_COLUMNS} FROM public.sites s JOIN public.bots b ON b.id = s.bot_id
       WHERE s.bot_id = $1 AND b.creator_id = $2 ORDER BY s.created_at, s.id`,
      [botId, creatorId],
    );
    return rows;
  }

  async find(creatorId: string, botId: string, siteId: string): Promise<StoredSite | null> {
    if (!ids(creatorId, botId, siteId)) return null;
    const { rows } = await this.pool.query<StoredSite>(
      `SELECT ${SITE_COLUMNS} FROM public.sites s JOIN public.bots b ON b.id = s.bot_id
       WHERE s.id = $1 AND s.bot_id = $2 AND b.creator_id = $3`,
      [siteId, botId, creatorId],
    );
    return rows[0] ?? null;
  }

  async listPages(creatorId: string, botId: string, siteId: string): Promise<SitePage[]> {
    if (!ids(creatorId, botId, siteId)) return [];
    const { rows } = await this.pool.query<SitePage>(
      `SELECT d.id, d.title, d.source_url AS url, d.status, d.error, d.chunk_count AS "chunkCount",
              d.fetched_at AS "fetchedAt", d.ingested_at AS "ingestedAt"
       FROM public.documents d JOIN public.bots b ON b.id = d.bot_id
       WHERE d.site_id = $1 AND d.bot_id = $2 AND b.creator_id = $3 ORDER BY d.source_url`,
      [siteId, botId, creatorId],
    );
    return rows;
  }

  async delete(creatorId: string, botId: string, siteId: string): Promise<string[] | null> {
    if (!ids(creatorId, botId, siteId)) return null;
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `DELETE FROM public.documents d USING public.sites s, public.bots b
         WHERE d.site_id = $1 AND d.bot_id = $2 AND s.id = d.site_id AND b.id = s.bot_id AND b.creator_id = $3
         RETURNING d.id`,
        [siteId, botId, creatorId],
      );
      const deleted = await client.query(
        `DELETE FROM public.sites s USING public.bots b WHERE s.id = $1 AND s.bot_id = $2 AND b.id = s.bot_id AND b.creator_id = $3`,
        [siteId, botId, creatorId],
      );
      return deleted.rowCount ? rows.map((r) => r.id) : null;
    });
  }

  /** The ids of the bot's sites, for clean-up outside the database. */
  async siteIds(botId: string): Promise<string[]> {
    if (!ids(botId)) return [];
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM public.sites WHERE bot_id = $1', [botId]);
    return rows.map((r) => r.id);
  }

  /** Whether the site still exists (a bot's deletion removes its sites by cascade). */
  async exists(botId: string, siteId: string): Promise<boolean> {
    if (!ids(botId, siteId)) return false;
    const { rowCount } = await this.pool.query('SELECT 1 FROM public.sites WHERE id = $1 AND bot_id = $2', [siteId, botId]);
    return (rowCount ?? 0) > 0;
  }

  async markQueued(botId: string, siteId: string): Promise<void> {
    await this.pool.query(`UPDATE public.sites SET status = 'queued', error = NULL, updated_at = now() WHERE id = $1 AND bot_id = $2 AND crawl_run IS NULL`, [siteId, botId]);
  }

  async discard(botId: string, siteId: string): Promise<void> {
    await this.pool.query('DELETE FROM public.sites WHERE id = $1 AND bot_id = $2', [siteId, botId]);
  }

  // --- crawl runs (worker side) ---

  /**
   * Takes the site for `run` unless another run holds it and has shown life within `staleMs`. The same
   * run taking it again (its job retried or resumed after a crash) keeps its start time. Null when the
   * site is gone or held.
   */
  async claim(botId: string, siteId: string, run: string, staleMs: number): Promise<ClaimedSite | null> {
    if (!ids(botId, siteId)) return null;
    const { rows } = await this.pool.query<ClaimedSite>(
      `UPDATE public.sites SET status = 'crawling', error = NULL, updated_at = now(), crawl_heartbeat = now(),
         crawl_started_at = CASE WHEN crawl_run = $3 THEN crawl_started_at ELSE now() END, crawl_run = $3
       WHERE id = $1 AND bot_id = $2
         AND (crawl_run IS NULL OR crawl_run = $3 OR crawl_heartbeat < now() - make_interval(secs => $4::float8 / 1000))
       RETURNING id, bot_id AS "botId", root_url AS "rootUrl", use_sitemap AS "useSitemap", max_pages AS "maxPages",
         same_origin AS "sameOrigin", sync_interval_hours AS "syncIntervalHours", crawl_run AS run, crawl_started_at AS "runStartedAt"`,
      [siteId, botId, run, staleMs],
    );
    return rows[0] ?? null;
  }

  /** The run is over: ready with its page count, or failed with a reason for the creator. */
  async release(site: CrawlSite, outcome: { pagesFound: number } | { error: string }): Promise<void> {
    const failed = 'error' in outcome;
    await this.pool.query(
      `UPDATE public.sites SET status = $4, error = $5, pages_found = COALESCE($6, pages_found),
         last_synced_at = CASE WHEN $4 = 'ready' THEN now() ELSE last_synced_at END,
         crawl_run = NULL, crawl_started_at = NULL, crawl_heartbeat = NULL, updated_at = now()
       WHERE id = $1 AND bot_id = $2 AND crawl_run = $3`,
      [site.id, site.botId, site.run, failed ? 'failed' : 'ready', failed ? outcome.error : null, failed ? null : outcome.pagesFound],
    );
  }

  async heartbeat(site: CrawlSite, pagesFound: number): Promise<void> {
    await this.pool.query(`UPDATE public.sites SET crawl_heartbeat = now(), pages_found = $4 WHERE id = $1 AND bot_id = $2 AND crawl_run = $3`, [
      site.id,
      site.botId,
      site.run,
      pagesFound,
    ]);
  }

  async pages(site: CrawlSite): Promise<KnownPage[]> {
    const { rows } = await this.pool.query<KnownPage>(
      // A failed page is fetched in full and ingested again: its last bytes never made it into the index.
      `SELECT id, source_url AS "sourceUrl", fetch_url AS "fetchUrl", fetched_at AS "fetchedAt", out_links AS "outLinks",
              CASE WHEN status = 'failed' THEN NULL ELSE etag END AS etag,
              CASE WHEN status = 'failed' THEN NULL ELSE last_modified END AS "lastModified",
              CASE WHEN status = 'failed' THEN NULL ELSE content_hash END AS "contentHash"
       FROM public.documents WHERE site_id = $1 AND bot_id = $2`,
      [site.id, site.botId],
    );
    return rows;
  }

  async touch(site: CrawlSite, pageId: string, state: PageFetchState): Promise<void> {
    await this.pool.query(
      `UPDATE public.documents SET fetch_url = $4, etag = $5, last_modified = $6, out_links = $7, fetched_at = now()
       WHERE id = $1 AND bot_id = $2 AND site_id = $3`,
      [pageId, site.botId, site.id, state.fetchUrl, state.etag ?? null, state.lastModified ?? null, state.outLinks],
    );
  }

  async store(site: CrawlSite, page: PageFetchState & { url: string; bytes: Uint8Array; mediaType: string; contentHash: string }): Promise<string> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO public.documents (bot_id, site_id, title, source_kind, source_url, fetch_url, media_type, size_bytes,
           content_hash, etag, last_modified, out_links, fetched_at, status)
         VALUES ($1, $2, $3, 'url', $3, $4, $5, $6, $7, $8, $9, $10, now(), 'queued')
         ON CONFLICT (site_id, source_url) WHERE site_id IS NOT NULL DO UPDATE SET
           fetch_url = EXCLUDED.fetch_url, media_type = EXCLUDED.media_type, size_bytes = EXCLUDED.size_bytes,
           content_hash = EXCLUDED.content_hash, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
           out_links = EXCLUDED.out_links, fetched_at = now(), status = 'queued', error = NULL, progress = 0, updated_at = now()
         RETURNING id`,
        [site.botId, site.id, page.url, page.fetchUrl, page.mediaType, page.bytes.length, page.contentHash, page.etag ?? null, page.lastModified ?? null, page.outLinks],
      );
      const id = rows[0]!.id;
      await client.query(
        `INSERT INTO public.document_blobs (document_id, content) VALUES ($1, $2)
         ON CONFLICT (document_id) DO UPDATE SET content = EXCLUDED.content`,
        [id, Buffer.from(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength)],
      );
      return id;
    });
  }

  async fail(site: CrawlSite, page: { url: string; fetchUrl: string; reason: string }): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO public.documents (bot_id, site_id, title, source_kind, source_url, fetch_url, fetched_at, status, error)
       VALUES ($1, $2, $3, 'url', $3, $4, now(), 'failed', $5)
       ON CONFLICT (site_id, source_url) WHERE site_id IS NOT NULL DO UPDATE SET
         fetch_url = EXCLUDED.fetch_url, fetched_at = now(), status = 'failed', error = EXCLUDED.error, updated_at = now()
       RETURNING id`,
      [site.botId, site.id, page.url, page.fetchUrl, page.reason],
    );
    return rows[0]!.id;
  }

  async remove(site: CrawlSite, pageIds: string[]): Promise<void> {
    await this.pool.query('DELETE FROM public.documents WHERE id = ANY($1::uuid[]) AND bot_id = $2 AND site_id = $3', [pageIds, site.botId, site.id]);
  }

  // --- documents added by a single web address ---

  async urlPages(botId: string): Promise<UrlPage[]> {
    if (!ids(botId)) return [];
    const { rows } = await this.pool.query<UrlPage>(
      `SELECT id, source_url AS "sourceUrl",
              CASE WHEN status = 'failed' THEN NULL ELSE etag END AS etag,
              CASE WHEN status = 'failed' THEN NULL ELSE last_modified END AS "lastModified",
              CASE WHEN status = 'failed' THEN NULL ELSE content_hash END AS "contentHash"
       FROM public.documents
       WHERE bot_id = $1 AND site_id IS NULL AND source_kind = 'url' AND source_url IS NOT NULL AND status IN ('ready', 'failed')
       ORDER BY created_at, id`,
      [botId],
    );
    return rows;
  }

  async touchUrlPage(botId: string, pageId: string, validators: { etag: string | undefined; lastModified: string | undefined }): Promise<void> {
    await this.pool.query(`UPDATE public.documents SET etag = $3, last_modified = $4, fetched_at = now() WHERE id = $1 AND bot_id = $2 AND site_id IS NULL`, [
      pageId,
      botId,
      validators.etag ?? null,
      validators.lastModified ?? null,
    ]);
  }

  async storeUrlPage(
    botId: string,
    pageId: string,
    page: { bytes: Uint8Array; mediaType: string; contentHash: string; etag: string | undefined; lastModified: string | undefined },
  ): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE public.documents SET media_type = $3, size_bytes = $4, content_hash = $5, etag = $6, last_modified = $7, fetched_at = now(),
           status = 'queued', error = NULL, progress = 0, updated_at = now()
         WHERE id = $1 AND bot_id = $2 AND site_id IS NULL`,
        [pageId, botId, page.mediaType, page.bytes.length, page.contentHash, page.etag ?? null, page.lastModified ?? null],
      );
      if (!rowCount) return;
      await client.query(
        `INSERT INTO public.document_blobs (document_id, content) VALUES ($1, $2)
         ON CONFLICT (document_id) DO UPDATE SET content = EXCLUDED.content`,
        [pageId, Buffer.from(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength)],
      );
    });
  }

  async markUrlPageGone(botId: string, pageId: string, reason: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE public.documents SET status = 'failed', error = $3, chunk_count = 0, ingested_hash = NULL, fetched_at = now(), updated_at = now()
         WHERE id = $1 AND bot_id = $2 AND site_id IS NULL`,
        [pageId, botId, reason],
      );
      if (rowCount) await client.query('DELETE FROM public.chunks WHERE document_id = $1 AND bot_id = $2', [pageId, botId]);
    });
  }
}
