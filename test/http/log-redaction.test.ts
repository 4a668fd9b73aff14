/** Secrets that arrive in a URL (webhook verify tokens, emailed link tokens) never reach the log. */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/observability/logger.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { whatsappBot, type WhatsAppBot } from '../support/whatsapp-e2e.js';

const lines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let platform: TestPlatform;
let graph: FakeWhatsApp;
let bot: WhatsAppBot;

beforeAll(async () => {
  graph = await startFakeWhatsApp();
  // Request logging is on outside NODE_ENV=test, as in development and production.
  platform = await startTestPlatform({ NODE_ENV: 'development', LOG_LEVEL: 'info', WHATSAPP_GRAPH_URL: graph.url }, { workers: false, logStream: capture });
  bot = await whatsappBot(platform, graph, { ingest: false });
});
afterAll(async () => {
  await platform?.stop();
  await graph?.close();
});

describe('request logging', () => {
  it('logs the WhatsApp handshake without its verify token, keeping the challenge', async () => {
    const url = `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${bot.verifyToken}&hub.challenge=1158201444`;
    const response = await platform.app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('1158201444');
    const refused = await platform.app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guessed-token-123&hub.challenge=7' });
    expect(refused.statusCode).toBe(403);

    const logged = lines.filter((line) => line.includes('/webhooks/whatsapp?'));
    // Both requests were logged (so the check below looks at real request lines) …
    expect(logged.some((line) => line.includes('hub.challenge=1158201444'))).toBe(true);
    expect(logged.some((line) => line.includes('hub.verify_token=[redacted]'))).toBe(true);
    // … and no line anywhere carries either token.
    expect(lines.join('\n')).not.toContain(bot.verifyToken);
    expect(lines.join('\n')).not.toContain('guessed-token-123');
  });

  it('logs emailed links and key-bearing queries without their secrets', async () => {
    const token = randomBytes(24).toString('base64url');
    await platform.app.inject({ method: 'GET', url: `/email/unsubscribe?token=${token}` });
    await platform.app.inject({ method: 'GET', url: `/nowhere?api_key=${token}x&access_token=${token}y&page=2` });
    const logged = lines.filter((line) => line.includes('/email/unsubscribe?') || line.includes('/nowhere?'));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.some((line) => line.includes('page=2'))).toBe(true);
    expect(lines.join('\n')).not.toContain(token);
  });
});

describe('redactUrl', () => {
  it('hides credential-like parameters, keeps the rest and the path', () => {
    expect(redactUrl('/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=abc&hub.challenge=42')).toBe(
      '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=42',
    );
    expect(redactUrl('/x?Token=a&apiKey=b&client_secret=c&q=sleep')).toBe('/x?Token=[redacted]&apiKey=[redacted]&client_secret=[redacted]&q=sleep');
    expect(redactUrl('/x?hub%2Everify%5Ftoken=a&%E0=b')).toBe('/x?hub%2Everify%5Ftoken=[redacted]&%E0=b');
    expect(redactUrl('/v1/bots/b/events?ticket=abc.def&lastEventId=e1')).toBe('/v1/bots/b/events?ticket=[redacted]&lastEventId=e1');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });
});
