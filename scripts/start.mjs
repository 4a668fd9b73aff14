// `npm start`: runs the platform from compiled JavaScript (dist/), compiling first when the sources
// changed since the last compile (a git pull, an edit), so stale output never runs. Should the compile
// be impossible, the sources run through tsx as before, at the cost of its loader's memory.
// Plain JavaScript, because it runs before anything is compiled.
import console from 'node:console';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledPath, ensureCompiled } from './compiled-sources.mjs';

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

const { main } = await import(await entryModule());
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
