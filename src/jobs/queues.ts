import { Queue, Worker, createPostgresBackend, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { ResilientClient, useResilientPgClients } from '../db/resilient-client.js';
import { PostgresJobRepair, RedisJobRepair, type JobRepair } from './job-repair.js';
import { SupervisedWorker } from './supervised-worker.js';

/** Payload of every queue, by queue name: the one place a producer and its worker agree on. */
export interface QueuePayloads {
  /** Load, split, embed and store one document. */
  ingest: { documentId: string; botId: string };
  /** Answer the turn holding one inbound message (job id `converse_<inboundId>`). */
  converse: { inboundId: string; botId: string };
  /** Deliver one queued email (job id from its dedupe key: `email_<hash>`). */
  email: { messageId: string };
  /** Apply one stored Stripe event (job id = the event id, so a redelivered event never queues twice). */
  'stripe-events': { eventId: string };
  /**
   * Deliver one proactive message once it is due (job id `proactive_<sendId>`), or start a scheduled
   * broadcast: choose its recipients and queue theirs (job id `broadcast_<broadcastId>`).
   */
  proactive: { sendId: string; botId: string } | { broadcastId: string; botId: string };
  /**
   * Read a website into documents or sync it (job id `crawl_<siteId>` on demand; the site's scheduler
   * `sync_<siteId>`), or sync the bot's documents added by a single web address (scheduler `urls_<botId>`).
   */
  crawl: { siteId: string; botId: string } | { botId: string; singleUrls: true };
  /** Re-embed one document's chunks with a new embedding model (job id `reembed_<documentId>_<model hash>`). */
  reembed: { documentId: string; botId: string; model: string };
}

export type QueueName = keyof QueuePayloads;

/** Every queue, for start-up checks and metrics. */
export const queueNames: QueueName[] = ['ingest', 'converse', 'email', 'stripe-events', 'proactive', 'crawl', 'reembed'];
export type QueueJob<N extends QueueName> = Job<QueuePayloads[N], unknown, string>;
export type QueueProcessor<N extends QueueName> = (job: QueueJob<N>, token?: string) => Promise<unknown>;

export interface WorkerSettings<N extends QueueName = QueueName> {
  concurrency: number;
  /** How long a job may run before another worker may take it over as stalled. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (BullMQ's default: 30 s). */
  stalledIntervalMs?: number;
  /** Times a job may stall and be taken over before BullMQ fails it (BullMQ's default: 1). */
  maxStalledCount?: number;
  /** Told of every failed attempt, including those BullMQ fails without running the processor (stalled too often). */
  onFailed?: (job: QueueJob<N>, err: Error) => void;
  /**
   * How often an idle worker looks for new jobs when no notification can wake it: the embedded
   * database does not pass NOTIFY between its connections (BullMQ's default: every 5 s).
   */
  idlePollMs?: number;
}

/** Typed access to BullMQ, identical whichever backend (Redis or PostgreSQL) carries it. */
export interface JobQueues {
  readonly backend: 'redis' | 'postgres';
  /** Adds a job; a second add with the same `jobId` is a no-op, so effects keyed by id stay single. */
  enqueue<N extends QueueName>(name: N, data: QueuePayloads[N], options: JobsOptions & { jobId: string }): Promise<void>;
  /** Starts a worker for `name`, replaced after database outages; it is closed by `close()`. */
  work<N extends QueueName>(name: N, processor: QueueProcessor<N>, settings: WorkerSettings<N>): void;
  counts(name: QueueName): Promise<Record<string, number>>;
  /** A job's state ('waiting', 'delayed', 'active', 'completed', 'failed', …; 'unknown' when there is none). */
  jobState(name: QueueName, jobId: string): Promise<string>;
  /**
   * Adds the job unless a live one with its id exists. Whatever else is left under the id (a finished
   * job, a record in no state, a state entry without a record, an active job whose lock is gone) is
   * cleared first, so the add really creates the job. Resolves to whether it added.
   */
  ensure<N extends QueueName>(name: N, data: QueuePayloads[N], options: JobsOptions & { jobId: string }): Promise<boolean>;
  /**
   * Makes a delayed job run `delayMs` from now (at once for 0). Resolves to false when no delayed job
   * has the id, so the caller can add one.
   */
  redelay(name: QueueName, jobId: string, delayMs: number): Promise<boolean>;
  /**
   * Adds a job every `everyMs` under `schedulerId` (BullMQ job scheduler), the first one `everyMs`
   * from now; calling again with another interval replaces the schedule, with the same one keeps it.
   */
  schedule<N extends QueueName>(name: N, schedulerId: string, everyMs: number, data: QueuePayloads[N]): Promise<void>;
  unschedule(name: QueueName, schedulerId: string): Promise<void>;
  /**
   * Called once per reconcile pass: replaces this process's workers that started no job since the
   * last call although jobs were ready and they had room (a worker that stopped fetching). Resolves
   * to the queues whose worker was replaced.
   */
  reviveIdleWorkers(): Promise<QueueName[]>;
  /** Connects (and on PostgreSQL migrates) every queue up front, so start-up fails loudly. */
  ready(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface QueueConnection {
  /** BullMQ on Redis when set (scale-out); otherwise on PostgreSQL at `databaseUrl`. */
  redisUrl?: string | undefined;
  databaseUrl: string;
  /** Redis key prefix; keeps several deployments (or test runs) apart on one Redis. */
  prefix: string;
  /** Told about connection and processing errors of queues and workers (they retry on their own). */
  onError?: (err: Error, source: string) => void;
  /**
   * How often every idle worker looks for jobs when no notification can wake it (the embedded
   * database); a worker's own `idlePollMs` wins.
   */
  idlePollMs?: number | undefined;
}

const defaultJobOptions: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Creates the queue layer for the configured mode. */
export function createJobQueues(connection: QueueConnection): JobQueues {
  const onError = connection.onError ?? (() => undefined);
  return connection.redisUrl
    ? new RedisJobQueues(connection.redisUrl, connection.prefix, onError)
    : new PostgresJobQueues(connection.databaseUrl, onError, connection.idlePollMs);
}

/** Jobs waiting to be added to one queue, and the adds under way. */
interface PendingAdds {
  pending: Array<{ data: unknown; options: JobsOptions; resolve(): void; reject(err: unknown): void }>;
  inFlight: number;
  scheduled: boolean;
}

// Adds under way per queue before further jobs wait to go together, and jobs per bulk add.
const MAX_ADDS_IN_FLIGHT = 2;
const MAX_BULK_ADD = 500;

abstract class BaseJobQueues implements JobQueues {
  abstract readonly backend: 'redis' | 'postgres';
  private readonly queues = new Map<QueueName, Queue>();
  private readonly adds = new Map<QueueName, PendingAdds>();
  protected readonly workers: Array<{ name: QueueName; supervisor: SupervisedWorker }> = [];

  constructor(protected readonly onError: (err: Error, source: string) => void) {}

  protected abstract readonly repair: JobRepair;
  protected abstract createQueue(name: QueueName): Queue;
  protected abstract createWorker(name: QueueName, processor: (job: Job, token?: string) => Promise<unknown>, settings: WorkerSettings): Worker;

  protected queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = this.createQueue(name);
      queue.on('error', (err) => this.onError(err, `queue ${name}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Runs one operation on a queue. A handle whose operation failed is replaced: BullMQ's PostgreSQL
   * connection caches a failed bootstrap forever, so a queue first used during an outage would
   * otherwise never recover.
   */
  private async withQueue<T>(name: QueueName, operation: (queue: Queue) => Promise<T>): Promise<T> {
    const queue = this.queue(name);
    try {
      return await operation(queue);
    } catch (err) {
      if (this.queues.get(name) === queue) {
        this.queues.delete(name);
        void queue.close().catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Jobs added while earlier adds to the same queue are under way (e.g. by webhooks committed
   * together) go to the backend as one bulk add: one round trip, and on PostgreSQL one statement,
   * instead of one each. A lone job is added at once. Each caller still learns whether its job was added.
   */
  enqueue<N extends QueueName>(name: N, data: QueuePayloads[N], options: JobsOptions & { jobId: string }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let adds = this.adds.get(name);
      if (!adds) {
        adds = { pending: [], inFlight: 0, scheduled: false };
        this.adds.set(name, adds);
      }
      adds.pending.push({ data, options: { ...defaultJobOptions, ...options }, resolve, reject });
      this.scheduleAdds(name, adds);
    });
  }

  private scheduleAdds(name: QueueName, adds: PendingAdds): void {
    if (adds.scheduled || adds.inFlight >= MAX_ADDS_IN_FLIGHT) return;
    adds.scheduled = true;
    // After the current I/O callbacks, so the jobs of everything handled in this turn go together.
    setImmediate(() => {
      adds.scheduled = false;
      while (adds.pending.length > 0 && adds.inFlight < MAX_ADDS_IN_FLIGHT) {
        const batch = adds.pending.splice(0, MAX_BULK_ADD);
        adds.inFlight += 1;
        const added =
          batch.length === 1
            ? this.withQueue(name, (queue) => queue.add(name, batch[0]!.data, batch[0]!.options))
            : this.withQueue(name, (queue) => queue.addBulk(batch.map((p) => ({ name, data: p.data, opts: p.options }))));
        void added
          .then(
            () => batch.forEach((p) => p.resolve()),
            (err: unknown) => batch.forEach((p) => p.reject(err)),
          )
          .finally(() => {
            adds.inFlight -= 1;
            if (adds.pending.length > 0) this.scheduleAdds(name, adds);
          });
      }
    });
  }

  work<N extends QueueName>(name: N, processor: QueueProcessor<N>, settings: WorkerSettings<N>): void {
    const onFailed = settings.onFailed;
    const supervisor = new SupervisedWorker(
      (counted) => {
        const worker = this.createWorker(name, counted, settings as WorkerSettings);
        if (onFailed) worker.on('failed', (job, err) => job && onFailed(job as QueueJob<N>, err));
        return worker;
      },
      processor as (job: Job, token?: string) => Promise<unknown>,
      settings.concurrency,
      // Without a listener BullMQ prints these to the console; they are retried either way.
      (err) => this.onError(err, `worker ${name}`),
    );
    this.workers.push({ name, supervisor });
  }

  async reviveIdleWorkers(): Promise<QueueName[]> {
    const revived: QueueName[] = [];
    for (const { name, supervisor } of this.workers) {
      // Ready = waiting to be taken now (a paused queue's jobs are not).
      const ready = await this.withQueue(name, async (queue) => {
        if (await queue.isPaused()) return false;
        const counts = await queue.getJobCounts('waiting', 'prioritized');
        return (counts.waiting ?? 0) + (counts.prioritized ?? 0) > 0;
      });
      if (supervisor.checkIdle(ready)) revived.push(name);
    }
    return revived;
  }


  counts(name: QueueName) {
    return this.withQueue(name, (queue) => queue.getJobCounts());
  }

  jobState(name: QueueName, jobId: string) {
    return this.withQueue(name, async (queue) => String(await queue.getJobState(jobId)));
  }

  async ensure<N extends QueueName>(name: N, data: QueuePayloads[N], options: JobsOptions & { jobId: string }): Promise<boolean> {
    if ((await this.repair.clearUnlessLive(name, options.jobId)) === 'live') return false;
    await this.enqueue(name, data, options);
    return true;
  }

  redelay(name: QueueName, jobId: string, delayMs: number): Promise<boolean> {
    return this.withQueue(name, async (queue) => {
      const job = await queue.getJob(jobId);
      if (!job || !(await job.isDelayed())) return false;
      try {
        if (delayMs <= 0) await job.promote();
        else await job.changeDelay(delayMs);
        return true;
      } catch {
        // It left the delayed state meanwhile (a worker took it): it is live, and checks its due time itself.
        return true;
      }
    });
  }

  async schedule<N extends QueueName>(name: N, schedulerId: string, everyMs: number, data: QueuePayloads[N]): Promise<void> {
    // BullMQ runs an `every` scheduler at once unless it starts later; the caller queues the first run itself.
    const startDate = Date.now() + everyMs;
    await this.withQueue(name, async (queue) => {
      // Left as it is when unchanged, so repeating the call does not push the next run back.
      if ((await queue.getJobScheduler(schedulerId))?.every === everyMs) return;
      await queue.upsertJobScheduler(schedulerId, { every: everyMs, startDate }, { name, data, opts: defaultJobOptions });
    });
  }

  async unschedule(name: QueueName, schedulerId: string): Promise<void> {
    await this.withQueue(name, (queue) => queue.removeJobScheduler(schedulerId));
  }

  async ready() {
    await Promise.all(queueNames.map((name) => this.withQueue(name, (queue) => queue.waitUntilReady())));
  }

  async ping() {
    await this.withQueue('ingest', (queue) => queue.getJobCounts('waiting'));
  }

  async close() {
    await Promise.allSettled(this.workers.map((w) => w.supervisor.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await this.repair.close();
  }
}

/**
 * A worker that looks for jobs every `drainDelay` even while its queue holds delayed jobs. BullMQ
 * then waits until the next one is due (up to an hour on PostgreSQL), counting on NOTIFY to wake it
 * for new jobs; the embedded database passes no NOTIFY between connections, so a job queued now
 * (a "sync now", a creator's message) would wait that long.
 */
class PollingWorker extends Worker {
  protected override getBlockTimeout(blockUntil: number): number {
    return Math.min(super.getBlockTimeout(blockUntil), this.opts.drainDelay ?? Infinity);
  }
}

class PostgresJobQueues extends BaseJobQueues {
  readonly backend = 'postgres' as const;
  protected readonly repair: JobRepair;
  constructor(
    private readonly databaseUrl: string,
    onError: (err: Error, source: string) => void,
    private readonly idlePollMs?: number,
  ) {
    super(onError);
    this.repair = new PostgresJobRepair(databaseUrl);
    useResilientPgClients();
  }

  private connection() {
    // Small pools: each Queue/Worker owns one, plus a dedicated LISTEN client.
    return { connectionString: this.databaseUrl, migrate: true, max: 3, Client: ResilientClient };
  }

  protected createQueue(name: QueueName): Queue {
    return new Queue(name, { connection: this.connection() }, createPostgresBackend) as unknown as Queue;
  }

  protected createWorker(name: QueueName, processor: (job: Job, token?: string) => Promise<unknown>, settings: WorkerSettings): Worker {
    const idlePollMs = settings.idlePollMs ?? this.idlePollMs;
    const WorkerClass: typeof Worker = idlePollMs ? PollingWorker : Worker;
    return new WorkerClass(
      name,
      processor,
      {
        connection: this.connection(),
        concurrency: settings.concurrency,
        lockDuration: settings.lockDurationMs ?? 60_000,
        ...(settings.stalledIntervalMs ? { stalledInterval: settings.stalledIntervalMs } : {}),
        ...(settings.maxStalledCount !== undefined ? { maxStalledCount: settings.maxStalledCount } : {}),
        ...(idlePollMs ? { drainDelay: idlePollMs / 1000 } : {}),
      },
      createPostgresBackend,
    ) as unknown as Worker;
  }
}

class RedisJobQueues extends BaseJobQueues {
  readonly backend = 'redis' as const;
  private readonly client: Redis;
  protected readonly repair: JobRepair;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    onError: (err: Error, source: string) => void,
  ) {
    super(onError);
    this.client = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.client.on('error', (err) => onError(err, 'redis'));
    this.repair = new RedisJobRepair(this.client, prefix);
  }

  protected createQueue(name: QueueName): Queue {
    return new Queue(name, { connection: this.client, prefix: this.prefix });
  }

  protected createWorker(name: QueueName, processor: (job: Job, token?: string) => Promise<unknown>, settings: WorkerSettings): Worker {
    // BullMQ duplicates the shared client for the worker's blocking connection and closes that copy.
    return new Worker(name, processor, {
      connection: this.client,
      prefix: this.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs ?? 60_000,
      ...(settings.stalledIntervalMs ? { stalledInterval: settings.stalledIntervalMs } : {}),
      ...(settings.maxStalledCount !== undefined ? { maxStalledCount: settings.maxStalledCount } : {}),
    });
  }

  override async ping() {
    await this.client.ping();
  }

  override async close() {
    await super.close();
    this.client.disconnect();
  }
}
