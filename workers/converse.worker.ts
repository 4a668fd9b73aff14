import { DelayedError, UnrecoverableError } from 'bullmq';
import type { TurnQueue } from '../src/conversation/turn.ports.js';
import type { ProcessResult } from '../src/conversation/turn.service.js';
import type { JobQueues, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** The job id of an inbound message's turn: a redelivered message can never queue a second job. */
export function converseJobId(inboundId: string): string {
  return `converse_${inboundId}`;
}

/** The `converse` queue behind the TurnQueue port. */
export function createTurnQueue(queues: Pick<JobQueues, 'enqueue' | 'ensure'>): TurnQueue {
  return {
    async enqueue(inboundId, botId, delayMs) {
      await queues.enqueue('converse', { inboundId, botId }, { jobId: converseJobId(inboundId), ...(delayMs > 0 ? { delay: delayMs } : {}) });
    },
    ensure(inboundId, botId) {
      return queues.ensure('converse', { inboundId, botId }, { jobId: converseJobId(inboundId) });
    },
  };
}

export interface ConverseWorkerDeps {
  turns: { process(inboundId: string): Promise<ProcessResult>; giveUp(inboundId: string, error: unknown): Promise<void> };
  /** The state of a message's job ('waiting', 'delayed', 'active', …; 'unknown' when there is none). */
  jobState?(inboundId: string): Promise<string>;
  /** How long a job waits before trying again when its conversation or creator is busy. */
  busyRetryMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

// Turns one job answers for later messages of its conversation before leaving them to their own jobs.
const MAX_DRAINED_TURNS = 20;

/**
 * After a job's own turn, answers the conversation's next message at once when its job already had
 * its turn and was sent back to wait because this one held the conversation (a turn longer than the
 * lock wait). Without this, that message would wait out the busy job's retry delay (250–500 ms)
 * although the conversation is free now. The message was committed before its job tried the lock,
 * so it is seen as the lock is released (`nextDue`). Its job stays as the safety net and finds it
 * answered. A message whose job is waiting in the queue is left to it (answering it here would let
 * an active conversation jump ahead of others), and one whose job is active is being answered by
 * that job. Failures are left to the message's own job too: they must not spend this job's attempts.
 */
async function drain(deps: ConverseWorkerDeps, first: ProcessResult, log: Record<string, unknown>): Promise<void> {
  if (!deps.jobState) return;
  let result = first;
  for (let i = 0; i < MAX_DRAINED_TURNS && result.outcome === 'done' && result.nextDue; i++) {
    const next = result.nextDue;
    try {
      if ((await deps.jobState(next)) !== 'delayed') return;
      result = await deps.turns.process(next);
    } catch (err) {
      deps.logger.warn({ ...log, err }, "converse: answering the conversation's next message failed; its own job will retry");
      return;
    }
  }
}

/**
 * The `converse` queue's processor. A busy conversation (or a creator at their cap) moves the job
 * back to delayed without spending an attempt; failures are retried with backoff, and the last one
 * marks the turn failed.
 */
export function createConverseProcessor(deps: ConverseWorkerDeps): QueueProcessor<'converse'> {
  return async (job, token) => {
    const { inboundId } = job.data;
    // A job whose stored record was lost comes back without its payload: retrying cannot help, and
    // the reconciler re-creates the job from the inbound message.
    if (typeof inboundId !== 'string') throw new UnrecoverableError('converse: the job has lost its payload');
    const log = { inboundId, jobId: job.id, attempt: job.attemptsMade + 1 };
    let result: ProcessResult;
    try {
      result = await deps.turns.process(inboundId);
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger.warn({ ...log, err, last }, 'converse: turn failed');
      if (last) await deps.turns.giveUp(inboundId, err).catch((giveUpError: unknown) => deps.logger.error({ ...log, err: giveUpError }, 'converse: could not record the failure'));
      throw err;
    }
    const { outcome } = result;
    if (outcome === 'busy') {
      // Jitter keeps jobs of one busy conversation from waking in lockstep.
      await job.moveToDelayed(Date.now() + deps.busyRetryMs + Math.floor(Math.random() * deps.busyRetryMs), token);
      throw new DelayedError();
    }
    await drain(deps, result, log);
    return { outcome };
  };
}
