import { contentHash } from '../ingest.js';
import { HttpStatusError, type FetchedResource } from '../loaders/safe-fetch.js';
import { DocumentLoadError } from '../types.js';
import type { CrawlPorts } from './crawl.types.js';

/** A document added by its web address alone (not part of a site). */
export interface UrlPage {
  id: string;
  sourceUrl: string;
  etag: string | null;
  lastModified: string | null;
  contentHash: string | null;
}

/** The bot's single-address documents (src/db/site.repository.ts); every call is scoped to the bot. */
export interface UrlPageStore {
  /** Those settled (ready or failed); ones being ingested are left to their run. */
  urlPages(botId: string): Promise<UrlPage[]>;
  touchUrlPage(botId: string, pageId: string, validators: { etag: string | undefined; lastModified: string | undefined }): Promise<void>;
  /** Keeps the fetched bytes for ingestion and queues the document; its chunks stay until the new ones are stored. */
  storeUrlPage(botId: string, pageId: string, page: { bytes: Uint8Array; mediaType: string; contentHash: string; etag: string | undefined; lastModified: string | undefined }): Promise<void>;
  /** The page is gone: its chunks leave the index and it is failed with `reason`. */
  markUrlPageGone(botId: string, pageId: string, reason: string): Promise<void>;
}

export interface UrlSyncReport {
  pages: number;
  notModified: number;
  unchanged: number;
  queued: number;
  gone: number;
  unreachable: number;
}

/**
 * Syncs a bot's single-address documents like a site's pages: one conditional request each, new
 * bytes queued for ingestion, unchanged ones left alone, pages answering 404/410 taken out of the index.
 * A page that cannot be reached now keeps what it had; the next sync tries again.
 */
export async function syncUrlPages(botId: string, store: UrlPageStore, ports: Pick<CrawlPorts, 'fetch' | 'ingest' | 'removeVectors' | 'sleep' | 'politenessMs' | 'onWarning'>): Promise<UrlSyncReport> {
  const pages = await store.urlPages(botId);
  const report: UrlSyncReport = { pages: pages.length, notModified: 0, unchanged: 0, queued: 0, gone: 0, unreachable: 0 };
  let last = 0;
  const beforeEachRequest = async () => {
    const wait = last + ports.politenessMs - Date.now();
    if (wait > 0) await ports.sleep(wait);
    last = Date.now();
  };
  for (const page of pages) {
    let resource: FetchedResource;
    try {
      resource = await ports.fetch(page.sourceUrl, { conditional: { etag: page.etag, lastModified: page.lastModified }, beforeEachRequest });
    } catch (err) {
      if (!(err instanceof DocumentLoadError)) throw err;
      if (err instanceof HttpStatusError && (err.status === 404 || err.status === 410)) {
        await store.markUrlPageGone(botId, page.id, `The page is gone (HTTP ${err.status}); it was removed from the knowledge base`);
        await ports.removeVectors(botId, [page.id]);
        report.gone += 1;
      } else {
        ports.onWarning?.(`could not be reached: ${err.message}`, page.sourceUrl);
        report.unreachable += 1;
      }
      continue;
    }
    const validators = { etag: resource.etag, lastModified: resource.lastModified };
    if (resource.status === 304) {
      report.notModified += 1;
      await store.touchUrlPage(botId, page.id, { etag: validators.etag ?? page.etag ?? undefined, lastModified: validators.lastModified ?? page.lastModified ?? undefined });
      continue;
    }
    const hash = contentHash(resource.bytes);
    if (hash === page.contentHash) {
      report.unchanged += 1;
      await store.touchUrlPage(botId, page.id, validators);
      continue;
    }
    await store.storeUrlPage(botId, page.id, { bytes: resource.bytes, mediaType: resource.mediaType ?? '', contentHash: hash, ...validators });
    await ports.ingest(botId, page.id, hash);
    report.queued += 1;
  }
  return report;
}
