import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sourcesFingerprint, STAMP_FILE } from '../../scripts/compiled-sources.mjs';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'npm-start-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start on a machine with nothing but Node', () => {
  it('runs the compiled sources in one process, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', SEED_DEMO: 'false', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'VECTOR_STORE', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX']) delete env[name];
    const scriptStart = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    // The command `npm start` runs, with this Node.
    const [, ...args] = scriptStart.split(' ');
    child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

    await waitFor(
      async () => {
        if (child!.exitCode !== null) throw new Error(`exited with ${child!.exitCode}: ${output.slice(-2_000)}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      },
      { timeoutMs: 150_000, what: `/healthz of npm start (output so far: ${output.slice(-500)})` },
    );
    // The compile it ran is that of the sources as they are now.
    expect(readFileSync(path.join(root, 'dist', STAMP_FILE), 'utf8').trim()).toBe(sourcesFingerprint(root));
    // The dashboard is built and served from the compiled code (dist/dashboard links to dashboard/).
    const dashboard = await fetch(`http://127.0.0.1:${port}/app/`);
    expect(dashboard.status).toBe(200);
    const page = await dashboard.text();
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`http://127.0.0.1:${port}${script}`)).status).toBe(200);
    expect(output).not.toMatch(/through tsx/);
    if (process.platform === 'linux' && typeof (process as { execve?: unknown }).execve === 'function') {
      // The launcher started itself again with one malloc arena, as the same process the caller (npm, a service manager) signals.
      expect(readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=1');
    }

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The first start creates the embedded database: on a busy machine that takes a while.
  }, 180_000);
});
