import { LRUCache } from 'lru-cache';

// A read that keeps being overtaken by invalidations is answered from the store without caching.
const MAX_OVERTAKEN_READS = 3;

/**
 * A value read for every message of a bot (its settings, its channel credentials) but changed
 * rarely: kept for `ttlMs` so a burst of webhooks or turns reads the database once. Changes made
 * in this process call `invalidate` and are seen at once; changes made by another process are seen
 * within `ttlMs`. Concurrent reads of a missing entry share one load; failed loads are not kept,
 * nor are absent values (`null`), so probing unknown ids cannot fill the cache.
 */
export class PerBotCache<T extends NonNullable<unknown>> {
  private readonly cache: LRUCache<string, T>;

  constructor(
    private readonly load: (key: string) => Promise<T | null>,
    options: { ttlMs: number; maxEntries?: number; now?: () => number },
  ) {
    this.cache = new LRUCache<string, T>({
      max: options.maxEntries ?? 10_000,
      ttl: options.ttlMs,
      // An injected clock is read on every check (lru-cache otherwise reuses a reading for 1 ms).
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
      // Undefined is lru-cache's "nothing to keep".
      fetchMethod: async (key) => (await load(key)) ?? undefined,
    });
  }

  /** The cached value, or a fresh read when it is missing or older than the TTL. */
  get(key: string): Promise<T | null> {
    return this.read(key, false);
  }

  /** Reads the value again, sharing a read already under way. */
  refresh(key: string): Promise<T | null> {
    return this.read(key, true);
  }

  /** Forgets `key` after a change made in this process; a read already under way is not kept. */
  invalidate(key: string): void {
    this.cache.delete(key);
  }

  private async read(key: string, forceRefresh: boolean): Promise<T | null> {
    for (let attempt = 0; attempt < MAX_OVERTAKEN_READS; attempt++) {
      try {
        return (await this.cache.fetch(key, { forceRefresh })) ?? null;
      } catch (err) {
        // `invalidate` aborts a read under way (lru-cache rejects it); what it read may be stale, so read again.
        if (!isOvertaken(err)) throw err;
      }
    }
    return this.load(key);
  }
}

function isOvertaken(err: unknown): boolean {
  return err instanceof Error && (err.message === 'deleted' || err.message === 'evicted' || err.message === 'replaced');
}
