import { UnrecoverableError } from 'bullmq';
import { crawlSite } from '../rag/crawl/site.crawler.js';
import { SiteCrawlError, type CrawlPorts, type CrawlSite, type SitePageStore } from '../rag/crawl/crawl.types.js';
import { syncUrlPages, type UrlPageStore } from '../rag/crawl/url-sync.js';
import type { QueueJob, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** Which run holds a site (src/db/site.repository.ts). */
export interface CrawlRunStore extends SitePageStore, UrlPageStore {
  /** Takes the site for `run` unless another live run holds it; null then, or when the site is gone. */
  claim(botId: string, siteId: string, run: string, staleMs: number): Promise<CrawlSite | null>;
  release(site: CrawlSite, outcome: { pagesFound: number } | { error: string }): Promise<void>;
  exists(botId: string, siteId: string): Promise<boolean>;
}

export interface CrawlWorkerDeps extends Omit<CrawlPorts, 'pages'> {
  sites: CrawlRunStore;
  /** A run silent for this long is taken to have died; another may take the site over. */
  staleMs: number;
  /** Drops the sync schedule of a site that no longer exists (its bot was deleted). */
  unschedule(siteId: string): Promise<void>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

const TEMPORARY_FAILURE = 'The site could not be synced because of a temporary problem; it will be tried again at the next sync';

function isLastAttempt(job: QueueJob<'crawl'>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * The `crawl` queue's processor: takes the site (one run at a time per site, whichever job asked),
 * crawls or syncs it and records the outcome. A site that cannot be read at all fails at once with
 * its reason; anything else is retried, and the retry resumes where the run stopped.
 */
export function createCrawlProcessor(deps: CrawlWorkerDeps): QueueProcessor<'crawl'> {
  return async (job) => {
    if (!('siteId' in job.data)) {
      const { botId } = job.data;
      const report = await syncUrlPages(botId, deps.sites, {
        ...deps,
        onWarning: (message, url) => deps.logger.info({ botId, jobId: job.id, url }, `url sync: ${message}`),
      });
      deps.logger.info({ botId, jobId: job.id, ...report }, 'url sync: done');
      return { outcome: 'synced', ...report };
    }
    const { siteId, botId } = job.data;
    const run = job.id ?? `${siteId}_${job.timestamp}`;
    const log = { siteId, botId, jobId: job.id, attempt: job.attemptsMade + 1 };
    const site = await deps.sites.claim(botId, siteId, run, deps.staleMs);
    if (!site) {
      if (await deps.sites.exists(botId, siteId)) {
        deps.logger.info(log, 'crawl: site being synced by another run');
        return { outcome: 'skipped' };
      }
      await deps.unschedule(siteId);
      deps.logger.info(log, 'crawl: site deleted; its schedule removed');
      return { outcome: 'gone' };
    }
    try {
      const report = await crawlSite(site, {
        ...deps,
        pages: deps.sites,
        onWarning: (message, url) => deps.logger.info({ ...log, url }, `crawl: ${message}`),
      });
      await deps.sites.release(site, { pagesFound: report.pagesFound });
      deps.logger.info({ ...log, ...report }, 'crawl: done');
      return { outcome: 'synced', ...report };
    } catch (err) {
      if (err instanceof SiteCrawlError) {
        await deps.sites.release(site, { error: err.message });
        deps.logger.info({ ...log, reason: err.message }, 'crawl: site unreadable');
        throw new UnrecoverableError(err.message);
      }
      if (isLastAttempt(job)) {
        deps.logger.error({ ...log, err }, 'crawl: failed after the last attempt');
        await deps.sites.release(site, { error: TEMPORARY_FAILURE }).catch(() => undefined);
      } else {
        deps.logger.warn({ ...log, err }, 'crawl: attempt failed; will retry');
      }
      throw err;
    }
  };
}
