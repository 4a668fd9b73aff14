// `npm start`: runs the platform from compiled JavaScript (dist/), compiling first when the sources
// changed since the last compile (a git pull, an edit), so stale output never runs. Should the compile
// be impossible, the sources run through tsx as before, at the cost of its loader's memory.
// Plain JavaScript, because it runs before anything is compiled.
import console from 'node:console';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledPath, ensureCompiled } from './compiled-sources.mjs';
import { ensureDashboardBuilt } from './dashboard-build.mjs';

// glibc's malloc gives threads arenas of their own (up to eight per core) and seldom hands their freed
// memory back: the start-up's background work (V8 compiling PGlite's WebAssembly and the modules)
// leaves tens of MB resident in them for the whole run. One arena keeps the idle platform about 35 MB
// smaller. glibc reads the setting when the process starts, so on Linux the launcher starts itself
// again with it set — the same process, same id, before anything else ran. A MALLOC_ARENA_MAX of
// your own is kept as it is.
if (process.platform === 'linux' && process.env.MALLOC_ARENA_MAX === undefined && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, MALLOC_ARENA_MAX: '1' });
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The platform's entry module: compiled when possible, else the source, through tsx. */
async function entryModule() {
  try {
    const result = ensureCompiled(root);
    if (result.state === 'compiled') console.log(`compiled the sources to dist/ in ${result.seconds.toFixed(1)} s`);
    return pathToFileURL(compiledPath(root, 'src/main.ts')).href;
  } catch (err) {
    console.warn(`running the TypeScript sources through tsx: compiling them failed (${err instanceof Error ? err.message : String(err)})`);
    const { register } = await import('tsx/esm/api');
    register();
    return pathToFileURL(path.join(root, 'src/main.ts')).href;
  }
}

/** Builds the dashboard when its sources changed; without a build the platform runs and /app says so. */
async function buildDashboard() {
  try {
    const result = await ensureDashboardBuilt(root);
    if (result.state === 'built') console.log(`built the dashboard in ${result.seconds.toFixed(1)} s`);
  } catch (err) {
    console.warn(`the dashboard could not be built, /app will say so: ${err instanceof Error ? err.message : String(err)}`);
  }
}

await buildDashboard();
const { main } = await import(await entryModule());
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
