import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed-demo.js';
import { demoSeedDeps } from '../support/demo-seed.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

async function landing() {
  const response = await platform.app.inject({ method: 'GET', url: '/' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.headers['content-security-policy']).toContain("default-src 'none'");
  return response.body;
}

const links = (html: string) => [...html.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => ({ href: m[1]!, text: m[2]! }));

describe('the page at /', () => {
  it('links to the API documentation and the health check, and to no demo before one exists', async () => {
    const html = await landing();
    expect(links(html)).toEqual([
      { href: '/app', text: 'Open the creators’ dashboard' },
      { href: '/docs', text: 'API documentation' },
      { href: '/healthz', text: 'Health check' },
      { href: '/readyz', text: 'readiness' },
    ]);
    for (const { href } of links(html)) {
      expect((await platform.app.inject({ method: 'GET', url: href })).statusCode).toBeLessThan(400);
    }
  });

  it('links to the demo coach’s chat once the demo is seeded', async () => {
    // No workers here: the link is printed without waiting for the guide to be read.
    const seed = await seedDemo(demoSeedDeps(platform), { baseUrl: 'http://localhost:3000', showCredentials: false, readWaitMs: 0 });
    const html = await landing();
    expect(links(html)[1]).toEqual({ href: `/c/${seed!.botId}`, text: 'Chat with the demo coach' });
    expect((await platform.app.inject({ method: 'GET', url: links(html)[1]!.href })).statusCode).toBe(200);
  });
});
