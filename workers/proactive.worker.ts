import { DelayedError, UnrecoverableError } from 'bullmq';
import type { BroadcastQueue } from '../src/coaching/broadcast.ports.js';
import type { BroadcastService } from '../src/coaching/broadcast.service.js';
import type { ProactiveQueue } from '../src/coaching/proactive.ports.js';
import type { ProactiveService } from '../src/coaching/proactive.service.js';
import type { JobQueues, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** The job id of a proactive send: one job per send (its effect), however often it is scheduled. */
export function proactiveJobId(sendId: string): string {
  return `proactive_${sendId}`;
}

/** The `proactive` queue behind the ProactiveQueue port. */
export function createProactiveQueue(queues: Pick<JobQueues, 'ensure' | 'redelay'>): ProactiveQueue {
  return {
    async schedule(sendId, botId, delayMs) {
      const jobId = proactiveJobId(sendId);
      if (await queues.redelay('proactive', jobId, delayMs)) return;
      await queues.ensure('proactive', { sendId, botId }, { jobId, ...(delayMs > 0 ? { delay: delayMs } : {}) });
    },
    async ensureDue(sendId, botId) {
      const jobId = proactiveJobId(sendId);
      if (await queues.redelay('proactive', jobId, 0)) return true;
      return queues.ensure('proactive', { sendId, botId }, { jobId });
    },
  };
}

/** The job id of a scheduled broadcast's start. */
export function broadcastStartJobId(broadcastId: string): string {
  return `broadcast_${broadcastId}`;
}

/**
 * Broadcasts' jobs on the `proactive` queue: their start, and their recipients' deliveries; adds of
 * one batch travel together, and an id already queued is left as it is.
 */
export function createBroadcastQueue(queues: Pick<JobQueues, 'enqueue' | 'ensure' | 'redelay'>): BroadcastQueue {
  return {
    async scheduleStart(broadcastId, botId, delayMs) {
      const jobId = broadcastStartJobId(broadcastId);
      if (await queues.redelay('proactive', jobId, delayMs)) return;
      await queues.ensure('proactive', { broadcastId, botId }, { jobId, ...(delayMs > 0 ? { delay: delayMs } : {}) });
    },
    async wakeMany(sends) {
      await Promise.all(
        sends.map((s) => queues.enqueue('proactive', { sendId: s.id, botId: s.botId }, { jobId: proactiveJobId(s.id), ...(s.delayMs > 0 ? { delay: s.delayMs } : {}) })),
      );
    },
  };
}

// How long a send held by another attempt waits before its job looks again.
const BUSY_RETRY_MS = 5_000;

/**
 * The `proactive` queue's processor. A send not yet due (the job ran early, or quiet hours moved it)
 * goes back to delayed without spending an attempt; failures are retried with backoff, and the last
 * one records the send failed.
 */
export function createProactiveProcessor(deps: {
  service: Pick<ProactiveService, 'deliver' | 'giveUp'>;
  broadcasts?: Pick<BroadcastService, 'startDue'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}): QueueProcessor<'proactive'> {
  return async (job, token) => {
    if ('broadcastId' in job.data && typeof job.data.broadcastId === 'string' && deps.broadcasts) {
      // A failure is retried with backoff; should every attempt fail, the reconciler starts it.
      const started = await deps.broadcasts.startDue(job.data.botId, job.data.broadcastId);
      if (started.outcome !== 'not_due') return started;
      await job.moveToDelayed(Date.now() + started.waitMs, token);
      throw new DelayedError();
    }
    const sendId = 'sendId' in job.data ? job.data.sendId : undefined;
    // A job whose record was lost: the reconciler re-creates it from the send in Postgres.
    if (typeof sendId !== 'string') throw new UnrecoverableError('proactive: the job has lost its payload');
    const log = { sendId, jobId: job.id, attempt: job.attemptsMade + 1 };
    let result;
    try {
      result = await deps.service.deliver(sendId);
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger.warn({ ...log, err, last }, 'proactive: delivery failed');
      if (last) await deps.service.giveUp(sendId, err).catch((giveUpError: unknown) => deps.logger.error({ ...log, err: giveUpError }, 'proactive: could not record the failure'));
      throw err;
    }
    if (result.outcome === 'not_due' || result.outcome === 'busy') {
      const waitMs = result.outcome === 'busy' ? BUSY_RETRY_MS : result.waitMs;
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    // Held for a person's takeover: the release wakes it again, so this job ends here.
    if (result.outcome === 'held') deps.logger.info(log, 'proactive: held while the conversation is taken over');
    if (result.outcome === 'settled' && result.settled.status !== 'sent') deps.logger.info({ ...log, ...result.settled }, 'proactive: not sent');
    return result.outcome === 'settled' ? result.settled : result;
  };
}
