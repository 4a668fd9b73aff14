import type { Redis } from 'ioredis';
import type { ModelCallBudget } from '../src/conversation/turn.ports.js';

const MINUTE_MS = 60_000;

/**
 * Bots' model calls per minute on Redis, shared by every API and worker process: one counter per
 * bot and minute, kept two minutes. A taker past the limit takes its increment back, so concurrent
 * takers may be refused together at the edge but the count never passes the limit.
 */
export class RedisModelCallBudget implements ModelCallBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(botId: string): string {
    return `${this.prefix}:model-calls:${botId}:${Math.floor(Date.now() / MINUTE_MS)}`;
  }

  async take(botId: string, perMinute: number): Promise<boolean> {
    const key = this.key(botId);
    const [incremented] = (await this.redis.multi().incr(key).pexpire(key, 2 * MINUTE_MS).exec()) ?? [];
    if (!incremented || incremented[0]) throw incremented?.[0] ?? new Error('Redis did not run the model-call count');
    const calls = Number(incremented[1]);
    if (calls <= perMinute) return true;
    await this.redis.decr(key);
    return false;
  }

  async giveBack(botId: string): Promise<void> {
    const key = this.key(botId);
    // Only a minute that has a count: a call taken just before the minute turned is not given to the next.
    await this.redis.eval(`if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then return redis.call('DECR', KEYS[1]) end return 0`, 1, key);
  }
}
