import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

/** The shared server's maintenance database; every run creates and drops its own databases on it. */
export const adminDatabaseUrl = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  /** Simulates the database going down: refuses new connections and ends the existing ones. */
  cutOff(): Promise<void>;
  /** Lets clients connect again after `cutOff()`. */
  restore(): Promise<void>;
  drop(): Promise<void>;
}

/** Runs `work` on a fresh connection to `connectionString`, closed afterwards whatever happens. */
export async function withPgClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function asAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withPgClient(adminDatabaseUrl, work);
}

function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a fresh database `t_<random>` on the real server, migrated unless told otherwise. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  // Opened as the platform opens its pools: a connection the final DROP … WITH (FORCE) cuts while it
  // is still closing must not crash the run.
  const pool = createPool(url, 10);
  if (options.migrate !== false) await migrate(pool);
  let dropped = false;
  return {
    name,
    url,
    pool,
    async cutOff() {
      await asAdmin(async (client) => {
        await client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        // A connection that passed its start-up check just before the ALTER shows up a moment later:
        // end connections until none is left twice in a row, so "down" really is down when this returns.
        let quietRounds = 0;
        for (let round = 0; round < 200; round++) {
          const { rows } = await client.query<{ remaining: number }>(
            `SELECT count(*)::int AS remaining FROM (
               SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
             ) ended`,
            [name],
          );
          quietRounds = rows[0]!.remaining === 0 ? quietRounds + 1 : 0;
          if (quietRounds === 2) return;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`connections to ${name} kept coming back after ALLOW_CONNECTIONS false`);
      });
    },
    async restore() {
      await asAdmin((client) => client.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A Redis key prefix no other run uses. */
export function uniquePrefix(): string {
  return `t_${randomBytes(5).toString('hex')}`;
}
