/** The API documentation page is served from the chat page's origin, so it is locked down like it. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const CHROMIUM = '/usr/bin/chromium';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

const get = (url: string) => platform.app.inject({ method: 'GET', url });

function directives(policy: string): Map<string, string> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(' ')[0]!, d.slice(d.indexOf(' ') + 1)]),
  );
}

describe('/docs', () => {
  it('is sent with a policy that allows only its own files, no framing, no sniffing and no referrer', async () => {
    const page = await get('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const policy = directives(String(page.headers['content-security-policy']));
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.get('script-src')).toBe("'self'");
    expect(policy.get('frame-ancestors')).toBe("'none'");
    expect(policy.get('base-uri')).toBe("'none'");
    expect(policy.get('connect-src')).toBe("'self'");
    // Nothing inline or foreign may run or load.
    expect(String(page.headers['content-security-policy'])).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it('still loads: every script and stylesheet it names is served from /docs with its type and the same headers', async () => {
    const html = (await get('/docs')).body;
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThanOrEqual(3);
    expect(assets.filter((a) => a.endsWith('.css')).length).toBeGreaterThanOrEqual(1);
    for (const asset of assets) {
      // Same origin only: nothing the policy would refuse.
      expect(asset.startsWith('/docs/'), asset).toBe(true);
      const response = await get(asset);
      expect(response.statusCode, asset).toBe(200);
      if (asset.endsWith('.js')) expect(response.headers['content-type'], asset).toContain('javascript');
      if (asset.endsWith('.css')) expect(response.headers['content-type'], asset).toContain('text/css');
      expect(response.headers['x-content-type-options'], asset).toBe('nosniff');
    }
    const document = await get('/docs/json');
    expect(document.statusCode).toBe(200);
    expect(document.json().info.title).toBe('Coaching assistant platform API');
  });

  it('sends the same protective headers as the chat and account pages', async () => {
    const pages = [await get('/docs'), await get(`/chat/${crypto.randomUUID()}`), await get('/email/unsubscribe?token=not-a-real-token')];
    for (const header of ['x-frame-options', 'x-content-type-options', 'referrer-policy']) {
      expect(new Set(pages.map((p) => p.headers[header])).size, header).toBe(1);
    }
    for (const page of pages) {
      const policy = directives(String(page.headers['content-security-policy']));
      expect(policy.get('frame-ancestors')).toBe("'none'");
      expect(policy.get('default-src')).toBe("'none'");
    }
  });

  // CI installs Chromium (.ci/run); elsewhere the check needs `apt-get install chromium`.
  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('renders in Chromium without a content-security-policy error', async () => {
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = platform.app.server.address() as AddressInfo;
    const profile = mkdtempSync(path.join(tmpdir(), 'coach-chromium-'));
    try {
      const args = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        // Console messages, CSP violations included, go to stderr.
        '--enable-logging=stderr',
        '--v=0',
        // Lets the page's scripts run and fetch /docs/json before the DOM is printed.
        '--virtual-time-budget=15000',
        '--dump-dom',
        `http://127.0.0.1:${port}/docs`,
      ];
      const { dom, log } = await new Promise<{ dom: string; log: string }>((resolve, reject) => {
        // The timeout only ends a hung browser (execFile kills it); it is not a measurement.
        execFile(CHROMIUM, args, { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(err) : resolve({ dom: stdout, log: stderr })));
      });
      // Swagger UI drew the API: its title and the operations from /docs/json.
      expect(dom).toContain('Coaching assistant platform API');
      expect(dom).toContain('/v1/bots');
      expect(dom).toMatch(/class="opblock opblock-post/);
      expect(log).not.toMatch(/Content Security Policy|Refused to/i);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
