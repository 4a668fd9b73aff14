/**
 * A worker that stops taking jobs while jobs wait (as one left waiting for a wake-up that deleted
 * queue keys will never send) is replaced by its supervisor at the next check; a worker that is
 * taking jobs, or has no room for more, is left alone.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SupervisedWorker } from '../../src/jobs/supervised-worker.js';
import { testRedisUrl, uniquePrefix } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

let redis: Redis;
let prefix: string;
let queue: Queue;
const supervisors: SupervisedWorker[] = [];

beforeAll(() => {
  redis = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
});

afterEach(async () => {
  for (const supervisor of supervisors.splice(0)) await supervisor.close();
  await queue?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
});

afterAll(() => {
  redis?.disconnect();
});

/**
 * A supervised worker on a fresh queue. The first worker it creates never fetches when `firstStuck`
 * (a BullMQ worker that is not running); the ones after are ordinary.
 */
function supervise(processor: (job: Job) => Promise<unknown>, { concurrency = 2, firstStuck = false } = {}) {
  prefix = uniquePrefix();
  queue = new Queue('work', { connection: redis, prefix });
  let created = 0;
  const supervisor = new SupervisedWorker(
    (counted) => new Worker('work', counted, { connection: redis, prefix, concurrency, autorun: !(firstStuck && created++ === 0) }),
    processor,
    concurrency,
    () => undefined,
  );
  supervisors.push(supervisor);
  return supervisor;
}

const waiting = async () => (await queue.getJobCounts('waiting')).waiting ?? 0;

describe('SupervisedWorker.checkIdle', () => {
  it('replaces a worker that took nothing for a whole check while jobs waited, and the jobs run', async () => {
    const processed: string[] = [];
    const supervisor = supervise(async (job) => void processed.push(job.id!), { firstStuck: true });
    await queue.add('work', {}, { jobId: 'one' });
    await queue.add('work', {}, { jobId: 'two' });

    expect(supervisor.checkIdle((await waiting()) > 0)).toBe(false);
    // A whole check period later the jobs still wait and the worker took none.
    expect(await waiting()).toBe(2);
    expect(supervisor.checkIdle((await waiting()) > 0)).toBe(true);
    await waitFor(() => processed.length === 2, { what: 'the jobs run by the new worker' });
    expect(processed.sort()).toEqual(['one', 'two']);
  });

  it('leaves alone a worker that took a job since the last check, or has no room for more', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const supervisor = supervise(
      async (job) => {
        started.push(job.id!);
        await held;
      },
      { concurrency: 1 },
    );
    try {
      expect(supervisor.checkIdle(true)).toBe(false);
      await queue.add('work', {}, { jobId: 'long' });
      await waitFor(() => started.length === 1, { what: 'the first job to start' });
      await queue.add('work', {}, { jobId: 'next' });
      // It started a job since the last check.
      expect(supervisor.checkIdle((await waiting()) > 0)).toBe(false);
      // Then nothing new for a whole check while a job waits, but its one slot is busy.
      expect(await waiting()).toBe(1);
      expect(supervisor.checkIdle((await waiting()) > 0)).toBe(false);
    } finally {
      release();
    }
    await waitFor(() => started.length === 2, { what: 'the waiting job to run once the slot is free' });
  });
});
