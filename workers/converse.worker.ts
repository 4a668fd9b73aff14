import { DelayedError } from 'bullmq';
import { createTelegramApi } from '../channels/telegram/telegram.client.js';
import { TelegramSender } from '../channels/telegram/telegram.outbound.js';
import type { ChannelName, ChannelSender } from '../channels/types.js';
import type { SenderDirectory, TurnQueue } from '../src/conversation/turn.ports.js';
import type { ProcessOutcome } from '../src/conversation/turn.service.js';
import type { JobQueues, QueueProcessor } from '../src/jobs/queues.js';
import type { Logger } from '../src/observability/logger.js';

/** The job id of an inbound message's turn: a redelivered message can never queue a second job. */
export function converseJobId(inboundId: string): string {
  return `converse_${inboundId}`;
}

// Jobs still to run or running; anything else may be replaced.
const liveStates = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/** The `converse` queue behind the TurnQueue port. */
export function createTurnQueue(queues: Pick<JobQueues, 'enqueue' | 'jobState' | 'removeJob'>): TurnQueue {
  return {
    async enqueue(inboundId, botId, delayMs) {
      await queues.enqueue('converse', { inboundId, botId }, { jobId: converseJobId(inboundId), ...(delayMs > 0 ? { delay: delayMs } : {}) });
    },
    async ensure(inboundId, botId) {
      const jobId = converseJobId(inboundId);
      const state = await queues.jobState('converse', jobId);
      if (liveStates.has(state)) return false;
      if (state !== 'unknown') await queues.removeJob('converse', jobId);
      await queues.enqueue('converse', { inboundId, botId }, { jobId });
      return true;
    },
  };
}

export interface ConverseWorkerDeps {
  turns: { process(inboundId: string): Promise<ProcessOutcome>; giveUp(inboundId: string, error: unknown): Promise<void> };
  /** How long a job waits before trying again when its conversation or creator is busy. */
  busyRetryMs: number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * The `converse` queue's processor. A busy conversation (or a creator at their cap) moves the job
 * back to delayed without spending an attempt; failures are retried with backoff, and the last one
 * marks the turn failed.
 */
export function createConverseProcessor(deps: ConverseWorkerDeps): QueueProcessor<'converse'> {
  return async (job, token) => {
    const { inboundId } = job.data;
    const log = { inboundId, jobId: job.id, attempt: job.attemptsMade + 1 };
    let outcome: ProcessOutcome;
    try {
      outcome = await deps.turns.process(inboundId);
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      deps.logger.warn({ ...log, err, last }, 'converse: turn failed');
      if (last) await deps.turns.giveUp(inboundId, err).catch((giveUpError: unknown) => deps.logger.error({ ...log, err: giveUpError }, 'converse: could not record the failure'));
      throw err;
    }
    if (outcome === 'busy') {
      // Jitter keeps jobs of one busy conversation from waking in lockstep.
      await job.moveToDelayed(Date.now() + deps.busyRetryMs + Math.floor(Math.random() * deps.busyRetryMs), token);
      throw new DelayedError();
    }
    return { outcome };
  };
}

export interface TelegramSenderCacheOptions {
  /** The bot's Telegram token, or null when Telegram is not connected. */
  token(botId: string): Promise<string | null>;
  apiRoot: string;
  /** Telegram's rate limits applied client-side; off only against a local fake. */
  throttle: boolean;
}

/** One TelegramSender per bot and token, so a bot's throttling is shared by all its turns in this process. */
export class TelegramSenderCache implements SenderDirectory {
  private readonly senders = new Map<string, { token: string; sender: TelegramSender }>();

  constructor(private readonly options: TelegramSenderCacheOptions) {}

  async sender(botId: string, channel: ChannelName): Promise<ChannelSender | null> {
    if (channel !== 'telegram') return null;
    const token = await this.options.token(botId);
    if (!token) {
      this.senders.delete(botId);
      return null;
    }
    const cached = this.senders.get(botId);
    // A changed token (reconnected in another process) replaces the sender here too.
    if (cached?.token === token) return cached.sender;
    const api = createTelegramApi(token, { apiRoot: this.options.apiRoot, ...(this.options.throttle ? {} : { throttle: false }) });
    const sender = new TelegramSender(api);
    this.senders.set(botId, { token, sender });
    return sender;
  }

  /** Drops a bot's sender after its channel changed. */
  invalidate(botId: string): void {
    this.senders.delete(botId);
  }
}
