import type { Job, Worker } from 'bullmq';
import { backoffDelay, type BackoffSchedule } from '../retry/retry.js';

// SQLSTATE classes and codes that mean "the database is unreachable right now", not "this job is bad".
const TRANSIENT_SQLSTATES = /^(08|57P0[1-3]|53300|55000)/;
const TRANSIENT_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|ECONNRESET|EPIPE|ECONNREFUSED|not currently accepting connections/i;

/** True for errors that say the database connection is gone, so retrying at once cannot help. */
export function isTransientConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && TRANSIENT_SQLSTATES.test(code)) || TRANSIENT_MESSAGES.test(err.message);
}

// Jittered, so the workers of every queue and process that lost one database come back spread out.
const REPLACEMENT_PAUSES: BackoffSchedule = { firstDelayMs: 500, maxDelayMs: 15_000 };
const CLOSE_GRACE_MS = 5_000;

/**
 * Keeps one BullMQ worker running through database outages and lost queue keys by replacing it.
 *
 * BullMQ's PostgreSQL backend reports a lost session (terminated, refused, a dead pooled or LISTEN
 * client) as an ordinary error, and its fetch loop retries those at once. A dead client fails
 * without touching the network, so that loop never yields to I/O and the process stops answering;
 * and the worker keeps the dead client, so it never fetches again. On such an error the worker is
 * closed and a fresh one (new pool, new LISTEN client) starts after a pause that doubles up to 15 s
 * and resets once a job finishes. Jobs it had in hand are picked up again by stalled-job detection.
 * The pauses follow the shared back-off schedule (src/retry); its call-retrying loop does not fit,
 * since this is a worker to replace whenever it reports a lost connection, not one call to repeat.
 *
 * A worker can also stop fetching without any error (e.g. waiting on a marker or notification that
 * deleted keys or rows will never deliver). `checkIdle` notices one that started nothing for a whole
 * check period while jobs were ready and it had room, and replaces it the same way.
 */
export class SupervisedWorker {
  private current: Worker;
  /** Replacements since a job last finished: how far along the back-off schedule the next pause is. */
  private replacements = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly retiring = new Set<Promise<void>>();
  // Jobs this worker's processor started (ever) and is running now, and what the last check saw.
  private started = 0;
  private running = 0;
  private lastCheck: { started: number; ready: boolean } | undefined;

  /**
   * `create` builds the BullMQ worker around the processor it is given (this supervisor counts the
   * jobs it runs); `concurrency` is how many jobs that worker runs at once.
   */
  constructor(
    private readonly create: (processor: (job: Job) => Promise<unknown>) => Worker,
    private readonly processor: (job: Job, token?: string) => Promise<unknown>,
    private readonly concurrency: number,
    private readonly report: (err: Error) => void,
  ) {
    this.current = this.start();
  }

  private readonly counted = async (job: Job, token?: string): Promise<unknown> => {
    this.started += 1;
    this.running += 1;
    try {
      return await this.processor(job, token);
    } finally {
      this.running -= 1;
    }
  };

  private start(): Worker {
    const worker = this.create(this.counted);
    worker.on('error', (err) => {
      this.report(err);
      if (isTransientConnectionError(err)) this.replace(worker);
    });
    worker.on('completed', () => (this.replacements = 0));
    return worker;
  }

  private replace(broken: Worker): void {
    if (this.stopped || this.timer || broken !== this.current) return;
    this.retire(broken, true);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.current = this.start();
    }, backoffDelay(this.replacements, REPLACEMENT_PAUSES));
    this.replacements += 1;
  }

  /** Closes a worker in the background; `force` leaves its jobs in hand to stalled-job detection. */
  private retire(worker: Worker, force: boolean): void {
    const closing = worker
      .close(force)
      .catch(() => undefined)
      .finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
  }

  /**
   * Called once per check period with whether the queue has jobs ready to run now. Replaces the
   * worker, and resolves to true, when jobs were ready at the last check and still are, it had room
   * for more, and it started none in between: a worker that fetches would have taken one.
   */
  checkIdle(ready: boolean): boolean {
    const previous = this.lastCheck;
    this.lastCheck = { started: this.started, ready };
    const idle = !!previous?.ready && ready && this.started === previous.started && this.running < this.concurrency;
    if (!idle || this.stopped || this.timer) return false;
    // The jobs it has in hand (fewer than it could run) finish while the new worker starts at once.
    this.retire(this.current, false);
    this.current = this.start();
    return true;
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
