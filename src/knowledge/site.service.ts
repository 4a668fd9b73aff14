import type { VectorStore } from '../../rag/types.js';
import { NotFoundError, UnavailableError, ValidationError } from '../errors/app.errors.js';
import type { SitePage, SiteStore, StoredSite } from './site.types.js';

/** Starts crawl runs and keeps each site's sync schedule (src/jobs). */
export interface CrawlQueue {
  /** Queues a sync of the site now; none is added while one is waiting or running. */
  syncNow(job: { siteId: string; botId: string }): Promise<void>;
  /** Syncs the site every `hours`; 0 removes its schedule. */
  schedule(job: { siteId: string; botId: string }, hours: number): Promise<void>;
  unschedule(siteId: string): Promise<void>;
}

export interface SiteServiceOptions {
  sites: SiteStore;
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  queue: CrawlQueue;
  vectors: Pick<VectorStore, 'deleteDocument'>;
  /** The server's cap on pages per site; larger requests are refused. */
  maxPages: number;
  /** How often sites are synced when the creator does not say. */
  defaultSyncIntervalHours: number;
  onCleanupError?: (err: unknown, context: string) => void;
  quota?: { assertCanAddDocument(creatorId: string, incomingBytes: number): Promise<void> };
}

export interface NewSiteInput {
  url: string;
  sitemap?: boolean | undefined;
  maxPages?: number | undefined;
  sameOrigin?: boolean | undefined;
  syncIntervalHours?: number | undefined;
}

/** A site as the API shows it. */
export type SiteSummary = Omit<StoredSite, 'botId'>;

function summary(site: StoredSite): SiteSummary {
  const { botId: _bot, ...rest } = site;
  return rest;
}

/**
 * Websites in a bot's knowledge base: each page becomes a document, kept in sync on a schedule and on
 * demand by the crawl worker. Every call is scoped to the creator's own bot.
 */
export class SiteService {
  constructor(private readonly options: SiteServiceOptions) {}

  /** Records the site and queues its first crawl. */
  async create(creatorId: string, botId: string, input: NewSiteInput): Promise<SiteSummary> {
    await this.options.bots.get(creatorId, botId);
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new ValidationError('url: not a valid web address');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError('url: only http and https addresses can be added');
    const maxPages = input.maxPages ?? Math.min(100, this.options.maxPages);
    if (maxPages > this.options.maxPages) throw new ValidationError(`crawl.maxPages: at most ${this.options.maxPages} pages per site`);
    url.hash = '';
    await this.options.quota?.assertCanAddDocument(creatorId, 0);
    const site = await this.options.sites.create(creatorId, botId, {
      rootUrl: url.toString(),
      useSitemap: input.sitemap ?? true,
      maxPages,
      sameOrigin: input.sameOrigin ?? true,
      syncIntervalHours: input.syncIntervalHours ?? this.options.defaultSyncIntervalHours,
    });
    if (!site) throw new NotFoundError('Bot');
    const job = { siteId: site.id, botId };
    try {
      await this.options.queue.syncNow(job);
      await this.options.queue.schedule(job, site.syncIntervalHours);
    } catch {
      await this.options.queue.unschedule(site.id).catch(() => undefined);
      await this.options.sites.discard(botId, site.id);
      throw new UnavailableError('The crawl queue is unavailable; try again in a moment');
    }
    return summary(site);
  }

  async list(creatorId: string, botId: string): Promise<SiteSummary[]> {
    await this.options.bots.get(creatorId, botId);
    return (await this.options.sites.list(creatorId, botId)).map(summary);
  }

  async get(creatorId: string, botId: string, siteId: string): Promise<SiteSummary> {
    return summary(await this.find(creatorId, botId, siteId));
  }

  /** The site's pages and their state. */
  async pages(creatorId: string, botId: string, siteId: string): Promise<SitePage[]> {
    await this.find(creatorId, botId, siteId);
    return this.options.sites.listPages(creatorId, botId, siteId);
  }

  /** Queues a sync now (nothing more when one is already waiting or running). */
  async sync(creatorId: string, botId: string, siteId: string): Promise<SiteSummary> {
    const site = await this.find(creatorId, botId, siteId);
    try {
      await this.options.queue.syncNow({ siteId, botId });
    } catch {
      throw new UnavailableError('The crawl queue is unavailable; try again in a moment');
    }
    await this.options.sites.markQueued(botId, siteId);
    return summary({ ...site, status: site.status === 'crawling' ? 'crawling' : 'queued', error: null });
  }

  /** Removes the site, its schedule and every page it brought in. */
  async delete(creatorId: string, botId: string, siteId: string): Promise<void> {
    await this.find(creatorId, botId, siteId);
    const removed = await this.options.sites.delete(creatorId, botId, siteId);
    if (!removed) throw new NotFoundError('Site');
    await this.options.queue.unschedule(siteId).catch((err: unknown) => this.options.onCleanupError?.(err, 'removing the sync schedule of a deleted site'));
    // After the rows: retrieval joins vectors to live chunks, so leftovers are invisible if this fails.
    for (const documentId of removed) {
      await this.options.vectors
        .deleteDocument(botId, documentId)
        .catch((err: unknown) => this.options.onCleanupError?.(err, 'removing vectors of a deleted site'));
    }
  }

  private async find(creatorId: string, botId: string, siteId: string): Promise<StoredSite> {
    await this.options.bots.get(creatorId, botId);
    const site = await this.options.sites.find(creatorId, botId, siteId);
    if (!site) throw new NotFoundError('Site');
    return site;
  }
}
