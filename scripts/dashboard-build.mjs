// Builds the creators' dashboard (dashboard/, React + Vite) into dashboard/dist, which the platform
// serves at /app, and only when its sources changed since the last build: `npm install` runs it
// (postinstall), `npm start` and the test set-up run it again, so a fresh clone, a git pull or an
// edit never serves a stale dashboard. Beside each text file it writes brotli and gzip copies, so the
// server sends compressed bytes without compressing on every request.
// Plain JavaScript, because it runs before anything is compiled.
import console from 'node:console';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const thisFile = fileURLToPath(import.meta.url);
/** Written last by a build: the fingerprint of the sources it built. */
const STAMP_FILE = '.sources-fingerprint';
/** Held by the process building, so processes started together build once. */
const LOCK_FILE = '.building';
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 120_000;
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;

/** Every file under `dir`, relative to it and sorted, skipping the build output. */
function sourceFiles(dir) {
  const found = [];
  const walk = (relative) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'dist' && entry.name !== 'node_modules') walk(child);
      } else if (entry.isFile() && !entry.name.startsWith('.')) found.push(child);
    }
  };
  walk('');
  return found.sort();
}

/** A hash of the dashboard's sources, the locked dependency versions and this script. */
function fingerprint(root) {
  const dir = path.join(root, 'dashboard');
  const hash = createHash('sha256');
  const add = (label, content) => hash.update(`${label}\0${content.length}\0`).update(content);
  for (const file of sourceFiles(dir)) add(file, readFileSync(path.join(dir, file)));
  if (existsSync(path.join(root, 'package-lock.json'))) add('package-lock.json', readFileSync(path.join(root, 'package-lock.json')));
  add('builder', readFileSync(thisFile));
  return hash.digest('hex');
}

/** Writes brotli and gzip copies beside every text file of the build. */
function precompress(dir) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const body = readFileSync(file);
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  }
}

/** Runs `work` holding the lock file `lock`, waiting for another holder and taking over a dead one's. */
async function withLock(lock, work) {
  for (;;) {
    try {
      await (await open(lock, 'wx')).close();
      break;
    } catch (err) {
      if (err?.code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
    } catch {
      continue;
    }
    await sleep(100);
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Builds the dashboard under `root` unless dashboard/dist holds the build of these very sources.
 * Returns `absent` (no dashboard sources: an image that only runs the platform), `fresh` or `built`.
 */
export async function ensureDashboardBuilt(root) {
  const started = performance.now();
  const dir = path.join(root, 'dashboard');
  if (!existsSync(path.join(dir, 'index.html'))) return { state: 'absent', seconds: 0 };
  const out = path.join(dir, 'dist');
  const stamp = path.join(out, STAMP_FILE);
  const wanted = fingerprint(root);
  const isFresh = () => existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted;
  if (isFresh()) return { state: 'fresh', seconds: (performance.now() - started) / 1000 };
  mkdirSync(dir, { recursive: true });
  return withLock(path.join(dir, LOCK_FILE), async () => {
    if (isFresh()) return { state: 'fresh', seconds: (performance.now() - started) / 1000 };
    rmSync(stamp, { force: true });
    const { build } = await import('vite');
    // Always the production build of React and of its JSX runtime: Vite and its React plugin follow a
    // NODE_ENV they find set (`test` under vitest, whose set-up builds for the browser tests), and
    // that larger development build would afterwards be served as fresh by `npm start`.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: dir, configFile: path.join(dir, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    precompress(out);
    writeFileSync(stamp, `${wanted}\n`);
    return { state: 'built', seconds: (performance.now() - started) / 1000 };
  });
}

// `node scripts/dashboard-build.mjs` (npm's postinstall, `npm run build:dashboard`). A failed build
// does not fail the install: `npm start` tries again and says why, and the API works without it.
if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  const root = path.resolve(path.dirname(thisFile), '..');
  try {
    const result = await ensureDashboardBuilt(root);
    if (result.state === 'built') console.log(`built the dashboard in ${result.seconds.toFixed(1)} s`);
  } catch (err) {
    console.warn(`the dashboard could not be built: ${err instanceof Error ? err.message : String(err)}`);
    if (process.argv.includes('--strict')) process.exitCode = 1;
  }
}
