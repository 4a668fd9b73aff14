import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crawlSite } from '../../rag/crawl/site.crawler.js';
import type { CrawlPorts, CrawlSite } from '../../rag/crawl/crawl.types.js';
import { FETCH_USER_AGENT, safeFetch } from '../../rag/loaders/safe-fetch.js';
import { SiteRepository } from '../../src/db/site.repository.js';
import { htmlPage, sitemap, startFakeSite, type FakeSite } from '../support/fake-site.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let db: TestDatabase;
let site: FakeSite;
let repository: SiteRepository;
let botId: string;
let siteId: string;
const paths = ['/a', '/b', '/c', '/d', '/e', '/f'];

beforeAll(async () => {
  [db, site] = await Promise.all([createTestDatabase(), startFakeSite()]);
  repository = new SiteRepository(db.pool);
  site.resources.set('/robots.txt', { body: 'User-agent: *\nAllow: /\n', type: 'text/plain' });
  site.resources.set('/sitemap.xml', { body: sitemap(paths.map((p) => site.origin + p)), type: 'application/xml' });
  paths.forEach((p) => site.resources.set(p, { body: htmlPage(`Page ${p}`, `The text of page ${p}.`) }));
  const creator = await db.pool.query("INSERT INTO creators (email, name, password_hash) VALUES ('resume@example.test', 'Coach', 'x') RETURNING id");
  const bot = await db.pool.query("INSERT INTO bots (creator_id, name) VALUES ($1, 'Bot') RETURNING id", [creator.rows[0].id]);
  botId = bot.rows[0].id;
  const created = await repository.create(creator.rows[0].id, botId, { rootUrl: `${site.origin}/`, useSitemap: true, maxPages: 20, sameOrigin: true, syncIntervalHours: 0 });
  siteId = created!.id;
});

afterAll(async () => {
  await site?.close();
  await db?.drop();
});

/** Crawl ports over the real repository; `crashAfterPages` makes the run die once that many pages were fetched. */
function ports(ingested: string[], crashAfterPages?: number): CrawlPorts {
  let pagesFetched = 0;
  return {
    fetch: async (url, { conditional, beforeEachRequest }) => {
      if (paths.some((p) => url.endsWith(p)) && crashAfterPages !== undefined && pagesFetched++ >= crashAfterPages) throw new Error('the worker process died');
      return safeFetch(url, { timeoutMs: 5_000, maxBytes: 1024 * 1024, allowPrivate: false, allowedRanges: ['127.0.0.1/32'], beforeEachRequest }, conditional);
    },
    pages: repository,
    ingest: async (_bot, documentId) => void ingested.push(documentId),
    removeVectors: async () => undefined,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    politenessMs: 0,
    maxDelayMs: 0,
    userAgent: FETCH_USER_AGENT,
  };
}

describe('a crawl run interrupted by a crash', () => {
  it('is resumed by the same run without fetching its pages again, and no second run crawls meanwhile', async () => {
    const first = (await repository.claim(botId, siteId, 'run-1', 60_000)) as CrawlSite;
    expect(first).not.toBeNull();
    const ingested: string[] = [];
    await expect(crawlSite(first, ports(ingested, 3))).rejects.toThrow('the worker process died');
    expect(ingested).toHaveLength(3);

    // Another job for the site (the schedule, a sync asked for) finds it held by a live run.
    expect(await repository.claim(botId, siteId, 'run-2', 60_000)).toBeNull();

    const mark = site.requests.length;
    const resumed = (await repository.claim(botId, siteId, 'run-1', 60_000)) as CrawlSite;
    expect(resumed.runStartedAt).toEqual(first.runStartedAt);
    const report = await crawlSite(resumed, ports(ingested));
    await repository.release(resumed, { pagesFound: report.pagesFound });

    const fetchedAgain = site.requestsSince(mark).map((r) => r.path).filter((p) => paths.includes(p));
    expect(fetchedAgain).toEqual(['/d', '/e', '/f']);
    expect(report).toMatchObject({ pagesFound: 6, queued: 3, removed: 0 });
    // Each page was queued for ingestion exactly once across both attempts.
    expect(new Set(ingested).size).toBe(6);
    expect(ingested).toHaveLength(6);
    // Released: the next run may take the site.
    expect(await repository.claim(botId, siteId, 'run-2', 60_000)).not.toBeNull();
  });

  it('lets another run take over a site whose run stopped showing life', async () => {
    await repository.release({ id: siteId, botId, run: 'run-2' } as CrawlSite, { pagesFound: 6 });
    expect(await repository.claim(botId, siteId, 'run-3', 60_000)).not.toBeNull();
    await db.pool.query("UPDATE sites SET crawl_heartbeat = now() - interval '5 minutes' WHERE id = $1", [siteId]);
    const takenOver = await repository.claim(botId, siteId, 'run-4', 60_000);
    expect(takenOver?.run).toBe('run-4');
  });
});
