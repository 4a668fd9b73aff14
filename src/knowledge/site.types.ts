/** Websites in a bot's knowledge base, as the service and its store see them. */

import type { CrawlSite } from '../../rag/crawl/crawl.types.js';

export type SiteStatus = 'queued' | 'crawling' | 'ready' | 'failed';

/** What the creator chose: where to start, how to find pages, how often to look again. */
export interface NewSite extends Pick<CrawlSite, 'rootUrl' | 'useSitemap' | 'maxPages' | 'sameOrigin'> {
  syncIntervalHours: number;
}

export interface StoredSite extends NewSite {
  id: string;
  botId: string;
  status: SiteStatus;
  error: string | null;
  pagesFound: number;
  lastSyncedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A page of a site: its document and what the last fetch said. */
export interface SitePage {
  id: string;
  title: string;
  url: string;
  status: 'queued' | 'processing' | 'ready' | 'failed';
  error: string | null;
  chunkCount: number;
  fetchedAt: Date | null;
  ingestedAt: Date | null;
}

/** Persistence port of SiteService (src/db/site.repository.ts); every call is scoped to creator and bot. */
export interface SiteStore {
  create(creatorId: string, botId: string, site: NewSite): Promise<StoredSite | null>;
  list(creatorId: string, botId: string): Promise<StoredSite[]>;
  find(creatorId: string, botId: string, siteId: string): Promise<StoredSite | null>;
  listPages(creatorId: string, botId: string, siteId: string): Promise<SitePage[]>;
  /** Deletes the site with its pages; resolves to the deleted pages' ids (null when there was no such site). */
  delete(creatorId: string, botId: string, siteId: string): Promise<string[] | null>;
  /** Queued for another sync unless a run holds it. */
  markQueued(botId: string, siteId: string): Promise<void>;
  /** Undoes a creation whose crawl could not be queued. */
  discard(botId: string, siteId: string): Promise<void>;
}
