/**
 * Start-up in bare mode: the platform as `npm start` runs it (package.json's `start` script, with this
 * Node) with no DATABASE_URL or REDIS_URL, so on embedded PGlite under a fresh DATA_DIR.
 *
 * 0. Compile: `npm start` compiles the sources to dist/ when they changed since the last compile
 *    (scripts/compiled-sources.mjs); the bench does that first and reports the time, so the starts
 *    below measure the platform, not the compile.
 * 1. First start: process spawned → `GET /healthz` answers 200 (creates the embedded database, runs
 *    the migrations; the first-run demo is seeded after that, as `npm start` does).
 * 2. Restart on the same DATA_DIR after a clean stop (SIGTERM), `--restarts` times: median time to
 *    `/healthz`.
 * 3. Idle memory: resident memory of the platform's process and its child processes (document
 *    readers), `--idle` seconds after the last restart answered.
 * 4. Connection resets: lines of the platform's output naming ECONNRESET, across every start and stop.
 * Baseline in the same run: a bare `node -e` process serving `/healthz` (time to its first answer,
 * resident memory after the same idle time).
 *
 *   npm run bench:startup -- [--restarts 3] [--idle 5]
 *
 * The last line is `restart_s=… first_start_s=… idle_rss_mb=… node_rss_mb=…`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ensureCompiled } from '../scripts/compiled-sources.mjs';
import { freePort } from '../test/support/telegram-e2e.js';
import { percentile, saveResults } from './bench-report.js';
import { childrenRss, flag, procStatus } from './platform-process.js';

const restarts = flag('restarts', 3);
const idleSeconds = flag('idle', 5);
const root = new URL('..', import.meta.url);

/** A process under measurement and everything it printed. */
interface Started {
  child: ChildProcess;
  output: () => string;
  /** Seconds from spawn until `/healthz` answered 200. */
  seconds: number;
}

/** Spawns `command` and resolves once `http://127.0.0.1:port/healthz` answers 200. */
async function startAndWait(command: string[], port: number, env: NodeJS.ProcessEnv): Promise<Started> {
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${command.join(' ')} exited before answering:\n${output.slice(-2_000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, output: () => output, seconds: (performance.now() - started) / 1000 };
    await sleep(25);
  }
}

/** Resident memory of the process and its children after `idleSeconds`, in bytes. */
async function idleRss(child: ChildProcess): Promise<{ own: number; children: number }> {
  await sleep(idleSeconds * 1000);
  return { own: procStatus(child.pid!, 'VmRSS'), children: childrenRss(child.pid!) };
}

/** Stops the process with SIGTERM, as a service manager does, and waits for it to exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const resets = (text: string) => text.split('\n').filter((line) => /ECONNRESET|connection reset/i.test(line)).length;
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

// Bare mode: nothing but Node, whatever the calling shell has configured.
const bareEnv: NodeJS.ProcessEnv = { ...process.env };
for (const name of ['DATABASE_URL', 'REDIS_URL', 'VECTOR_STORE', 'MEDIA_STORAGE', 'DATA_DIR', 'PORT', 'NODE_OPTIONS', 'MALLOC_ARENA_MAX']) delete bareEnv[name];

// Baseline: the least a Node process that answers HTTP costs on this machine, right now.
const nodePort = await freePort();
const bareNode = await startAndWait(
  [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${nodePort}, '127.0.0.1')`],
  nodePort,
  bareEnv,
);
const nodeRss = await idleRss(bareNode.child);
await stop(bareNode.child);
console.log(`bare node -e: ${bareNode.seconds.toFixed(2)} s to answer, ${mb(nodeRss.own)} MB resident`);

const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-startup-bench-'));
const port = await freePort();
const platformEnv: NodeJS.ProcessEnv = { ...bareEnv, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };
// `npm start`'s command with this Node: `node <flags> scripts/start.mjs`.
const startScript = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: { start: string } }).scripts.start;
const [program, ...startArgs] = startScript.split(' ');
if (program !== 'node') throw new Error(`npm start runs ${program}, not node: update this bench`);
const platformCommand = [process.execPath, ...startArgs];
const compile = ensureCompiled(fileURLToPath(root));
console.log(`compile: ${compile.state === 'fresh' ? 'dist/ was up to date' : 'sources compiled'} in ${compile.seconds.toFixed(2)} s`);
let output = '';
try {
  const first = await startAndWait(platformCommand, port, platformEnv);
  const firstRss = await idleRss(first.child);
  await stop(first.child);
  output += first.output();
  console.log(`first start: ${first.seconds.toFixed(2)} s to /healthz; idle ${mb(firstRss.own)} MB + children ${mb(firstRss.children)} MB`);

  const restartSeconds: number[] = [];
  let rss = { own: 0, children: 0 };
  for (let i = 0; i < restarts; i++) {
    const again = await startAndWait(platformCommand, port, platformEnv);
    restartSeconds.push(again.seconds);
    if (i === restarts - 1) rss = await idleRss(again.child);
    await stop(again.child);
    output += again.output();
    console.log(`restart ${i + 1}: ${again.seconds.toFixed(2)} s to /healthz`);
  }
  const restart = percentile(restartSeconds, 0.5);
  const idle = rss.own + rss.children;
  console.log(`idle after restart: ${mb(rss.own)} MB + children ${mb(rss.children)} MB = ${mb(idle)} MB`);
  console.log(
    `platform / bare node: start ${(restart / bareNode.seconds).toFixed(1)}×, memory ${(idle / nodeRss.own).toFixed(1)}×; ` +
      `connection resets in the platform's output: ${resets(output)}`,
  );

  const file = saveResults('startup', {
    machine: { cpus: availableParallelism(), loadavg: loadavg(), node: process.version },
    command: startScript,
    compile,
    idleSeconds,
    bareNode: { startSeconds: bareNode.seconds, rssBytes: nodeRss.own },
    firstStart: { seconds: first.seconds, rssBytes: firstRss.own, childrenRssBytes: firstRss.children },
    restart: { seconds: restartSeconds, medianSeconds: restart, rssBytes: rss.own, childrenRssBytes: rss.children },
    connectionResets: resets(output),
  });
  console.log(`saved ${file}`);
  console.log(`restart_s=${restart.toFixed(2)} first_start_s=${first.seconds.toFixed(2)} idle_rss_mb=${mb(idle)} node_rss_mb=${mb(nodeRss.own)}`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
