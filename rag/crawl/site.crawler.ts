import { createRequire } from 'node:module';
import { contentHash } from '../ingest.js';
import { HttpStatusError, type ConditionalHeaders, type FetchedResource } from '../loaders/safe-fetch.js';
import { DocumentLoadError } from '../types.js';
import { SiteCrawlError, type CrawlPorts, type CrawlReport, type CrawlSite, type KnownPage } from './crawl.types.js';
import { extractPageLinks } from './page-links.js';
import { fetchableUrl, onOrigin, pageKey } from './page-url.js';
import { parseSitemap } from './sitemap.parser.js';

// Web pages and PDFs; other files a site links to (images, archives, media) are left out.
const CRAWLED_TYPES = new Set(['text/html', 'application/xhtml+xml', 'text/plain', 'text/markdown', 'application/pdf']);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
// Sitemaps read per run (an index and its children), so a runaway index cannot keep the crawler busy.
const MAX_SITEMAPS = 50;

/** The parts of robots-parser's Robot used here. */
interface Robots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
  getSitemaps(): string[];
}

// A CommonJS module whose typings declare an ES default export it does not have.
const robotsParser = createRequire(import.meta.url)('robots-parser') as (url: string, contents: string) => Robots;

/** Spaces requests to the one host a run talks to. */
class Politeness {
  private last = 0;
  constructor(
    /** Raised once robots.txt has been read, when it asks for more. */
    public delayMs: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async turn(): Promise<void> {
    const wait = this.last + this.delayMs - Date.now();
    if (wait > 0) await this.sleep(wait);
    this.last = Date.now();
  }
}

function isGone(err: unknown): boolean {
  return err instanceof HttpStatusError && (err.status === 404 || err.status === 410);
}

/**
 * Reads a site into documents, one per page, and keeps them in sync: robots.txt is honoured, pages
 * come from the sitemap (and sitemap indexes) or by following links breadth-first on the site's own
 * origin, every request waits its turn, and pages known from earlier runs are asked for conditionally
 * (ETag / Last-Modified), so an unchanged page costs one request and no ingestion. Pages that are gone
 * (404/410) or no longer found are removed. A run resumed after a crash skips the pages it already fetched.
 */
export async function crawlSite(site: CrawlSite, ports: CrawlPorts): Promise<CrawlReport> {
  const report: CrawlReport = { pagesFound: 0, requests: 0, queued: 0, notModified: 0, unchanged: 0, failed: 0, removed: 0, disallowed: 0, skipped: 0 };
  const origin = new URL(site.rootUrl).origin;
  const inScope = (url: string) => !site.sameOrigin || onOrigin(url, origin);

  const politeness = new Politeness(ports.politenessMs, ports.sleep);
  const beforeEachRequest = async () => {
    await politeness.turn();
    report.requests += 1;
  };
  const get = (url: string, conditional?: ConditionalHeaders): Promise<FetchedResource> => ports.fetch(url, { conditional, beforeEachRequest });

  const robots = await readRobots(origin, get);
  const crawlDelayMs = (robots.getCrawlDelay(ports.userAgent) ?? 0) * 1000;
  politeness.delayMs = Math.max(ports.politenessMs, Math.min(crawlDelayMs, ports.maxDelayMs));
  const allowed = (url: string) => robots.isAllowed(url, ports.userAgent) !== false;
  if (!allowed(site.rootUrl)) throw new SiteCrawlError(`The site's robots.txt does not allow reading ${site.rootUrl}`);

  let followLinks = true;
  const frontier: string[] = [];
  if (site.useSitemap) {
    const listed = await readSitemaps(origin, robots, get, inScope);
    if (listed.length) {
      frontier.push(...listed);
      followLinks = false;
    }
  }
  if (followLinks) frontier.unshift(site.rootUrl);

  const known = await ports.pages.pages(site);
  const byKey = new Map<string, KnownPage>();
  const byFetchUrl = new Map<string, KnownPage>();
  for (const page of known) {
    byKey.set(page.sourceUrl, page);
    if (page.fetchUrl) byFetchUrl.set(page.fetchUrl, page);
  }

  const visited = new Set<string>();
  const kept = new Set<string>();
  const pageKeys = new Set<string>();
  let firstError: string | undefined;
  const follow = (links: readonly string[]) => {
    if (!followLinks) return;
    for (const link of links) if (inScope(link)) frontier.push(link);
  };

  for (let i = 0; i < frontier.length && kept.size < site.maxPages; i += 1) {
    const url = frontier[i]!;
    const key = pageKey(url);
    if (!key || visited.has(key)) continue;
    visited.add(key);
    if (!allowed(url)) {
      report.disallowed += 1;
      continue;
    }
    const previous = byFetchUrl.get(url) ?? byKey.get(key);
    if (previous?.fetchedAt && previous.fetchedAt >= site.runStartedAt) {
      // This run fetched it before it was interrupted.
      kept.add(previous.id);
      pageKeys.add(previous.sourceUrl);
      follow(previous.outLinks ?? []);
      continue;
    }

    let resource: FetchedResource;
    try {
      resource = await get(url, previous ? { etag: previous.etag, lastModified: previous.lastModified } : undefined);
    } catch (err) {
      if (!(err instanceof DocumentLoadError)) throw err;
      if (isGone(err)) continue;
      firstError ??= err.message;
      report.failed += 1;
      kept.add(await ports.pages.fail(site, { url: previous?.sourceUrl ?? key, fetchUrl: url, reason: err.message }));
      continue;
    }

    if (resource.status === 304 && previous) {
      report.notModified += 1;
      kept.add(previous.id);
      pageKeys.add(previous.sourceUrl);
      await ports.pages.touch(site, previous.id, { fetchUrl: url, etag: resource.etag ?? previous.etag ?? undefined, lastModified: resource.lastModified ?? previous.lastModified ?? undefined, outLinks: previous.outLinks ?? [] });
      follow(previous.outLinks ?? []);
      await ports.pages.heartbeat(site, kept.size);
      continue;
    }

    const finalKey = pageKey(resource.url) ?? key;
    const mediaType = resource.mediaType ?? '';
    if (!inScope(finalKey)) {
      report.skipped += 1;
      ports.onWarning?.('redirected to another site; left out', url);
      continue;
    }
    if (!CRAWLED_TYPES.has(mediaType)) {
      report.skipped += 1;
      firstError ??= `${url} is not a web page, text or PDF (${mediaType || 'no content type'})`;
      continue;
    }
    const html = HTML_TYPES.has(mediaType);
    const { links, canonical } = html ? extractPageLinks(Buffer.from(resource.bytes).toString('utf8'), resource.url) : { links: [], canonical: undefined };
    const canonicalKey = canonical && inScope(canonical) ? pageKey(canonical) : undefined;
    const pageUrl = canonicalKey ?? finalKey;
    visited.add(finalKey);
    if (pageKeys.has(pageUrl)) {
      report.skipped += 1;
      continue;
    }
    pageKeys.add(pageUrl);
    const outLinks = links.filter(inScope);
    const state = { fetchUrl: url, etag: resource.etag, lastModified: resource.lastModified, outLinks };
    const existing = byKey.get(pageUrl) ?? previous;
    const hash = contentHash(resource.bytes);
    if (existing && existing.contentHash === hash) {
      report.unchanged += 1;
      await ports.pages.touch(site, existing.id, state);
      kept.add(existing.id);
    } else {
      const documentId = await ports.pages.store(site, { ...state, url: pageUrl, bytes: resource.bytes, mediaType, contentHash: hash });
      await ports.ingest(site.botId, documentId, hash);
      report.queued += 1;
      kept.add(documentId);
    }
    follow(outLinks);
    await ports.pages.heartbeat(site, kept.size);
  }

  report.pagesFound = kept.size;
  if (!kept.size && firstError) throw new SiteCrawlError(`No page of the site could be read: ${firstError}`);
  const gone = (await ports.pages.pages(site)).filter((page) => !kept.has(page.id)).map((page) => page.id);
  if (gone.length) {
    await ports.pages.remove(site, gone);
    await ports.removeVectors(site.botId, gone);
    report.removed = gone.length;
  }
  return report;
}

/** robots.txt: rules when the server has one; none (everything allowed) when it answers 4xx/5xx or plain junk. */
async function readRobots(origin: string, get: (url: string) => Promise<FetchedResource>): Promise<Robots> {
  const robotsUrl = `${origin}/robots.txt`;
  try {
    const resource = await get(robotsUrl);
    return robotsParser(robotsUrl, Buffer.from(resource.bytes).toString('utf8'));
  } catch (err) {
    if (err instanceof HttpStatusError) return robotsParser(robotsUrl, '');
    // DNS failure, refused address, unreachable server: the site itself cannot be read.
    if (err instanceof DocumentLoadError) throw new SiteCrawlError(err.message);
    throw err;
  }
}

/** Page addresses from the sitemaps robots.txt names (or /sitemap.xml), following sitemap indexes. */
async function readSitemaps(origin: string, robots: Robots, get: (url: string) => Promise<FetchedResource>, inScope: (url: string) => boolean): Promise<string[]> {
  const named = robots.getSitemaps().map((url) => fetchableUrl(url)).filter((url): url is string => Boolean(url) && inScope(url!));
  const queue = named.length ? named : [`${origin}/sitemap.xml`];
  const seen = new Set<string>();
  const pages: string[] = [];
  for (let i = 0; i < queue.length && seen.size < MAX_SITEMAPS; i += 1) {
    const url = queue[i]!;
    if (seen.has(url)) continue;
    seen.add(url);
    let xml: string;
    try {
      xml = Buffer.from((await get(url)).bytes).toString('utf8');
    } catch (err) {
      if (err instanceof DocumentLoadError) continue;
      throw err;
    }
    const parsed = parseSitemap(xml);
    for (const page of parsed.pages) {
      const fetchable = fetchableUrl(page);
      if (fetchable && inScope(fetchable)) pages.push(fetchable);
    }
    for (const child of parsed.sitemaps) {
      const fetchable = fetchableUrl(child);
      if (fetchable && inScope(fetchable)) queue.push(fetchable);
    }
  }
  return pages;
}
