import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildWorker {
  readonly process: ChildProcess;
  /** Everything the child wrote to stderr, for failure messages. */
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): Promise<void>;
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
