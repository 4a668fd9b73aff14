import type { Redis } from 'ioredis';
import type { SharedSendPace } from '../src/conversation/channel.ports.js';

// Redis's own clock, so processes on machines whose clocks differ still agree on the slots. The key
// lives a minute past its last slot: an idle bot leaves nothing behind.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return slot - now`;

/** Send slots on Redis, shared by every API and worker process of the platform. */
export class RedisSendPace implements SharedSendPace {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async reserve(key: string, intervalMs: number): Promise<number> {
    return Number(await this.redis.eval(RESERVE, 1, `${this.prefix}:send-pace:${key}`, Math.ceil(intervalMs)));
  }
}
