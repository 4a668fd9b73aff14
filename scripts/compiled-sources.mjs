// Compiles the platform's TypeScript to plain JavaScript under dist/ for `npm start`, and only when
// the sources changed since the last compile. Running compiled files spares the platform tsx's loader
// thread (tens of MB resident for the whole run); the compile itself is esbuild's transpiler, the
// one tsx runs on the same files, so `npm start` runs exactly what `tsx src/main.ts` ran.
// Plain JavaScript, because it runs before anything is compiled.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders compiled: everything the platform's process and its child processes import. */
export const SOURCE_FOLDERS = ['src', 'channels', 'rag', 'workers'];
/** Files whose change alters the output besides the sources (the transpiler reads tsconfig.json). */
const SETTINGS_FILES = ['tsconfig.json'];
/** Folders the compiled code reads at run time relative to itself, as the Docker image lays them out beside dist/src (the dashboard's build included). */
const RUNTIME_FOLDERS = ['migrations', 'examples', 'dashboard'];
/** Written last by a compile: the fingerprint of the sources it compiled. */
export const STAMP_FILE = '.sources-fingerprint';
/** Held by the process compiling, so processes started together (ROLE=api and ROLE=worker) compile once. */
export const LOCK_FILE = '.compiling';
/** A lock older than this was left by a compile that died: no compile takes that long. */
const STALE_LOCK_MS = 60_000;

const thisFile = fileURLToPath(import.meta.url);

/** Every file under `folder` (relative to `root`), sorted, skipping nothing but missing folders. */
function filesUnder(root, folder) {
  const found = [];
  const walk = (relative) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) found.push(child);
    }
  };
  walk(folder);
  return found.sort();
}

/** A hash of every source file's path and content, the settings and this compiler's own code. */
export function sourcesFingerprint(root) {
  const hash = createHash('sha256');
  const add = (label, content) => hash.update(`${label}\0${content.length}\0`).update(content);
  for (const folder of SOURCE_FOLDERS) for (const file of filesUnder(root, folder)) add(file, readFileSync(path.join(root, file)));
  for (const file of SETTINGS_FILES) if (existsSync(path.join(root, file))) add(file, readFileSync(path.join(root, file)));
  add('compiler', readFileSync(thisFile));
  return hash.digest('hex');
}

/** Every TypeScript source to compile: neither type declarations nor tests. */
function entryPoints(root) {
  return SOURCE_FOLDERS.flatMap((folder) => filesUnder(root, folder)).filter((file) => /\.(m|c)?ts$/.test(file) && !/\.d\.(m|c)?ts$/.test(file) && !/\.test\.ts$/.test(file));
}

/** esbuild as tsx brings it (tsx depends on it), so no second copy and no version of our own to keep in step. */
function loadEsbuild() {
  const fromTsx = createRequire(createRequire(thisFile).resolve('tsx'));
  return fromTsx('esbuild');
}

/** The compiled copy of `file` (a source path relative to the root), e.g. src/main.ts → dist/src/main.js. */
export function compiledPath(root, file, outDir = 'dist') {
  return path.join(root, outDir, file.replace(/\.(m|c)?ts$/, (ext) => ext.replace('ts', 'js')));
}

/**
 * Compiles the sources under `root` into `outDir` unless its fingerprint says they are those compiled
 * last. Returns what it did: `fresh` (nothing to do) or `compiled`, with the seconds it took.
 */
export function ensureCompiled(root, { outDir = 'dist' } = {}) {
  const started = performance.now();
  const out = path.join(root, outDir);
  const stamp = path.join(out, STAMP_FILE);
  const fingerprint = sourcesFingerprint(root);
  const seconds = () => (performance.now() - started) / 1000;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === fingerprint) return { state: 'fresh', seconds: seconds() };

  return withLock(path.join(out, LOCK_FILE), () => {
    // Another process may have compiled these very sources while this one waited for the lock.
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === fingerprint) return { state: 'fresh', seconds: seconds() };
    // The old stamp goes first: a compile cut short leaves no stamp, so the next start compiles again.
    rmSync(stamp, { force: true });
    // A source deleted since the last compile must not leave its old output behind to be imported.
    for (const folder of SOURCE_FOLDERS) rmSync(path.join(out, folder), { recursive: true, force: true });
    const esbuild = loadEsbuild();
    esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: entryPoints(root),
      outdir: out,
      outbase: '.',
      format: 'esm',
      platform: 'node',
      // The oldest Node the package supports (engines), so the output does not depend on the Node compiling it.
      target: 'node22',
      tsconfig: path.join(root, 'tsconfig.json'),
      sourcemap: true,
      logLevel: 'silent',
    });
    for (const folder of RUNTIME_FOLDERS) linkBeside(root, out, folder);
    writeFileSync(stamp, `${fingerprint}\n`);
    return { state: 'compiled', seconds: seconds() };
  });
}

/** Runs `work` holding the lock file `lock`, waiting for another holder and taking over a dead one's. */
function withLock(lock, work) {
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if (err?.code !== 'EEXIST') throw err;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
    } catch {
      // Released meanwhile: try again at once.
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lock} has been held for over ${(2 * STALE_LOCK_MS) / 1000} s`);
    // Nothing else runs in this process yet: a blocking wait is the simplest.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  try {
    return work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Makes `out/folder` point at the repository's `folder`, so compiled code finds it where the sources do. */
function linkBeside(root, out, folder) {
  const link = path.join(out, folder);
  try {
    if (lstatSync(link).isSymbolicLink()) return;
    rmSync(link, { recursive: true, force: true });
  } catch {
    // Not there yet.
  }
  symlinkSync(path.relative(out, path.join(root, folder)), link, 'junction');
}
