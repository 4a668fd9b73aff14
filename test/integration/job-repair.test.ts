/**
 * `JobQueues.ensure` against jobs left broken by deleted queue keys or rows: each broken shape is
 * re-created under the same id and then runs once; a live job is left alone.
 */
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createJobQueues, type JobQueues } from '../../src/jobs/queues.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const payload = (documentId: string) => ({ documentId, botId: 'bot' });

let testDb: TestDatabase;
let database: Database;
let redis: Redis;
let queues: JobQueues | undefined;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase({ databaseUrl: testDb.url, dataDir: tmpdir(), poolMax: 4 });
  redis = new Redis(testRedisUrl);
});

afterEach(async () => {
  await queues?.close();
  queues = undefined;
});

afterAll(async () => {
  redis?.disconnect();
  await database?.close();
  await testDb?.drop();
});

/** Starts a worker that records each document id it processes. */
function startWorker(jobQueues: JobQueues): string[] {
  const processed: string[] = [];
  jobQueues.work('ingest', async (job) => void processed.push(job.data.documentId), { concurrency: 2 });
  return processed;
}

describe('on Redis', () => {
  let prefix: string;
  const key = (suffix: string) => `${prefix}:ingest:${suffix}`;

  async function redisQueues() {
    prefix = uniquePrefix();
    queues = createJobQueues({ redisUrl: testRedisUrl, databaseUrl: testDb.url, prefix });
    await queues.ready();
    return queues;
  }

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });

  it('re-creates an orphaned job (a record in no state), which a plain add ignores, and runs it once', async () => {
    const jobQueues = await redisQueues();
    await jobQueues.enqueue('ingest', payload('orphan'), { jobId: 'ingest_orphan' });
    // The wait list is lost; the job's hash survives.
    await redis.del(key('wait'));
    expect(await redis.exists(key('ingest_orphan'))).toBe(1);
    expect(await jobQueues.jobState('ingest', 'ingest_orphan')).toBe('unknown');
    await jobQueues.enqueue('ingest', payload('orphan'), { jobId: 'ingest_orphan' });
    expect(await jobQueues.jobState('ingest', 'ingest_orphan')).toBe('unknown');

    expect(await jobQueues.ensure('ingest', payload('orphan'), { jobId: 'ingest_orphan' })).toBe(true);
    expect(await jobQueues.jobState('ingest', 'ingest_orphan')).toBe('waiting');
    const processed = startWorker(jobQueues);
    await waitFor(async () => (await jobQueues.jobState('ingest', 'ingest_orphan')) === 'completed', { what: 'the re-created job to complete' });
    expect(processed).toEqual(['orphan']);
  });

  it('re-creates a job listed as waiting whose record is gone, with its payload', async () => {
    const jobQueues = await redisQueues();
    await jobQueues.enqueue('ingest', payload('hashless'), { jobId: 'ingest_hashless' });
    await redis.del(key('ingest_hashless'));
    expect(await jobQueues.jobState('ingest', 'ingest_hashless')).toBe('waiting');

    expect(await jobQueues.ensure('ingest', payload('hashless'), { jobId: 'ingest_hashless' })).toBe(true);
    const processed = startWorker(jobQueues);
    await waitFor(async () => (await jobQueues.jobState('ingest', 'ingest_hashless')) === 'completed', { what: 'the re-created job to complete' });
    expect(processed).toEqual(['hashless']);
  });

  it('re-creates an active job whose lock is gone, and leaves a waiting one alone', async () => {
    const jobQueues = await redisQueues();
    await jobQueues.enqueue('ingest', payload('unlocked'), { jobId: 'ingest_unlocked' });
    await jobQueues.enqueue('ingest', payload('healthy'), { jobId: 'ingest_healthy' });
    // Taken by a worker that is gone, its lock deleted: listed as active, nobody runs it.
    await redis.lrem(key('wait'), 0, 'ingest_unlocked');
    await redis.lpush(key('active'), 'ingest_unlocked');
    expect(await jobQueues.jobState('ingest', 'ingest_unlocked')).toBe('active');

    expect(await jobQueues.ensure('ingest', payload('unlocked'), { jobId: 'ingest_unlocked' })).toBe(true);
    expect(await jobQueues.ensure('ingest', payload('healthy'), { jobId: 'ingest_healthy' })).toBe(false);
    const processed = startWorker(jobQueues);
    await waitFor(async () => (await jobQueues.counts('ingest')).completed === 2, { what: 'both jobs to complete' });
    expect(processed.sort()).toEqual(['healthy', 'unlocked']);
  });
});

describe('on the PostgreSQL backend', () => {
  async function postgresQueues() {
    queues = createJobQueues({ databaseUrl: testDb.url, prefix: uniquePrefix() });
    await queues.ready();
    await database.pool.query(`DELETE FROM bullmq.job WHERE queue = 'ingest'`);
    return queues;
  }

  it('re-creates an active job whose lock has expired, and a deleted one, and leaves a waiting one alone', async () => {
    const jobQueues = await postgresQueues();
    for (const id of ['expired', 'deleted', 'healthy']) await jobQueues.enqueue('ingest', payload(id), { jobId: `ingest_${id}` });
    // Claimed by a worker that is gone: active, its lock long expired.
    await database.pool.query(
      `UPDATE bullmq.job SET state = 'active', lock_token = 'gone', locked_until_ms = $1 WHERE queue = 'ingest' AND id = 'ingest_expired'`,
      [Date.now() - 60_000],
    );
    await database.pool.query(`DELETE FROM bullmq.job WHERE queue = 'ingest' AND id = 'ingest_deleted'`);

    expect(await jobQueues.ensure('ingest', payload('expired'), { jobId: 'ingest_expired' })).toBe(true);
    expect(await jobQueues.ensure('ingest', payload('deleted'), { jobId: 'ingest_deleted' })).toBe(true);
    expect(await jobQueues.ensure('ingest', payload('healthy'), { jobId: 'ingest_healthy' })).toBe(false);
    const processed = startWorker(jobQueues);
    await waitFor(async () => (await jobQueues.counts('ingest')).completed === 3, { what: 'the three jobs to complete' });
    expect(processed.sort()).toEqual(['deleted', 'expired', 'healthy']);
  });
});
