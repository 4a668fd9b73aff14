import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StreamLeases } from './stream-lease.js';

// One sorted set per creator: members are leases, scores their expiry on Redis's own clock (API
// processes on machines whose clocks differ still agree). Expired leases are dropped before counting.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// Only a lease still held is extended: one that expired meanwhile may have been counted away.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

/** Stream leases on Redis (scale-out). */
export class RedisStreamLeases implements StreamLeases {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(creatorId: string): string {
    return `${this.prefix}:event-streams:${creatorId}`;
  }

  async acquire(creatorId: string, max: number): Promise<string | null> {
    const leaseId = randomUUID();
    const granted = await this.redis.eval(ACQUIRE, 1, this.key(creatorId), max, this.ttlMs, leaseId);
    return Number(granted) === 1 ? leaseId : null;
  }

  async renew(leases: Array<{ creatorId: string; leaseId: string }>): Promise<void> {
    if (leases.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const lease of leases) pipeline.eval(RENEW, 1, this.key(lease.creatorId), this.ttlMs, lease.leaseId);
    await pipeline.exec();
  }

  async release(creatorId: string, leaseId: string): Promise<void> {
    await this.redis.zrem(this.key(creatorId), leaseId);
  }
}
