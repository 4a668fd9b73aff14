import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { EngineOptions } from '../conversation/engine.js';
import { TurnLimitsGate } from '../conversation/turn-limits.service.js';
import type { ReplyGate } from '../conversation/turn.ports.js';
import { ContactRateRepository, PgModelCallBudget } from '../db/usage-limits.repository.js';
import type { Metrics } from '../observability/metrics.js';
import { RedisModelCallBudget } from '../../workers/model-call-budget.redis.js';

/** The operator's usage limits, assembled: what the conversations module wires into the engine and the turns. */
export interface UsageLimits {
  /** The engine's side: requests clamped to the caps, and model calls counted. */
  engine: Pick<EngineOptions, 'maxContextSize' | 'maxAnswerTokens' | 'onModelCall'>;
  /** The gate every turn passes before the model, on every channel: the limits, then `next`. */
  replyGate: ReplyGate;
}

export interface UsageLimitsDeps {
  config: Config;
  pool: pg.Pool;
  /** Whether per-turn statements may be prepared per connection (PostgreSQL, not the embedded database). */
  prepared: boolean;
  /** Counts bots' model calls across processes when present; PostgreSQL does otherwise. */
  redis?: Redis | undefined;
  metrics: Metrics;
  /** The plans' gate (src/billing), asked once a turn is within the limits. */
  next: ReplyGate;
}

/** Builds the usage limits from configuration and reports the caps on /metrics. */
export function createUsageLimits({ config, pool, prepared, redis, metrics, next }: UsageLimitsDeps): UsageLimits {
  metrics.usageCaps.set({ cap: 'max_context_tokens' }, config.MAX_CONTEXT_TOKENS);
  metrics.usageCaps.set({ cap: 'max_answer_tokens' }, config.MAX_ANSWER_TOKENS);
  metrics.usageCaps.set({ cap: 'contact_messages_per_minute' }, config.CONTACT_MESSAGES_PER_MINUTE);
  metrics.usageCaps.set({ cap: 'bot_model_calls_per_minute' }, config.BOT_MODEL_CALLS_PER_MINUTE);
  const replyGate = new TurnLimitsGate({
    contactRate: new ContactRateRepository(pool, { prepared }),
    budget: redis ? new RedisModelCallBudget(redis, config.QUEUE_PREFIX) : new PgModelCallBudget(pool, { prepared }),
    limits: { contactMessagesPerMinute: config.CONTACT_MESSAGES_PER_MINUTE, botModelCallsPerMinute: config.BOT_MODEL_CALLS_PER_MINUTE },
    next,
    onRefused: (reason) => metrics.turnsRefused.inc({ reason }),
  });
  return {
    engine: {
      maxContextSize: config.MAX_CONTEXT_TOKENS,
      maxAnswerTokens: config.MAX_ANSWER_TOKENS,
      onModelCall: ({ botId, purpose }) => metrics.modelCalls.inc({ bot: botId, purpose }),
    },
    replyGate,
  };
}
