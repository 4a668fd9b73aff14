import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { testRedisUrl } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';

describe('health, readiness, metrics and docs', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ METRICS_TOKEN: 'metrics-secret-token' });
  });
  afterAll(() => platform?.stop());

  it('reports liveness and per-dependency readiness', async () => {
    expect((await platform.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await platform.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database.status).toBe('ok');
    expect(ready.json().checks.queue.status).toBe('ok');
  });

  it('keeps /metrics closed without the configured token and open with it', async () => {
    const denied = await platform.app.inject('/metrics');
    expect(denied.statusCode).toBe(401);
    await platform.app.inject('/healthz');
    const metrics = await platform.app.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-secret-token' } });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('coach_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}');
    expect(metrics.body).toMatch(/coach_queue_jobs\{queue="ingest",state="waiting"\} \d+/);
  });

  it('publishes the OpenAPI document and its UI', async () => {
    const doc = await platform.app.inject('/docs/json');
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toMatch(/^3\./);
    expect((await platform.app.inject('/docs')).statusCode).toBeLessThan(400);
  });

  it('answers unknown routes and malformed JSON in the error shape', async () => {
    const missing = await platform.app.inject('/v1/nothing-here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('readiness when the database is gone', () => {
  it('answers 503 naming the failing dependency', async () => {
    const platform = await startTestPlatform();
    try {
      await platform.testDatabase.cutOff();
      const ready = await platform.app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database.status).toBe('down');
      expect((await platform.app.inject('/healthz')).statusCode).toBe(200);
      await platform.testDatabase.restore();
      await waitFor(async () => (await platform.app.inject('/readyz')).statusCode === 200, { what: 'readiness after recovery' });
      // The workers came back too: a document uploaded now is ingested.
      const session = await signUpCreator(platform.app);
      const bot = await createBot(platform.app, session.auth);
      const notes = { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('Drink water with every meal.') };
      expect((await uploadAndIngest(platform.app, session.auth, bot.id, notes, { timeoutMs: 30_000 })).status).toBe('ready');
    } finally {
      await platform.close().catch(() => undefined);
      await platform.testDatabase.drop();
    }
  });
});

describe('rate limiting', () => {
  it('answers 429 in the error shape once a client exceeds the limit', async () => {
    const platform = await startTestPlatform({ RATE_LIMIT_MAX: '3' });
    try {
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await platform.app.inject('/v1/nothing-here')).statusCode);
      expect(codes).toEqual([404, 404, 404, 429]);
      const limited = await platform.app.inject('/v1/nothing-here');
      expect(limited.json().error.code).toBe('RATE_LIMITED');
      expect(limited.headers['retry-after']).toBeDefined();
    } finally {
      await platform.stop();
    }
  });

  it('shares counters between API processes through Redis', async () => {
    const first = await startTestPlatform({ RATE_LIMIT_MAX: '4', REDIS_URL: testRedisUrl });
    // A second API process of the same deployment: same prefix, same Redis.
    const second = await startTestPlatform({ RATE_LIMIT_MAX: '4', REDIS_URL: testRedisUrl, QUEUE_PREFIX: first.config.QUEUE_PREFIX });
    try {
      for (let i = 0; i < 2; i++) expect((await first.app.inject('/v1/nothing-here')).statusCode).toBe(404);
      for (let i = 0; i < 2; i++) expect((await second.app.inject('/v1/nothing-here')).statusCode).toBe(404);
      expect((await first.app.inject('/v1/nothing-here')).statusCode).toBe(429);
      expect((await second.app.inject('/v1/nothing-here')).statusCode).toBe(429);
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});
