import type { Logger } from '../src/observability/logger.js';

export interface EmailSchedulerOptions {
  /** Queues the weekly digests now due (idempotent: one per creator and week). */
  digests?: { sendDue(now?: Date): Promise<number> };
  /** Re-enqueues emails left unsettled (a lost enqueue or a queue that lost its data). */
  email: { requeueStale(before: Date): Promise<number> };
  intervalMs: number;
  /** Emails younger than this are left to their own enqueue. */
  staleAfterMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Runs the email housekeeping now and then every `intervalMs` in a worker process: due weekly
 * digests and the safety net for unsettled emails. Every worker process runs it; dedupe keys and
 * job ids make overlapping passes harmless.
 */
export function startEmailScheduler(options: EmailSchedulerOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const pass = async () => {
    const requeued = await options.email.requeueStale(new Date(Date.now() - options.staleAfterMs));
    if (requeued > 0) options.logger.info({ requeued }, 'email: re-enqueued unsettled emails');
    const digests = (await options.digests?.sendDue()) ?? 0;
    if (digests > 0) options.logger.info({ digests }, 'email: weekly digests queued');
  };
  const tick = () => {
    if (running || stopped) return;
    running = pass()
      .catch((err: unknown) => options.logger.warn({ err }, 'email: scheduler pass failed; trying again next interval'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
