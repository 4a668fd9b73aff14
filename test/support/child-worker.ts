import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testRedisUrl } from './test-database.js';
import type { TestPlatform } from './test-platform.js';

export interface ChildWorker {
  readonly process: ChildProcess;
  /** Everything the child wrote to stderr, for failure messages. */
  readonly stderr: () => string;
  /** Everything the child wrote to stdout (its log lines, when LOG_LEVEL lets them through). */
  readonly stdout: () => string;
  /** SIGKILLs the child's whole process group and resolves once the child is gone. */
  kill(): Promise<void>;
}

/**
 * The environment of a worker process joining `platform`: its database, queue prefix and secrets,
 * on Redis queues, turns taken over within a couple of seconds of a crash; `env` adds the channel
 * and model addresses.
 */
export function workerEnvFor(platform: TestPlatform, dataDir: string, env: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: platform.testDatabase.url,
    REDIS_URL: testRedisUrl,
    QUEUE_PREFIX: platform.config.QUEUE_PREFIX,
    ENCRYPTION_KEY: platform.config.ENCRYPTION_KEY,
    JWT_SECRET: platform.config.JWT_SECRET,
    CONVERSE_LOCK_DURATION_MS: '1500',
    CONVERSE_STALLED_INTERVAL_MS: '300',
    RECONCILE_INTERVAL_MS: '60000',
    ...env,
  };
}

const entry = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/**
 * Longest a worker may take to print `ready`: a fresh tsx process loading the whole platform on a
 * busy 2-core machine. A test that starts workers sets its own timeout above the sum of its waits
 * (WORKER_TEST_TIMEOUT_MS), so a worker that never starts fails the test with its stderr.
 */
export const WORKER_START_TIMEOUT_MS = 45_000;

/** Timeout of a test that starts two workers in turn (two start-ups, a turn, a reply). */
export const WORKER_TEST_TIMEOUT_MS = 150_000;

function spawnWorker(env: Record<string, string>): ChildWorker {
  // Its own process group, so a kill reaches anything it starts; stdin is its lifeline: the worker
  // exits when the pipe closes, which also happens when this process dies without tearing down.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8_000)));
  child.stdout!.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-64_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    process: child,
    stderr: () => stderr,
    stdout: () => stdout,
    async kill() {
      if (child.pid !== undefined && !gone()) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is gone already.
        }
      }
      // A process that failed to spawn never emits 'exit'.
      if (child.pid !== undefined) await exited;
    },
  };
}

function ready(worker: ChildWorker, timeoutMs: number): Promise<void> {
  const child = worker.process;
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker not ready after ${timeoutMs} ms: ${worker.stderr()}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${signal ?? code}) before ready: ${worker.stderr()}`));
    });
  });
}

/**
 * The worker processes of one test file. Each is registered the moment it is spawned, before its
 * start-up is awaited, so `killAll()` in `afterEach` ends every one — started, starting or stuck —
 * whether the test passed, failed midway or timed out.
 */
export class ChildWorkers {
  private readonly live = new Set<ChildWorker>();
  // Last resort when the test process exits without running its hooks: synchronous kills only.
  private readonly onExit = () => {
    for (const worker of this.live) {
      if (worker.process.pid === undefined) continue;
      try {
        process.kill(-worker.process.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  };

  constructor() {
    process.on('exit', this.onExit);
  }

  /** Starts test/support/worker-process.ts under tsx with `env`; resolves once it prints `ready`. */
  async start(env: Record<string, string>, { timeoutMs = WORKER_START_TIMEOUT_MS } = {}): Promise<ChildWorker> {
    const worker = spawnWorker(env);
    this.live.add(worker);
    worker.process.once('exit', () => this.live.delete(worker));
    await ready(worker, timeoutMs);
    return worker;
  }

  /** How many are still running (0 after `killAll()`). */
  get running(): number {
    return this.live.size;
  }

  /** SIGKILLs every worker's process group and waits until each is gone. */
  async killAll(): Promise<void> {
    await Promise.all([...this.live].map((worker) => worker.kill()));
    this.live.clear();
  }

  /** Kills what is left and stops watching for the test process's exit (for `afterAll`). */
  async close(): Promise<void> {
    await this.killAll();
    process.off('exit', this.onExit);
  }
}
