import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * ../shared/fixtures beside the repository: real third-party payloads and documents, never copied
 * in. SHARED_FIXTURES_DIR points elsewhere (.ci/run sets it for a clone made away from the shared folder).
 */
export const fixturesDir =
  process.env.SHARED_FIXTURES_DIR ?? path.resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/fixtures');

/** Reads a fixture file's bytes, e.g. `fixture('docs/pdfjs__tracemonkey.pdf')`. */
export function fixture(relativePath: string): Buffer {
  return readFileSync(path.join(fixturesDir, relativePath));
}

/** Reads and parses a JSON fixture. */
export function jsonFixture<T = unknown>(relativePath: string): T {
  return JSON.parse(fixture(relativePath).toString('utf8')) as T;
}
