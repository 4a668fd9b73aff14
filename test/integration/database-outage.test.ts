import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('a connection lost while checked out', () => {
  let testDb: TestDatabase;
  afterAll(() => testDb?.drop());

  it('reaches the caller as a failed query, not a crashed process, and the pool recovers', async () => {
    testDb = await createTestDatabase();
    const database = await openDatabase({ databaseUrl: testDb.url, dataDir: tmpdir(), poolMax: 2 });
    try {
      const client = await database.pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      // The server ends the session while the client sits idle between queries of a transaction.
      await testDb.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      const again = await database.pool.query('SELECT 1 AS ok');
      expect(again.rows[0].ok).toBe(1);
    } finally {
      await database.close();
    }
  });
});
