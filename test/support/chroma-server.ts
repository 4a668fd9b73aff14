import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export interface ChromaServer {
  url: string;
  /** Kills the server (its whole process group) and removes its data directory. */
  stop(): Promise<void>;
}

const chromaBin = fileURLToPath(new URL('../../node_modules/.bin/chroma', import.meta.url));
const tether = fileURLToPath(new URL('./tethered-process.ts', import.meta.url));

/** Starts a real Chroma server (`chroma run` from the chromadb package) on a free port and a fresh directory. */
export async function startChromaServer({ timeoutMs = 60_000 } = {}): Promise<ChromaServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chroma-test-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Through a tether leading its own process group: stop() kills the group, and if this process
  // dies without calling it, the tether's stdin closes and it kills the group itself.
  const child = spawn(process.execPath, ['--import', 'tsx', tether, chromaBin, 'run', '--path', dataDir, '--port', String(port)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (data: Buffer) => {
    output = (output + data.toString()).slice(-4_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const killGroup = (signal: NodeJS.Signals) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onParentExit = () => killGroup('SIGKILL');
  process.once('exit', onParentExit);

  // A throwaway server with a throwaway directory: no graceful shutdown to wait for.
  const stop = async () => {
    process.off('exit', onParentExit);
    killGroup('SIGKILL');
    await exit;
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const heartbeat = waitFor(
      async () => {
        const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1_000) });
        return response.ok;
      },
      { timeoutMs, intervalMs: 100, what: `Chroma heartbeat at ${url}` },
    );
    // A server that dies at start-up (port taken, bindings missing) fails at once, not at the deadline.
    await Promise.race([heartbeat, exit.then(() => Promise.reject(new Error('chroma exited during start-up')))]);
  } catch (err) {
    await stop();
    throw new Error(`Chroma did not start: ${(err as Error).message}\n${output}`, { cause: err });
  }
  return { url, stop };
}
