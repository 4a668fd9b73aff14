import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledPath, ensureCompiled, LOCK_FILE, STAMP_FILE } from '../../scripts/compiled-sources.mjs';

const compilerModule = new URL('../../scripts/compiled-sources.mjs', import.meta.url).href;

// A checkout in miniature: sources, the tsconfig the compiler reads, and the folders compiled code reads at run time.
let root: string;
let loads = 0;

function write(file: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), content);
}

/** Imports the compiled copy of `file` afresh (a new URL each time, so no cached module answers). */
async function runCompiled(file: string): Promise<Record<string, unknown>> {
  return import(`${pathToFileURL(compiledPath(root, file)).href}?load=${++loads}`) as Promise<Record<string, unknown>>;
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'compiled-sources-'));
  write('tsconfig.json', readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8'));
  write('package.json', '{ "type": "module" }\n');
  write('src/main.ts', "import { greeting } from './greeting.js';\nexport const answer: string = greeting('before');\n");
  write('src/greeting.ts', 'export const greeting = (word: string): string => `said ${word}`;\n');
  write('migrations/0001_first.sql', 'select 1;\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('compiling the sources for npm start', () => {
  it('compiles on the first start and runs the compiled code', async () => {
    expect(ensureCompiled(root).state).toBe('compiled');
    expect((await runCompiled('src/main.ts')).answer).toBe('said before');
    expect(readFileSync(path.join(root, 'dist/migrations/0001_first.sql'), 'utf8')).toBe('select 1;\n');
  });

  it('does nothing on a start with the sources unchanged', () => {
    ensureCompiled(root);
    expect(ensureCompiled(root).state).toBe('fresh');
  });

  it('runs the new code after a source changed (a pull, an edit), never the old compile', async () => {
    ensureCompiled(root);
    write('src/greeting.ts', 'export const greeting = (word: string): string => `changed ${word}`;\n');
    expect(ensureCompiled(root).state).toBe('compiled');
    expect((await runCompiled('src/main.ts')).answer).toBe('changed before');
  });

  it('compiles again when a source file is added, and drops the output of a deleted one', () => {
    ensureCompiled(root);
    write('src/extra.ts', 'export const extra = 1;\n');
    expect(ensureCompiled(root).state).toBe('compiled');
    expect(existsSync(compiledPath(root, 'src/extra.ts'))).toBe(true);
    unlinkSync(path.join(root, 'src/extra.ts'));
    expect(ensureCompiled(root).state).toBe('compiled');
    expect(existsSync(compiledPath(root, 'src/extra.ts'))).toBe(false);
  });

  it('compiles again when the compiler settings change', () => {
    ensureCompiled(root);
    const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    tsconfig.compilerOptions.target = 'ES2023';
    write('tsconfig.json', JSON.stringify(tsconfig));
    expect(ensureCompiled(root).state).toBe('compiled');
  });

  it('compiles again after a compile that was cut short (no fingerprint written)', () => {
    ensureCompiled(root);
    unlinkSync(path.join(root, 'dist', STAMP_FILE));
    expect(ensureCompiled(root).state).toBe('compiled');
  });

  it('fails loudly on a source that does not parse, leaving no fingerprint behind', () => {
    ensureCompiled(root);
    write('src/greeting.ts', 'export const greeting = (word: string): string => `said ${word}`;\n}\n');
    expect(() => ensureCompiled(root)).toThrow();
    expect(existsSync(path.join(root, 'dist', STAMP_FILE))).toBe(false);
  });

  it('compiles once when two processes start together, and both run', async () => {
    // Many sources, so the two compiles would overlap without the lock.
    for (let i = 0; i < 300; i++) write(`src/many/file-${i}.ts`, `export const value${i}: number = ${i};\n`);
    const start = () =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(compilerModule)}); console.log(m.ensureCompiled(${JSON.stringify(root)}).state);`]);
    const states = (await Promise.all([start(), start()])).map((result) => result.stdout.trim()).sort();
    expect(states).toEqual(['compiled', 'fresh']);
    expect((await runCompiled('src/main.ts')).answer).toBe('said before');
  });

  it('takes over the lock a compile that died left behind', () => {
    mkdirSync(path.join(root, 'dist'), { recursive: true });
    const lock = path.join(root, 'dist', LOCK_FILE);
    writeFileSync(lock, '');
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, tenMinutesAgo, tenMinutesAgo);
    expect(ensureCompiled(root).state).toBe('compiled');
    expect(existsSync(lock)).toBe(false);
  });
});
