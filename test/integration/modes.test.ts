import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { createJobQueues, type JobQueues } from '../../src/jobs/queues.js';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/** Runs jobs through the queue layer and reports which document ids were processed, how often. */
async function exerciseQueues(queues: JobQueues) {
  const processed: string[] = [];
  queues.work('ingest', async (job) => void processed.push(job.data.documentId), { concurrency: 2 });
  await queues.enqueue('ingest', { documentId: 'doc-1', botId: 'bot' }, { jobId: 'ingest_doc-1' });
  await queues.enqueue('ingest', { documentId: 'doc-2', botId: 'bot' }, { jobId: 'ingest_doc-2' });
  // A duplicate delivery of the same effect: same job id, must not run again.
  await queues.enqueue('ingest', { documentId: 'doc-1', botId: 'bot' }, { jobId: 'ingest_doc-1' });
  await waitFor(async () => (await queues.counts('ingest')).completed === 2, { what: 'two completed jobs' });
  return processed.sort();
}

describe('bare machine: embedded PGlite with BullMQ on its PostgreSQL backend', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-bare-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves pg clients, runs queued jobs exactly once, and keeps data across restarts', async () => {
    let database: Database | undefined = await openDatabase({ dataDir, poolMax: 5 });
    let queues: JobQueues | undefined;
    try {
      expect(database.kind).toBe('pglite');
      expect(await migrate(database.pool)).not.toEqual([]);
      const { rows } = await database.pool.query(
        "INSERT INTO creators (email, name, password_hash) VALUES ('keep@example.com', 'Keep', 'x') RETURNING id",
      );
      const vector = await database.pool.query("SELECT '[1,0]'::vector <=> '[0,1]'::vector AS distance");
      expect(vector.rows[0].distance).toBe(1);

      queues = createJobQueues({ databaseUrl: database.url, prefix: uniquePrefix() });
      expect(queues.backend).toBe('postgres');
      expect(await exerciseQueues(queues)).toEqual(['doc-1', 'doc-2']);
      await queues.close();
      queues = undefined;
      await database.close();

      database = await openDatabase({ dataDir, poolMax: 5 });
      expect(await migrate(database.pool)).toEqual([]);
      const again = await database.pool.query('SELECT email FROM creators WHERE id = $1', [rows[0].id]);
      expect(again.rows[0].email).toBe('keep@example.com');
    } finally {
      await queues?.close();
      await database?.close();
    }
  });
});

describe('small server: PostgreSQL for data and queues', () => {
  let testDb: TestDatabase;
  afterAll(() => testDb?.drop());

  it('runs queued jobs exactly once on BullMQ’s PostgreSQL backend', async () => {
    testDb = await createTestDatabase();
    const database = await openDatabase({ databaseUrl: testDb.url, dataDir: tmpdir(), poolMax: 4 });
    const queues = createJobQueues({ databaseUrl: database.url, prefix: uniquePrefix() });
    try {
      expect(database.kind).toBe('postgres');
      expect(queues.backend).toBe('postgres');
      expect(await exerciseQueues(queues)).toEqual(['doc-1', 'doc-2']);
      // BullMQ keeps its tables in their own schema, apart from ours.
      const { rows } = await database.pool.query("SELECT to_regclass('bullmq.job') AS job");
      expect(rows[0].job).toBe('bullmq.job');
    } finally {
      await queues.close();
      await database.close();
    }
  });
});

describe('scale-out: PostgreSQL for data, Redis for queues', () => {
  it('runs queued jobs exactly once on Redis under its own key prefix', async () => {
    const prefix = uniquePrefix();
    const queues = createJobQueues({ databaseUrl: 'postgres://unused', redisUrl: testRedisUrl, prefix });
    try {
      expect(queues.backend).toBe('redis');
      expect(await exerciseQueues(queues)).toEqual(['doc-1', 'doc-2']);
    } finally {
      await queues.close();
      const { Redis } = await import('ioredis');
      const redis = new Redis(testRedisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
