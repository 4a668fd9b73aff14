/**
 * Live event streams across API processes: two platforms share one database (and, in scale-out,
 * one Redis), as API processes behind a load balancer do. The per-creator cap counts every
 * process's streams, a process that died stops counting once its leases lapse, and a stream (or a
 * ticket) ends with the session or API key it was opened with. Each mode has its own test file.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisStreamLeases } from '../../src/events/stream-lease.redis.js';
import { StreamLeaseRepository } from '../../src/db/stream-lease.repository.js';
import type { StreamLeases } from '../../src/events/stream-lease.js';
import { createBot, signUpCreator, type CreatorSession } from './creator-session.js';
import { freePort } from './free-port.js';
import { openSse, type LiveSse } from './sse-client.js';
import { testRedisUrl } from './test-database.js';
import { startTestPlatform, type TestPlatform } from './test-platform.js';
import { waitFor } from './wait-for.js';

const MAX_STREAMS = 3;
// Renewed every third of it: long enough that a busy machine's pauses never let a live stream's lease lapse.
const LEASE_MS = 5000;

const platforms: TestPlatform[] = [];
const streams: LiveSse[] = [];

interface Api {
  platform: TestPlatform;
  base: string;
}

/** Two API processes on one database (and one Redis when `redis`), with one JWT secret. */
async function twoApiProcesses(redis: boolean): Promise<[Api, Api]> {
  const shared = {
    JWT_SECRET: randomBytes(24).toString('hex'),
    EVENTS_MAX_STREAMS_PER_CREATOR: String(MAX_STREAMS),
    EVENTS_STREAM_LEASE_MS: String(LEASE_MS),
    EVENTS_CREDENTIAL_CHECK_MS: '100',
    ...(redis ? { REDIS_URL: testRedisUrl } : {}),
  };
  const listen = async (platform: TestPlatform): Promise<Api> => {
    platforms.push(platform);
    const port = await freePort();
    await platform.app.listen({ host: '127.0.0.1', port });
    return { platform, base: `http://127.0.0.1:${port}` };
  };
  const first = await listen(await startTestPlatform(shared, { workers: false }));
  const second = await listen(
    await startTestPlatform({ ...shared, DATABASE_URL: first.platform.testDatabase.url, QUEUE_PREFIX: first.platform.config.QUEUE_PREFIX }, { workers: false }),
  );
  return [first, second];
}

async function watch(api: Api, botId: string, init: { auth?: { authorization: string }; ticket?: string } = {}): Promise<LiveSse> {
  const query = init.ticket ? `?ticket=${encodeURIComponent(init.ticket)}` : '';
  const stream = await openSse(`${api.base}/v1/bots/${botId}/events${query}`, { headers: init.auth ?? {} });
  streams.push(stream);
  if (stream.status === 200) await stream.waitFor((e) => e.event === 'ready', 'the ready event');
  return stream;
}

async function ticketFor(api: Api, botId: string, auth: { authorization: string }): Promise<string> {
  const response = await api.platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/events/ticket`, headers: auth });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().ticket;
}

/** The suite for one way of counting the cap: in Redis (scale-out) or in PostgreSQL. */
export function describeSharedEventStreams(mode: 'redis' | 'postgres'): void {
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.drop();
  });
  afterAll(async () => {
    for (const platform of platforms.splice(0).reverse()) await platform.stop();
  });

  describe(`event streams across two API processes (${mode === 'redis' ? 'cap counted in Redis' : 'cap counted in PostgreSQL'})`, () => {
    let a: Api;
    let b: Api;

    it('hold the per-creator cap together, free a slot when a stream closes, and stop counting a dead process’s streams once their leases lapse', async () => {
      [a, b] = await twoApiProcesses(mode === 'redis');
      const creator = await signUpCreator(a.platform.app);
      const botId = (await createBot(a.platform.app, creator.auth, { name: 'Shared', language: 'en' })).id;
      const open = [await watch(a, botId, { auth: creator.auth }), await watch(b, botId, { auth: creator.auth }), await watch(a, botId, { auth: creator.auth })];
      expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
      const openedAt = Date.now();
      for (const api of [a, b]) {
        const refused = await fetch(`${api.base}/v1/bots/${botId}/events`, { headers: creator.auth });
        expect(refused.status).toBe(429);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS');
      }
      // Another creator has slots of their own.
      const other = await signUpCreator(a.platform.app);
      const otherBot = (await createBot(a.platform.app, other.auth, { name: 'Other', language: 'en' })).id;
      expect((await watch(b, otherBot, { auth: other.auth })).status).toBe(200);

      // Closing one on A frees a slot that B can use.
      open[0]!.drop();
      const reopened = await waitFor(async () => {
        const stream = await watch(b, botId, { auth: creator.auth });
        return stream.status === 200 ? stream : null;
      }, { what: 'a slot freed on the other process' });
      expect(reopened.status).toBe(200);

      // Open past their first lease, the streams still count: their processes renew the leases.
      while (Date.now() - openedAt < 1.2 * LEASE_MS) {
        const probe = await fetch(`${a.base}/v1/bots/${botId}/events`, { headers: creator.auth });
        await probe.body?.cancel();
        expect(probe.status).toBe(429);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      for (const stream of [open[1]!, open[2]!, reopened]) stream.drop();
      // A process that died holding every slot: its leases were never renewed nor released.
      const dead: StreamLeases =
        mode === 'redis'
          ? new RedisStreamLeases(a.platform.infrastructure.redis!, a.platform.config.QUEUE_PREFIX, LEASE_MS)
          : new StreamLeaseRepository(a.platform.infrastructure.database.pool, LEASE_MS);
      let taken = 0;
      await waitFor(async () => {
        // The closed streams' leases are handed back as their connections end: take each slot as it frees.
        if (await dead.acquire(creator.creatorId, MAX_STREAMS)) taken += 1;
        return taken === MAX_STREAMS;
      }, { what: 'every slot taken by the dead process' });
      expect((await fetch(`${a.base}/v1/bots/${botId}/events`, { headers: creator.auth })).status).toBe(429);
      const after = await waitFor(async () => {
        const stream = await watch(a, botId, { auth: creator.auth });
        return stream.status === 200 ? stream : null;
      }, { what: 'the dead process’s leases to lapse' });
      expect(after.status).toBe(200);
    });

    it('end with the session they were opened in: a ticket of a signed-out session opens nothing, and its open stream is closed on every process', async () => {
      const creator = await signUpCreator(a.platform.app);
      const botId = (await createBot(a.platform.app, creator.auth, { name: 'Signed out', language: 'en' })).id;
      const login = await a.platform.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: creator.email, password: creator.password } });
      const other: CreatorSession = { ...creator, accessToken: login.json().accessToken, refreshToken: login.json().refreshToken, auth: { authorization: `Bearer ${login.json().accessToken}` } };

      const ticket = await ticketFor(a, botId, creator.auth);
      const spare = await ticketFor(a, botId, creator.auth);
      const otherTicket = await ticketFor(a, botId, other.auth);
      const byTicket = await watch(b, botId, { ticket });
      const byHeader = await watch(a, botId, { auth: creator.auth });
      const otherSession = await watch(b, botId, { ticket: otherTicket });

      const out = await a.platform.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: creator.auth, payload: { refreshToken: creator.refreshToken } });
      expect(out.statusCode).toBe(204);
      await byTicket.ended;
      await byHeader.ended;
      for (const api of [a, b]) {
        const refused = await fetch(`${api.base}/v1/bots/${botId}/events?ticket=${encodeURIComponent(spare)}`);
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      }
      // The creator's other session is untouched: its stream carries on and its tickets open streams.
      expect(otherSession.events.map((e) => e.event)).toEqual(['ready']);
      expect((await watch(a, botId, { ticket: await ticketFor(a, botId, other.auth) })).status).toBe(200);

      // Signing out everywhere ends that one too.
      expect((await a.platform.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: other.auth })).statusCode).toBe(204);
      await otherSession.ended;
    });

    it('end with the API key they were opened with once it is deleted', async () => {
      const creator = await signUpCreator(a.platform.app);
      const botId = (await createBot(a.platform.app, creator.auth, { name: 'Keyed', language: 'en' })).id;
      const created = await a.platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: creator.auth, payload: { name: 'dashboard script' } });
      expect(created.statusCode, created.body).toBe(201);
      const keyAuth = { authorization: `Bearer ${created.json().key}` };
      const ticket = await ticketFor(b, botId, keyAuth);
      const spare = await ticketFor(b, botId, keyAuth);
      const byTicket = await watch(a, botId, { ticket });
      const bySession = await watch(a, botId, { auth: creator.auth });

      expect((await b.platform.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.json().id}`, headers: creator.auth })).statusCode).toBe(204);
      await byTicket.ended;
      expect((await fetch(`${a.base}/v1/bots/${botId}/events?ticket=${encodeURIComponent(spare)}`)).status).toBe(401);
      expect(bySession.events.map((e) => e.event)).toEqual(['ready']);
    });
  });
}
