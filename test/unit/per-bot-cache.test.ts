import { describe, expect, it } from 'vitest';
import { PerBotCache } from '../../src/cache/per-bot.cache.js';

/** A load whose calls the test counts and settles by hand. */
function controlledLoad() {
  const calls: Array<{ key: string; resolve(value: string | null): void; reject(err: Error): void }> = [];
  const load = (key: string) =>
    new Promise<string | null>((resolve, reject) => {
      calls.push({ key, resolve, reject });
    });
  return { calls, load };
}

async function until(check: () => boolean) {
  for (let i = 0; i < 100 && !check(); i++) await Promise.resolve();
  expect(check()).toBe(true);
}

describe('PerBotCache', () => {
  it('shares one load between concurrent reads and keeps the value for the TTL', async () => {
    let clock = 1_000;
    const { calls, load } = controlledLoad();
    const cache = new PerBotCache(load, { ttlMs: 5_000, now: () => clock });
    const reads = [cache.get('bot-1'), cache.get('bot-1'), cache.get('bot-1')];
    await until(() => calls.length === 1);
    calls[0]!.resolve('settings v1');
    expect(await Promise.all(reads)).toEqual(['settings v1', 'settings v1', 'settings v1']);

    clock += 4_000;
    expect(await cache.get('bot-1')).toBe('settings v1');
    expect(calls).toHaveLength(1);

    clock += 2_000;
    const stale = cache.get('bot-1');
    await until(() => calls.length === 2);
    calls[1]!.resolve('settings v2');
    expect(await stale).toBe('settings v2');

    const refreshed = cache.refresh('bot-1');
    await until(() => calls.length === 3);
    calls[2]!.resolve('settings v3');
    expect(await refreshed).toBe('settings v3');
    expect(await cache.get('bot-1')).toBe('settings v3');
  });

  it('keeps neither failed loads nor absent values, so unknown ids cannot fill it', async () => {
    const { calls, load } = controlledLoad();
    const cache = new PerBotCache(load, { ttlMs: 60_000 });
    const failing = cache.get('bot-1');
    await until(() => calls.length === 1);
    calls[0]!.reject(new Error('database down'));
    await expect(failing).rejects.toThrow('database down');

    const absent = cache.get('unknown');
    await until(() => calls.length === 2);
    calls[1]!.resolve(null);
    expect(await absent).toBeNull();

    void cache.get('bot-1');
    void cache.get('unknown');
    await until(() => calls.length === 4);
  });

  it('after invalidate, a read under way is not kept and its callers get the value read afresh', async () => {
    const { calls, load } = controlledLoad();
    const cache = new PerBotCache(load, { ttlMs: 60_000 });
    const read = cache.get('bot-1');
    await until(() => calls.length === 1);
    cache.invalidate('bot-1');
    calls[0]!.resolve('before the change');
    await until(() => calls.length === 2);
    calls[1]!.resolve('after the change');
    expect(await read).toBe('after the change');
    expect(await cache.get('bot-1')).toBe('after the change');
    expect(calls).toHaveLength(2);
  });
});
