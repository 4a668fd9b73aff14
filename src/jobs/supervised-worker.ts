import type { Worker } from 'bullmq';

// SQLSTATE classes and codes that mean "the database is unreachable right now", not "this job is bad".
const TRANSIENT_SQLSTATES = /^(08|57P0[1-3]|53300|55000)/;
const TRANSIENT_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|ECONNRESET|EPIPE|ECONNREFUSED|not currently accepting connections/i;

/** True for errors that say the database connection is gone, so retrying at once cannot help. */
export function isTransientConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && TRANSIENT_SQLSTATES.test(code)) || TRANSIENT_MESSAGES.test(err.message);
}

const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 15_000;
const CLOSE_GRACE_MS = 5_000;

/**
 * Keeps one BullMQ worker running through database outages by replacing it.
 *
 * BullMQ's PostgreSQL backend reports a lost session (terminated, refused, a dead pooled or LISTEN
 * client) as an ordinary error, and its fetch loop retries those at once. A dead client fails
 * without touching the network, so that loop never yields to I/O and the process stops answering;
 * and the worker keeps the dead client, so it never fetches again. On such an error the worker is
 * closed and a fresh one (new pool, new LISTEN client) starts after a pause that doubles up to 15 s
 * and resets once a job finishes. Jobs it had in hand are picked up again by stalled-job detection.
 */
export class SupervisedWorker {
  private current: Worker;
  private pauseMs = FIRST_PAUSE_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    private readonly create: () => Worker,
    private readonly report: (err: Error) => void,
  ) {
    this.current = this.start();
  }

  private start(): Worker {
    const worker = this.create();
    worker.on('error', (err) => {
      this.report(err);
      if (isTransientConnectionError(err)) this.replace(worker);
    });
    worker.on('completed', () => (this.pauseMs = FIRST_PAUSE_MS));
    return worker;
  }

  private replace(broken: Worker): void {
    if (this.stopped || this.timer || broken !== this.current) return;
    const closing = broken
      .close(true)
      .catch(() => undefined)
      .finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.current = this.start();
    }, this.pauseMs);
    this.pauseMs = Math.min(this.pauseMs * 2, LONGEST_PAUSE_MS);
  }

  /** Closes the running worker (waiting for its active jobs) and any being replaced. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.all([this.current.close().catch(() => undefined), Promise.race([Promise.allSettled([...this.retiring]), grace])]);
  }
}
