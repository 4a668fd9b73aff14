/** Contracts between the site crawler and what it reads from and writes to. */

import type { ConditionalHeaders, FetchedResource } from '../loaders/safe-fetch.js';

/** A site as one crawl run sees it. */
export interface CrawlSite {
  id: string;
  botId: string;
  rootUrl: string;
  useSitemap: boolean;
  maxPages: number;
  sameOrigin: boolean;
  /** Names the run holding the site. */
  run: string;
  /** When this run began; pages fetched since then were fetched by this run before a crash. */
  runStartedAt: Date;
}

/** A page of the site stored by an earlier run (or earlier in this one). */
export interface KnownPage {
  id: string;
  /** Canonical address after redirects: the page's key. */
  sourceUrl: string;
  /** Address requested for it. */
  fetchUrl: string | null;
  etag: string | null;
  lastModified: string | null;
  /** Hash of the bytes its chunks were built from, or of those waiting to be ingested. */
  contentHash: string | null;
  fetchedAt: Date | null;
  outLinks: string[] | null;
}

/** What a fetch told about a page, kept for the next sync. */
export interface PageFetchState {
  fetchUrl: string;
  etag: string | undefined;
  lastModified: string | undefined;
  outLinks: string[];
}

/** The pages of sites (src/db/site.repository.ts); every call is scoped to the site's bot. */
export interface SitePageStore {
  pages(site: CrawlSite): Promise<KnownPage[]>;
  /** The page is unchanged: fetched now, nothing to ingest. */
  touch(site: CrawlSite, pageId: string, state: PageFetchState): Promise<void>;
  /**
   * Keeps the fetched bytes for ingestion: creates the page's document (queued) or queues the
   * existing one again, its chunks untouched until the new ones are stored. Returns its id.
   */
  store(site: CrawlSite, page: PageFetchState & { url: string; bytes: Uint8Array; mediaType: string; contentHash: string }): Promise<string>;
  /** The page could not be read: recorded failed with `reason` (an earlier version stays searchable). */
  fail(site: CrawlSite, page: { url: string; fetchUrl: string; reason: string }): Promise<string>;
  /** Removes pages with their chunks. */
  remove(site: CrawlSite, pageIds: string[]): Promise<void>;
  /** Tells other runs this one is alive, with the pages found so far. */
  heartbeat(site: CrawlSite, pagesFound: number): Promise<void>;
}

export interface CrawlPorts {
  /**
   * GET through the SSRF guard (every hop checked), conditional when validators are given;
   * `beforeEachRequest` is awaited before each request, redirect hops included.
   */
  fetch(url: string, request: { conditional?: ConditionalHeaders | undefined; beforeEachRequest: () => Promise<void> }): Promise<FetchedResource>;
  pages: SitePageStore;
  /** Queues ingestion of a stored page; the key makes a repeated call for the same bytes one job. */
  ingest(botId: string, documentId: string, contentHash: string): Promise<void>;
  /** Drops the vectors of removed pages (they live outside PostgreSQL's cascades with Chroma). */
  removeVectors(botId: string, documentIds: string[]): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Least time between two requests to the site's host; robots.txt's Crawl-delay can raise it up to `maxDelayMs`. */
  politenessMs: number;
  maxDelayMs: number;
  /** The name robots.txt rules are matched against. */
  userAgent: string;
  onWarning?: (message: string, url: string) => void;
}

/** What one run did, for logs, benchmarks and tests. */
export interface CrawlReport {
  pagesFound: number;
  requests: number;
  /** Pages fetched in full and queued for ingestion (new or changed). */
  queued: number;
  /** Pages the server answered 304 for. */
  notModified: number;
  /** Pages fetched in full whose bytes had not changed. */
  unchanged: number;
  failed: number;
  removed: number;
  /** Addresses robots.txt keeps us from. */
  disallowed: number;
  /** Pages left out: another origin, a type we do not read, a duplicate of a page already found. */
  skipped: number;
}

/** The whole site could not be read (robots.txt forbids it, no page answered); shown on the site as is. */
export class SiteCrawlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteCrawlError';
  }
}
