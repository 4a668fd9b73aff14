/** /app: the built dashboard, its caching, compression and content policy. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_BUILD_DIR } from '../../src/http/routes/dashboard.routes.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  // The test set-up (global-setup.ts) built the dashboard from its current sources.
  platform = await startTestPlatform({}, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

const get = (url: string, headers: Record<string, string> = {}) => platform.app.inject({ method: 'GET', url, headers });

function policy(header: unknown): Map<string, string> {
  return new Map(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values.join(' ')]),
  );
}

describe('/app', () => {
  it('serves index.html revalidated on every load, under a strict policy with no inline script', async () => {
    const response = await get('/app');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toMatch(/<script type="module" crossorigin src="\/app\/assets\/index-[\w-]+\.js"><\/script>/);
    // Nothing inline for the policy to allow.
    expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.body).not.toMatch(/<style|style="/);

    const csp = policy(response.headers['content-security-policy']);
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('object-src')).toBe("'none'");
    expect(csp.get('base-uri')).toBe("'none'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    expect(String(response.headers['content-security-policy'])).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers every screen of the app with index.html, so a reload or a shared link works', async () => {
    const index = (await get('/app')).body;
    for (const screen of ['/app/', '/app/signin', '/app/bots/0b5e6a39-1c1e-4b7e-9a53-6b9c0c8f3a11/inbox/abc']) {
      const response = await get(screen);
      expect(response.statusCode, screen).toBe(200);
      expect(response.body).toBe(index);
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('caches hashed assets for a year and sends them compressed as the browser accepts', async () => {
    const index = (await get('/app')).body;
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(index)![1]!;
    const original = readFileSync(path.join(DASHBOARD_BUILD_DIR, script.slice('/app/'.length)));

    const br = await get(script, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.statusCode).toBe(200);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers['content-type']).toMatch(/^text\/javascript/);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(brotliDecompressSync(br.rawPayload).equals(original)).toBe(true);
    // What a browser downloads is a fraction of the script.
    expect(br.rawPayload.length).toBeLessThan(original.length / 3);

    const gzip = await get(script, { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.rawPayload).equals(original)).toBe(true);

    const plain = await get(script, { 'accept-encoding': 'br;q=0' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(original)).toBe(true);
  });

  it('answers an unchanged index.html with 304, and a missing asset with 404', async () => {
    const first = await get('/app');
    const again = await get('/app', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const missing = await get('/app/assets/index-gone123.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('is linked from the page at /', async () => {
    expect((await get('/')).body).toContain('<a href="/app">');
  });
});
