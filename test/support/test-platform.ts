import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPlatform, type Platform } from '../../src/platform.js';
import { createTestDatabase, uniquePrefix, type TestDatabase } from './test-database.js';

export interface TestPlatform extends Platform {
  testDatabase: TestDatabase;
  /** Closes the platform and drops its database and data directory. */
  stop(): Promise<void>;
}

/** One free plan without limits (PLANS_JSON). */
export const unlimitedPlans = JSON.stringify([
  { id: 'free', name: 'Unlimited', limits: { bots: null, documents: null, storageBytes: null, repliesPerMonth: null, contacts: null } },
]);

/**
 * The real platform, wired by `createPlatform`, on a fresh database of the shared PostgreSQL server.
 * `env` overrides configuration (e.g. `{ REDIS_URL }` for the scale-out mode, `{ VECTOR_STORE: 'chroma' }`).
 */
export async function startTestPlatform(
  env: Record<string, string | undefined> = {},
  options: {
    workers?: boolean;
    /** Where log lines go (LOG_LEVEL decides which), e.g. to check what is logged. */
    logStream?: DestinationStream;
    /** The platform's wall clock, for tests about expiry. */
    clock?: () => Date;
  } = {},
): Promise<TestPlatform> {
  const testDatabase = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: testDatabase.url,
    QUEUE_PREFIX: uniquePrefix(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_MAX: '100000',
    AUTH_RATE_LIMIT_MAX: '100000',
    CONTACT_MESSAGES_PER_MINUTE: '100000',
    BOT_MODEL_CALLS_PER_MINUTE: '100000',
    // Nothing listens here: the extractive fallback and lexical-only retrieval unless a test sets a fake.
    OLLAMA_HOST: 'http://127.0.0.1:9',
    SEED_DEMO: 'false',
    // Suites about other things are not capped by the default Free plan; billing tests set their own plans.
    PLANS_JSON: unlimitedPlans,
    ...env,
  });
  const platform = await createPlatform(config, createLogger(config.LOG_LEVEL, options.logStream), options.clock ? { clock: options.clock } : {});
  if (options.workers !== false) platform.startWorkers();
  return Object.assign(platform, {
    testDatabase,
    async stop() {
      await platform.close();
      await testDatabase.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
