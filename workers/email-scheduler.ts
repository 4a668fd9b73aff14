import type { Logger } from '../src/observability/logger.js';
import { startPeriodic } from './periodic.js';

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
  return startPeriodic({
    name: 'email',
    intervalMs: options.intervalMs,
    logger: options.logger,
    async pass() {
      const requeued = await options.email.requeueStale(new Date(Date.now() - options.staleAfterMs));
      if (requeued > 0) options.logger.info({ requeued }, 'email: re-enqueued unsettled emails');
      const digests = (await options.digests?.sendDue()) ?? 0;
      if (digests > 0) options.logger.info({ digests }, 'email: weekly digests queued');
    },
  });
}
