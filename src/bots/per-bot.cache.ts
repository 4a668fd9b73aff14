/**
 * A value read for every message of a bot (its settings, its channel credentials) but changed
 * rarely: kept for `ttlMs` so a burst of webhooks or turns reads the database once. Changes made
 * in this process call `invalidate` and are seen at once; changes made by another process are seen
 * within `ttlMs`. Concurrent reads of a missing entry share one load; failed loads are not kept,
 * nor are absent values (`null`), so probing unknown ids cannot fill the cache.
 */
export class PerBotCache<T> {
  private readonly entries = new Map<string, { value: T; loadedAt: number }>();
  private readonly loading = new Map<string, Promise<T | null>>();
  // Bumped by invalidate(), so a load that started before it cannot store what it read.
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly load: (key: string) => Promise<T | null>,
    private readonly options: { ttlMs: number; maxEntries?: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The cached value, or a fresh read when it is missing or older than the TTL. */
  get(key: string): Promise<T | null> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.loadedAt < this.options.ttlMs) return Promise.resolve(entry.value);
    return this.refresh(key);
  }

  /** Reads the value again, sharing a read already under way. */
  refresh(key: string): Promise<T | null> {
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generations.get(key) ?? 0;
    const loadedAt = this.now();
    const load = this.load(key)
      .then((value) => {
        if ((this.generations.get(key) ?? 0) === generation) this.store(key, value, loadedAt);
        return value;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    return load;
  }

  /** Forgets `key` after a change made in this process. */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }

  private store(key: string, value: T | null, loadedAt: number): void {
    this.entries.delete(key);
    if (value === null) return;
    const max = this.options.maxEntries ?? 10_000;
    // Oldest insertion first: a bot that keeps receiving messages is re-inserted at each reload.
    while (this.entries.size >= max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, loadedAt });
  }
}
