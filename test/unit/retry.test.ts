import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, retryWithBackoff, type RetryEvent, type RetryPolicy } from '../../src/retry/retry.js';

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('try again');
  }
}
class Final extends Error {}

/** An operation that fails with `failures` in turn, then answers 'done'; it counts its calls. */
function flaky(failures: unknown[]) {
  const op = {
    calls: 0,
    run: async () => {
      op.calls += 1;
      const failure = failures[op.calls - 1];
      if (failure !== undefined) throw failure;
      return 'done';
    },
  };
  return op;
}

function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy & { events: RetryEvent[] } {
  const events: RetryEvent[] = [];
  return {
    retries: 3,
    firstDelayMs: 100,
    maxDelayMs: 10_000,
    jitter: false,
    retryable: (err) => err instanceof Transient || err instanceof TypeError,
    retryAfterMs: (err) => (err instanceof Transient ? err.retryAfterMs : undefined),
    onRetry: (event) => events.push(event),
    events,
    ...overrides,
  };
}

/** Settles `promise` into a value the test can inspect, so a rejection is never left unhandled. */
function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('retryWithBackoff', () => {
  it('retries retryable failures with doubling pauses, then answers', async () => {
    const op = flaky([new Transient(), new Transient()]);
    const rules = policy();
    const outcome = settle(retryWithBackoff(op.run, rules));
    await vi.advanceTimersByTimeAsync(99);
    expect(op.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(op.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(await outcome).toEqual({ value: 'done' });
    expect(op.calls).toBe(3);
    expect(rules.events.map(({ retry, delayMs }) => ({ retry, delayMs }))).toEqual([
      { retry: 1, delayMs: 100 },
      { retry: 2, delayMs: 200 },
    ]);
  });

  it('stops at once on a failure the caller calls final, and throws it as it was', async () => {
    const final = new Final('bad request');
    const op = flaky([new Transient(), final, new Transient()]);
    const rules = policy();
    const outcome = settle(retryWithBackoff(op.run, rules));
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await outcome).error).toBe(final);
    expect(op.calls).toBe(2);
    expect(rules.events).toHaveLength(1);
  });

  it('gives up after the allowed retries with the last failure', async () => {
    const last = new Transient();
    const op = flaky([new Transient(), new Transient(), last]);
    const outcome = settle(retryWithBackoff(op.run, policy({ retries: 2 })));
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await outcome).error).toBe(last);
    expect(op.calls).toBe(3);
  });

  it('waits at least as long as the server asked before trying again', async () => {
    const op = flaky([new Transient(5_000)]);
    const rules = policy();
    const outcome = settle(retryWithBackoff(op.run, rules));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(op.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toEqual({ value: 'done' });
    expect(rules.events[0]).toMatchObject({ delayMs: 5_000 });
  });

  it('keeps its own back-off when that is longer than the hint', async () => {
    const op = flaky([new Transient(), new Transient(50)]);
    const rules = policy();
    const outcome = settle(retryWithBackoff(op.run, rules));
    await vi.advanceTimersByTimeAsync(300);
    expect(await outcome).toEqual({ value: 'done' });
    expect(rules.events.map((e) => e.delayMs)).toEqual([100, 200]);
  });

  it('gives up at once when the server asks for a longer wait than the caller allows', async () => {
    const tooLong = new Transient(60_000);
    const op = flaky([tooLong]);
    const outcome = settle(retryWithBackoff(op.run, policy({ maxDelayMs: 30_000 })));
    await vi.advanceTimersByTimeAsync(0);
    expect((await outcome).error).toBe(tooLong);
    expect(op.calls).toBe(1);
  });

  it('stops waiting when aborted, rejecting with the reason and trying no more', async () => {
    const controller = new AbortController();
    const op = flaky([new Transient(), new Transient()]);
    let settled: { error?: unknown } | undefined;
    void settle(retryWithBackoff(op.run, policy({ signal: controller.signal }))).then((s) => (settled = s));
    await vi.advanceTimersByTimeAsync(50);
    const reason = new Error('caller left');
    controller.abort(reason);
    // Not a moment more of the 100 ms pause passes: the abort alone ends it.
    await vi.advanceTimersByTimeAsync(0);
    expect(settled?.error).toBe(reason);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(op.calls).toBe(1);
  });

  it('keeps the answer of an attempt that succeeded as the signal fired', async () => {
    const controller = new AbortController();
    const outcome = await retryWithBackoff(
      async () => {
        controller.abort(new Error('too late'));
        return 'sent';
      },
      policy({ signal: controller.signal }),
    );
    expect(outcome).toBe('sent');
  });

  it('lets the caller decide about every error, a TypeError included', async () => {
    const op = flaky([new TypeError('not a network error')]);
    const outcome = settle(retryWithBackoff(op.run, policy()));
    await vi.advanceTimersByTimeAsync(100);
    expect(await outcome).toEqual({ value: 'done' });
  });

  it('waits on the caller’s clock when given one', async () => {
    const slept: number[] = [];
    const op = flaky([new Transient(), new Transient()]);
    const value = await retryWithBackoff(op.run, policy({ sleep: async (ms) => void slept.push(ms), firstDelayMs: (err) => (err instanceof Transient ? 6_000 : 1) }));
    expect(value).toBe('done');
    expect(slept).toEqual([6_000, 10_000]);
  });
});

describe('backoffDelay', () => {
  it('doubles from the first pause up to the longest', () => {
    const schedule = { firstDelayMs: 500, maxDelayMs: 15_000, jitter: false };
    expect([0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, schedule))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it('spreads a jittered pause over the upper half of its length, never past the longest', () => {
    const schedule = { firstDelayMs: 1_000, maxDelayMs: 3_000 };
    expect(backoffDelay(0, schedule, () => 0)).toBe(500);
    expect(backoffDelay(0, schedule, () => 0.999_999)).toBe(1_000);
    expect(backoffDelay(5, schedule, () => 0.999_999)).toBe(3_000);
  });

  it('keeps a zero first pause at zero however long the failures go on', () => {
    expect(backoffDelay(5_000, { firstDelayMs: 0, maxDelayMs: 1_000 })).toBe(0);
  });
});
