import { createHash } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import type { EmailJobQueue } from '../src/email/delivery.ports.js';
import type { DeliveryOutcome } from '../src/email/email-delivery.service.js';
import { MailDeliveryError } from '../src/email/email.errors.js';
import type { JobQueues, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

// Provider outages last minutes: 2 s doubling over 8 attempts spans about eight and a half minutes.
const EMAIL_ATTEMPTS = 8;
const EMAIL_BACKOFF_MS = 2_000;

/** The job id of an email: from its dedupe key (hashed, since job ids may not contain ':'). */
export function emailJobId(dedupeKey: string): string {
  return `email_${createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 40)}`;
}

/** The `email` queue behind the EmailJobQueue port. */
export function createEmailQueue(queues: Pick<JobQueues, 'enqueue' | 'ensure'>): EmailJobQueue {
  const options = (dedupeKey: string) => ({
    jobId: emailJobId(dedupeKey),
    attempts: EMAIL_ATTEMPTS,
    backoff: { type: 'exponential', delay: EMAIL_BACKOFF_MS },
  });
  return {
    async enqueue(messageId, dedupeKey) {
      await queues.enqueue('email', { messageId }, options(dedupeKey));
    },
    // A finished or broken job whose message is still unsettled (e.g. its last attempt died before
    // recording the outcome, or the queue lost part of it) gives way to a fresh run.
    ensure: (messageId, dedupeKey) => queues.ensure('email', { messageId }, options(dedupeKey)),
  };
}

export interface EmailWorkerDeps {
  delivery: { deliver(messageId: string, options: { lastAttempt: boolean }): Promise<DeliveryOutcome> };
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * The `email` queue's processor. Rate limits, provider errors and network failures are retried
 * with backoff; a refusal that retrying cannot change (bad request, rejected key) fails at once.
 */
export function createEmailProcessor(deps: EmailWorkerDeps): QueueProcessor<'email'> {
  return async (job) => {
    const { messageId } = job.data;
    const attempt = job.attemptsMade + 1;
    const log = { messageId, jobId: job.id, attempt };
    try {
      const outcome = await deps.delivery.deliver(messageId, { lastAttempt: attempt >= (job.opts.attempts ?? 1) });
      if (outcome === 'suppressed') deps.logger.info(log, 'email: recipient suppressed; not sent');
      return { outcome };
    } catch (err) {
      if (err instanceof MailDeliveryError && !err.retryable) {
        deps.logger.error({ ...log, err }, 'email: refused by the provider; not retried');
        throw new UnrecoverableError(err.message);
      }
      deps.logger.warn({ ...log, err }, 'email: attempt failed; will retry');
      throw err;
    }
  };
}
