/**
 * The platform's one way to retry: exponential back-off with jitter, capped, over p-retry.
 *
 * The caller decides which failures are worth another attempt; a server's own hint (Retry-After,
 * Telegram's `retry_after`, a rate-limit reset) is a floor for the pause, and a hint longer than the
 * caller will wait ends the retrying so the error reaches the caller, who can reschedule. Imports
 * nothing of ours, so channels/, rag/, src/llm and src/jobs can all use it.
 */
import pRetry, { AbortError } from 'p-retry';

export interface BackoffSchedule {
  /** Pause before the first retry; each later one is `factor` times the one before. */
  firstDelayMs: number;
  /** Longest pause, whatever the attempt. */
  maxDelayMs: number;
  /** Default 2. */
  factor?: number;
  /**
   * Spread each pause at random over the upper half of its length (default on), so many clients
   * that failed together against one recovering server do not all come back at the same instant.
   */
  jitter?: boolean;
}

/** The pause before retry number `retry` (0 for the first) on `schedule`. */
export function backoffDelay(retry: number, schedule: BackoffSchedule, random: () => number = Math.random): number {
  // Zero stays zero however many retries (0 × Infinity would be NaN).
  if (schedule.firstDelayMs <= 0) return 0;
  const ceiling = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * (schedule.factor ?? 2) ** retry);
  return schedule.jitter === false ? ceiling : Math.round(ceiling * (0.5 + random() * 0.5));
}

export interface RetryEvent {
  /** What the failed attempt threw. */
  error: unknown;
  /** Which retry is about to start: 1 for the second attempt. */
  retry: number;
  /** How long we wait before it. */
  delayMs: number;
}

export interface RetryPolicy extends Omit<BackoffSchedule, 'firstDelayMs'> {
  /** Further attempts after the first; 0 never retries. */
  retries: number;
  /** Pause before the first retry, or a function of the failure when kinds of failure back off differently. */
  firstDelayMs: number | ((error: unknown) => number);
  /** True for a failure that another attempt may cure; anything else is thrown at once. */
  retryable: (error: unknown) => boolean;
  /**
   * How long the server asked us to wait, in ms, if it said. The pause is at least that; a hint
   * longer than `maxDelayMs` ends retrying and the failure is thrown.
   */
  retryAfterMs?: (error: unknown) => number | undefined;
  /** Told before each pause, for logs and metrics. */
  onRetry?: (event: RetryEvent) => void;
  /** Stops retrying: a pause under way ends at once and the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Waits `ms`; injectable so callers with a clock of their own (and tests) control time. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

// Carries every failure through p-retry untouched: p-retry would otherwise refuse to retry a
// TypeError it does not recognise as a network error, and turn thrown non-errors into TypeErrors.
class AttemptFailure extends Error {
  constructor(readonly error: unknown) {
    super('attempt failed');
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The pause before retry `retry` after `error`, or undefined when the server asks for longer than we wait. */
function delayFor(error: unknown, retry: number, policy: RetryPolicy): number | undefined {
  const hint = policy.retryAfterMs?.(error);
  if (hint !== undefined && hint > policy.maxDelayMs) return undefined;
  const firstDelayMs = typeof policy.firstDelayMs === 'function' ? policy.firstDelayMs(error) : policy.firstDelayMs;
  return Math.max(backoffDelay(retry, { ...policy, firstDelayMs }), hint ?? 0);
}

/**
 * Runs `operation` (given its attempt number, from 1) until it succeeds, a failure is not
 * retryable, or `policy.retries` retries are spent; rejects with the last failure as thrown.
 */
export async function retryWithBackoff<T>(operation: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const sleep = policy.sleep ?? pause;
  const { signal } = policy;
  try {
    // p-retry is not given the signal: it would reject a call whose last attempt succeeded just as
    // the signal fired, and a caller would then repeat an effect that already happened.
    return await pRetry(
      async (attempt) => {
        if (signal?.aborted) throw new AbortError(new AttemptFailure(signal.reason));
        try {
          return await operation(attempt);
        } catch (error) {
          throw policy.retryable(error) ? new AttemptFailure(error) : new AbortError(new AttemptFailure(error));
        }
      },
      {
        retries: policy.retries,
        // The pause is ours (below): p-retry has no per-failure delay to honour a server's hint.
        minTimeout: 0,
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!(error instanceof AttemptFailure)) return false;
          const delayMs = delayFor(error.error, retriesConsumed, policy);
          if (delayMs === undefined) return false;
          signal?.throwIfAborted();
          policy.onRetry?.({ error: error.error, retry: retriesConsumed + 1, delayMs });
          await sleep(delayMs, signal);
          return true;
        },
      },
    );
  } catch (err) {
    throw err instanceof AttemptFailure ? err.error : err;
  }
}
