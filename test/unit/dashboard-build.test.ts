import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from '../../scripts/dashboard-build.mjs';

// A checkout in miniature: a dashboard of one script, built with the repository's Vite.
let root: string;

function write(file: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), content);
}

/** The built script's text. */
function builtScript(): string {
  const assets = path.join(root, 'dashboard/dist/assets');
  const name = readdirSync(assets).find((f) => f.endsWith('.js'))!;
  return readFileSync(path.join(assets, name), 'utf8');
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'dashboard-build-'));
  write('dashboard/index.html', '<!doctype html><html><head><title>t</title></head><body><script type="module" src="/src/main.js"></script></body></html>\n');
  write('dashboard/vite.config.ts', "export default { base: '/app/', logLevel: 'silent' };\n");
  write('dashboard/src/main.js', "document.body.append('first version of the dashboard');\n");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('building the dashboard for npm install and npm start', () => {
  it('builds once, with brotli and gzip copies of its files, and does nothing while the sources are unchanged', async () => {
    expect((await ensureDashboardBuilt(root)).state).toBe('built');
    expect(builtScript()).toContain('first version of the dashboard');
    const index = path.join(root, 'dashboard/dist/index.html');
    expect(brotliDecompressSync(readFileSync(`${index}.br`)).toString()).toBe(readFileSync(index, 'utf8'));
    expect(gunzipSync(readFileSync(`${index}.gz`)).toString()).toBe(readFileSync(index, 'utf8'));
    expect((await ensureDashboardBuilt(root)).state).toBe('fresh');
  });

  it('builds again after a source changed, so a stale dashboard is never served', async () => {
    await ensureDashboardBuilt(root);
    write('dashboard/src/main.js', "document.body.append('second version of the dashboard');\n");
    expect((await ensureDashboardBuilt(root)).state).toBe('built');
    expect(builtScript()).toContain('second version of the dashboard');
    expect(builtScript()).not.toContain('first version');
  });

  it('builds once when two processes start together', async () => {
    const states = await Promise.all([ensureDashboardBuilt(root), ensureDashboardBuilt(root)]);
    expect(states.map((s) => s.state).sort()).toEqual(['built', 'fresh']);
  });

  it('builds for production whatever NODE_ENV the building process has (vitest sets test), and leaves it as it was', async () => {
    write('dashboard/src/main.js', "document.body.append(process.env.NODE_ENV === 'production' ? 'production build' : 'development build');\n");
    expect(process.env.NODE_ENV).toBe('test');
    await ensureDashboardBuilt(root);
    expect(builtScript()).toContain('production build');
    expect(builtScript()).not.toContain('development build');
    expect(process.env.NODE_ENV).toBe('test');
  });

  it('builds nothing where there are no dashboard sources (the runtime image)', async () => {
    rmSync(path.join(root, 'dashboard'), { recursive: true });
    expect((await ensureDashboardBuilt(root)).state).toBe('absent');
    expect(existsSync(path.join(root, 'dashboard/dist'))).toBe(false);
  });
});
