import pg from 'pg';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { fileURLToPath } from 'node:url';
import { ensureDashboardBuilt } from '../../scripts/dashboard-build.mjs';
import { startChromaServer } from './chroma-server.js';
import { adminDatabaseUrl, testRedisUrl } from './test-database.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** Base URL of the real Chroma server the tests use (read with `inject('chromaUrl')`). */
    chromaUrl: string;
  }
}

/** Fails fast, with the fix, when a service the integration tests need is not running. */
export default async function setup(project: TestProject) {
  const client = new pg.Client({ connectionString: adminDatabaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'");
    if (rows[0].n !== 1) throw new Error('pgvector is not installed on the PostgreSQL server (run .ci/install-pgvector.sh)');
  } catch (err) {
    throw new Error(`PostgreSQL at ${adminDatabaseUrl} is not usable: ${(err as Error).message}. Run: bash .ci/run`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${testRedisUrl} is not reachable: ${(err as Error).message}. Run: bash .ci/run`);
  } finally {
    redis.disconnect();
  }
  // Tests of /app and the dashboard in a browser need its build of the sources as they are now.
  await ensureDashboardBuilt(fileURLToPath(new URL('../..', import.meta.url)));
  // One real Chroma server per test run, unless the environment already points at one.
  const chroma = process.env.CHROMA_URL ? undefined : await startChromaServer();
  project.provide('chromaUrl', process.env.CHROMA_URL ?? chroma?.url ?? '');
  return async () => {
    await chroma?.stop();
  };
}
