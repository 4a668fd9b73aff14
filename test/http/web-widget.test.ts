/** The embeddable widget's script and settings, and which sites may frame the public chat page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let botId: string;

function publish(bot: string, payload: object) {
  return platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot}/channels/web`, headers: alice.auth, payload });
}

/** The page's Content-Security-Policy as directive → value. */
function policyOf(headers: Record<string, unknown>): Map<string, string> {
  const policy = String(headers['content-security-policy']);
  return new Map(policy.split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(' ')[0]!, d.slice(d.indexOf(' ') + 1)]));
}

beforeAll(async () => {
  platform = await startTestPlatform({ PUBLIC_URL: 'https://coach.example.test' });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
});
afterAll(async () => {
  await platform?.stop();
});

describe('GET /widget.js', () => {
  it('serves one cacheable script for every bot, with no key, token, bot or setting in it', async () => {
    await publish(botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice' });
    const response = await platform.app.inject({ method: 'GET', url: '/widget.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(response.headers['set-cookie']).toBeUndefined();
    // It reads its own tag and builds a shadow-rooted launcher that opens the public page.
    expect(response.body).toContain('dataset.bot');
    expect(response.body).toContain('attachShadow');
    expect(response.body).toContain("'/c/'");
    for (const secret of [alice.accessToken, alice.creatorId, botId, 'Ask Alice', 'alice.example', 'ck_', '/v1/']) expect(response.body).not.toContain(secret);
    // Valid JavaScript, as a browser would parse it.
    expect(() => new Function(response.body)).not.toThrow();
  });
});

describe('GET /public/bots/:botId/widget', () => {
  it("answers an allowed site the chat's title and colour with CORS, and refuses any other site", async () => {
    await publish(botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice', accentColor: '#0F766E' });
    const allowed = await platform.app.inject({ method: 'GET', url: `/public/bots/${botId}/widget`, headers: { origin: 'https://www.alice.example' } });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toEqual({ title: 'Ask Alice', accentColor: '#0f766e' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.alice.example');

    const other = await platform.app.inject({ method: 'GET', url: `/public/bots/${botId}/widget`, headers: { origin: 'https://evil.example' } });
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.stringify(other.json())).not.toContain('Ask Alice');
  });

  it('answers 404 for a bot that is not published', async () => {
    const hidden = (await createBot(platform.app, alice.auth, { name: 'Hidden' })).id;
    const response = await platform.app.inject({ method: 'GET', url: `/public/bots/${hidden}/widget`, headers: { origin: 'https://www.alice.example' } });
    expect(response.statusCode).toBe(404);
  });
});

describe('the chat page inside the widget', () => {
  it("leaves out the page's own title bar (the widget's panel has one), and keeps it on the full page", async () => {
    await publish(botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice' });
    const embedded = await platform.app.inject({ method: 'GET', url: `/c/${botId}?embed=1` });
    expect(embedded.statusCode).toBe(200);
    expect(embedded.body).toContain('<title>Ask Alice</title>');
    expect(embedded.body).not.toContain('<h1>');
    expect(embedded.body).toContain('id="chat"');
    const full = await platform.app.inject({ method: 'GET', url: `/c/${botId}?embed=yes` });
    expect(full.statusCode).toBe(200);
    expect(full.body).toContain('<h1>Ask Alice</h1>');
  });

  it('is described in the OpenAPI document next to the other visitor endpoints', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths['/public/bots/{botId}/widget']!.get!.security).toBeUndefined();
  });
});

describe('framing the public chat page', () => {
  it('lets exactly the allowed origins frame it, with no X-Frame-Options to contradict them', async () => {
    await publish(botId, { allowedOrigins: ['https://www.alice.example', 'http://localhost:8080'] });
    const response = await platform.app.inject({ method: 'GET', url: `/c/${botId}?embed=1` });
    expect(response.statusCode).toBe(200);
    expect(policyOf(response.headers).get('frame-ancestors')).toBe('https://www.alice.example http://localhost:8080');
    expect(response.headers['x-frame-options']).toBeUndefined();
  });

  it("lets no site frame it when the creator allowed none, and keeps 'none' on every other page", async () => {
    await publish(botId, {});
    const page = await platform.app.inject({ method: 'GET', url: `/c/${botId}` });
    expect(policyOf(page.headers).get('frame-ancestors')).toBe("'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');

    await publish(botId, { allowedOrigins: ['https://www.alice.example'] });
    const hidden = (await createBot(platform.app, alice.auth, { name: 'Unpublished' })).id;
    for (const url of [`/c/${hidden}`, `/chat/${botId}`, '/']) {
      const response = await platform.app.inject({ method: 'GET', url });
      expect(policyOf(response.headers).get('frame-ancestors'), url).toBe("'none'");
      expect(response.headers['x-frame-options'], url).toBe('DENY');
    }
  });
});
