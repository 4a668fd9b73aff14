/**
 * The one place that reads BullMQ's storage directly. BullMQ's public API cannot tell a live job from
 * a broken one: after keys or rows are deleted (a partial eviction, a failover, an operator's mistake)
 * a job can be left as a record in no state (`getJobState` says 'unknown' and a new `add` with its id
 * is ignored, because the record still exists), as a state entry without a record, or as an active
 * job whose lock is gone; and `Queue.remove` refuses a job that is still locked. Repair decides
 * liveness and deletes every trace of a job that is not live in one atomic step (a Lua script on
 * Redis, one transaction on PostgreSQL), so the caller can add it again under the same id.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../db/database.js';

/** What one repair found: a live job (left alone), or none any more (it was absent, finished or broken and is now cleared). */
export type RepairOutcome = 'live' | 'cleared';

export interface JobRepair {
  /** Leaves a live job alone; otherwise deletes whatever is left of it so its id can be added again. */
  clearUnlessLive(queue: string, jobId: string): Promise<RepairOutcome>;
  close(): Promise<void>;
}

// Redis keeps one list or sorted set per state (BullMQ's src/classes/queue-keys.ts). A job is live when
// its hash holds a payload and it sits in exactly one place a worker takes jobs from: waiting (or
// paused while the queue is paused), prioritized, delayed, waiting for children, or active under a
// lock. Anything else (no hash, no state, several states, active without a lock, finished) is cleared.
const REDIS_CLEAR_UNLESS_LIVE = `
local jobKey, lockKey, metaKey = KEYS[1], KEYS[2], KEYS[3]
local waitKey, pausedKey, activeKey = KEYS[4], KEYS[5], KEYS[6]
local prioritizedKey, delayedKey, childrenKey = KEYS[7], KEYS[8], KEYS[9]
local completedKey, failedKey, stalledKey = KEYS[10], KEYS[11], KEYS[12]
local jobId = ARGV[1]
local function listed(key) return redis.call('LPOS', key, jobId) ~= false end
local function scored(key) return redis.call('ZSCORE', key, jobId) ~= false end
local record = redis.call('HEXISTS', jobKey, 'data') == 1 and redis.call('HEXISTS', jobKey, 'timestamp') == 1
local locked = redis.call('EXISTS', lockKey) == 1
local paused = redis.call('HEXISTS', metaKey, 'paused') == 1
local places = {}
if listed(waitKey) then places[#places + 1] = 'wait' end
if listed(pausedKey) then places[#places + 1] = 'paused' end
if listed(activeKey) then places[#places + 1] = 'active' end
if scored(prioritizedKey) then places[#places + 1] = 'prioritized' end
if scored(delayedKey) then places[#places + 1] = 'delayed' end
if scored(childrenKey) then places[#places + 1] = 'waiting-children' end
if scored(completedKey) then places[#places + 1] = 'completed' end
if scored(failedKey) then places[#places + 1] = 'failed' end
if record and #places == 1 then
  local place = places[1]
  if (place == 'active' and locked) or (place == 'paused' and paused) or place == 'wait'
    or place == 'prioritized' or place == 'delayed' or place == 'waiting-children' then
    return 'live'
  end
end
redis.call('LREM', waitKey, 0, jobId)
redis.call('LREM', pausedKey, 0, jobId)
redis.call('LREM', activeKey, 0, jobId)
redis.call('ZREM', prioritizedKey, jobId)
redis.call('ZREM', delayedKey, jobId)
redis.call('ZREM', childrenKey, jobId)
redis.call('ZREM', completedKey, jobId)
redis.call('ZREM', failedKey, jobId)
redis.call('SREM', stalledKey, jobId)
redis.call('DEL', jobKey, lockKey, jobKey .. ':logs', jobKey .. ':dependencies', jobKey .. ':processed')
return 'cleared'
`;

const REDIS_SCRIPT_SHA = createHash('sha1').update(REDIS_CLEAR_UNLESS_LIVE).digest('hex');

/** Repair for BullMQ on Redis, keys under `<prefix>:<queue>:`. */
export class RedisJobRepair implements JobRepair {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  async clearUnlessLive(queue: string, jobId: string): Promise<RepairOutcome> {
    const key = (suffix: string) => `${this.prefix}:${queue}:${suffix}`;
    const keys = [
      key(jobId),
      key(`${jobId}:lock`),
      key('meta'),
      key('wait'),
      key('paused'),
      key('active'),
      key('prioritized'),
      key('delayed'),
      key('waiting-children'),
      key('completed'),
      key('failed'),
      key('stalled'),
    ];
    // By hash once Redis has the script (a pass may repair hundreds of jobs); sent whole when it has not.
    const outcome = await this.client.evalsha(REDIS_SCRIPT_SHA, keys.length, ...keys, jobId).catch((err: unknown) => {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return this.client.eval(REDIS_CLEAR_UNLESS_LIVE, keys.length, ...keys, jobId);
      throw err;
    });
    return outcome === 'live' ? 'live' : 'cleared';
  }

  async close() {}
}

/**
 * Repair for BullMQ's PostgreSQL backend, in its default schema `bullmq` (the one our queues use).
 * A job is one `job` row with a `state` column, so a record without a state cannot happen: a
 * waiting, delayed or waiting-for-children row is live, and so is an active one whose lock has not
 * expired; otherwise the row (and with it its logs) is deleted. The row is locked first so a worker
 * cannot claim it half-way.
 */
export class PostgresJobRepair implements JobRepair {
  private pool: pg.Pool | undefined;

  constructor(private readonly databaseUrl: string) {}

  async clearUnlessLive(queue: string, jobId: string): Promise<RepairOutcome> {
    // One connection is enough: repairs run one at a time, once per reconcile pass.
    this.pool ??= createPool(this.databaseUrl, 1);
    const { rows } = await this.pool.query<{ outcome: RepairOutcome }>(
      `WITH current AS (
         SELECT queue, id, (state IN ('waiting', 'delayed', 'waiting-children')
                 OR (state = 'active' AND lock_token IS NOT NULL AND locked_until_ms > $3)) AS live
           FROM bullmq.job WHERE queue = $1 AND id = $2 FOR UPDATE),
       cleared AS (
         DELETE FROM bullmq.job j USING current c WHERE j.queue = c.queue AND j.id = c.id AND NOT c.live RETURNING j.id)
       SELECT CASE WHEN EXISTS (SELECT 1 FROM current WHERE live) THEN 'live' ELSE 'cleared' END AS outcome`,
      [queue, jobId, Date.now()],
    );
    return rows[0]?.outcome ?? 'cleared';
  }

  async close() {
    await this.pool?.end();
  }
}
