import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testRedisUrl } from './test-database.js';
import type { TestPlatform } from './test-platform.js';

export interface ChildWorker {
  readonly process: ChildProcess;
  /** Everything the child wrote to stderr, for failure messages. */
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): Promise<void>;
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

/** Starts test/support/worker-process.ts under tsx with `env`; resolves once it prints `ready`. */
export async function startChildWorker(env: Record<string, string>, { timeoutMs = 60_000 } = {}): Promise<ChildWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready after ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before ready: ${stderr}`));
    });
  });
  return {
    process: child,
    stderr: () => stderr,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    },
  };
}
