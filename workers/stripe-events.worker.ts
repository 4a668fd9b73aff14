import type { StripeEventQueue } from '../src/billing/ports.js';
import type { StripeEventOutcome } from '../src/billing/stripe-events.service.js';
import type { JobQueues, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';
import { startPeriodic } from './periodic.js';

/** The `stripe-events` queue behind the billing port: job id = Stripe's event id. */
export function createStripeEventQueue(queues: Pick<JobQueues, 'enqueue' | 'ensure'>): StripeEventQueue {
  return {
    async enqueue(eventId) {
      await queues.enqueue('stripe-events', { eventId }, { jobId: eventId });
    },
    // A finished or broken job of an event still unapplied gives way to a fresh run.
    ensure: (eventId) => queues.ensure('stripe-events', { eventId }, { jobId: eventId }),
  };
}

export interface StripeEventsWorkerDeps {
  events: { process(eventId: string): Promise<StripeEventOutcome>; giveUp(eventId: string, error: unknown): Promise<void> };
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * The `stripe-events` processor: applies one stored event and sends what it raised. Failures
 * (Stripe or the database unreachable) are retried with backoff; the last one is recorded on the
 * event.
 */
export function createStripeEventsProcessor(deps: StripeEventsWorkerDeps): QueueProcessor<'stripe-events'> {
  return async (job) => {
    const { eventId } = job.data;
    const log = { eventId, attempt: job.attemptsMade + 1 };
    try {
      const outcome = await deps.events.process(eventId);
      deps.logger.info({ ...log, outcome }, 'stripe-events: event handled');
      return { outcome };
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger.warn({ ...log, err, last }, 'stripe-events: processing failed');
      if (last) await deps.events.giveUp(eventId, err).catch((giveUpError: unknown) => deps.logger.error({ ...log, err: giveUpError }, 'stripe-events: could not record the failure'));
      throw err;
    }
  };
}

export interface StripeEventSweepOptions {
  events: { requeueUnsettled(graceMs: number): Promise<number> };
  intervalMs: number;
  /** Events younger than this are left to the webhook's own enqueue. */
  graceMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Re-queues stored events that never got a job (the queue was down when the webhook stored them)
 * or whose notifications are still unsent. Job ids make overlapping passes harmless.
 */
export function startStripeEventSweep(options: StripeEventSweepOptions): { stop(): Promise<void> } {
  return startPeriodic({
    name: 'stripe-events',
    intervalMs: options.intervalMs,
    logger: options.logger,
    async pass() {
      const added = await options.events.requeueUnsettled(options.graceMs);
      if (added > 0) options.logger.info({ added }, 'stripe-events: re-queued stored events');
    },
  });
}
