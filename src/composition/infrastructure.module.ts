import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { outgoingFetch, type FetchMaker } from '../http-client/outgoing-fetch.js';
import type { Fetch } from '../http-client/undici-fetch.js';
import { createJobQueues, queueNames, type JobQueues } from '../jobs/queues.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { InProcessTopicBus } from '../pubsub/in-process.topic-bus.js';
import { PostgresTopicBus } from '../pubsub/postgres.topic-bus.js';
import { RedisTopicBus } from '../pubsub/redis.topic-bus.js';
import type { TopicBus } from '../pubsub/topic-bus.js';
import type { ModuleLifecycle } from './module.types.js';

/** The connections every feature shares: the database, the queues, Redis when configured, metrics. */
export interface InfrastructureModule extends ModuleLifecycle {
  database: Database;
  /** Whether per-turn statements may be prepared per connection: the embedded database has one session behind every connection. */
  prepared: boolean;
  queues: JobQueues;
  /** Shared counters across processes (rate limits, model-call budgets) when REDIS_URL is set. */
  redis: Redis | undefined;
  metrics: Metrics;
  /** Events between processes (web chat replies, creators' live bot events): one connection per process. */
  topics: TopicBus;
  /** HTTP_CLIENT: makes the fetch each SDK that calls out (Ollama, Telegram, WhatsApp) is given. */
  makeFetch: FetchMaker;
  /** One shared fetch of that kind, for the SDK clients that need no options of their own. */
  sdkFetch: Fetch;
}

/** Warns when Redis may evict queue keys or lose them on restart (DESIGN.md, "Running it"). */
async function checkRedisDurability(redis: Redis, logger: Logger) {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      logger.warn({ policy }, 'Redis maxmemory-policy should be noeviction: evicted keys lose queued jobs');
    }
    const [, aof] = (await redis.config('GET', 'appendonly')) as [string, string];
    if (aof !== 'yes') logger.warn('Redis runs without AOF; queued jobs are lost if it restarts');
  } catch {
    // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}

// The PostgreSQL notification channel of the topic bus.
const NOTIFY_CHANNEL = 'platform_events';
// On the embedded database idle workers look for jobs this often (no NOTIFY reaches them); queues
// that must react faster (turns, ingestion) set their own.
const EMBEDDED_QUEUE_POLL_MS = 1_000;

/**
 * Where events between processes travel: Redis pub/sub when there is Redis, else PostgreSQL's
 * LISTEN/NOTIFY; the embedded database serves one process, which keeps them in memory.
 */
function createTopicBus(config: Config, database: Database, redis: Redis | undefined, logger: Logger): TopicBus {
  const onError = (err: Error) => logger.warn({ err: err.message }, 'event bus connection error; retrying');
  if (redis) return new RedisTopicBus(redis, `${config.QUEUE_PREFIX}:`, onError);
  if (database.kind === 'postgres') return new PostgresTopicBus(database.pool, database.url, NOTIFY_CHANNEL, onError);
  return new InProcessTopicBus();
}

/** Opens the database (migrating it), the queues and Redis; drains the queue workers last and closes the database last of all. */
export async function createInfrastructureModule({ config, logger }: { config: Config; logger: Logger }): Promise<InfrastructureModule> {
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    poolMax: config.DATABASE_POOL_MAX,
    onCreating: (dir) => logger.info({ dir }, 'first start: creating the embedded database (a few seconds)…'),
  });
  const applied = await migrate(database.pool);
  if (applied.length) logger.info({ applied }, 'database migrated');

  const queues = createJobQueues({
    redisUrl: config.REDIS_URL,
    databaseUrl: database.url,
    prefix: config.QUEUE_PREFIX,
    onError: (err, source) => logger.warn({ err: err.message, source }, 'queue connection error; retrying'),
    ...(database.kind === 'pglite' ? { idlePollMs: EMBEDDED_QUEUE_POLL_MS } : {}),
  });
  await queues.ready();
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  if (redis) await checkRedisDurability(redis, logger);

  const metrics = createMetrics(async () =>
    Object.fromEntries(await Promise.all(queueNames.map(async (name) => [name, await queues.counts(name)] as const))),
  );

  const makeFetch = outgoingFetch(config.HTTP_CLIENT);
  const topics = createTopicBus(config, database, redis, logger);

  return {
    database,
    prepared: database.kind === 'postgres',
    queues,
    redis,
    metrics,
    topics,
    makeFetch,
    sdkFetch: makeFetch(),
    // Built first, drained last: every other module has stopped queuing by then, so the workers
    // finish what they hold and nothing new arrives.
    drain: () => queues.close(),
    async stop() {
      await topics.close();
      redis?.disconnect();
      await database.close();
    },
  };
}
