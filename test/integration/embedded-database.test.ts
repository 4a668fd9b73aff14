import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPlatform } from '../../src/platform.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { htmlPage, startFakeSite } from '../support/fake-site.js';
import { waitFor } from '../support/wait-for.js';

describe('embedded PGlite served to several pg clients at once', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-pglite-'));
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir, poolMax: 8 });
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers concurrent parameterised queries from different connections correctly', async () => {
    // Different statement shapes and parameter counts, so an interleaved Parse/Bind shows up at once.
    const queries = Array.from({ length: 300 }, (_, i) => {
      switch (i % 3) {
        case 0:
          return database.pool.query<{ v: number }>('SELECT $1::int AS v', [i]).then((r) => r.rows[0]!.v === i);
        case 1:
          return database.pool
            .query<{ v: number }>('SELECT $1::int + $2::int AS v', [i, 1])
            .then((r) => r.rows[0]!.v === i + 1);
        default:
          return database.pool
            .query<{ v: string }>('SELECT $1::text || $2::text || $3::text AS v', ['a', String(i), 'z'])
            .then((r) => r.rows[0]!.v === `a${i}z`);
      }
    });
    const results = await Promise.all(queries);
    expect(results.filter((ok) => !ok)).toHaveLength(0);
  });

  it('keeps a transaction on one connection isolated from statements of the others', async () => {
    await database.pool.query('CREATE TABLE IF NOT EXISTS tx_probe (n int)');
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO tx_probe (n) VALUES ($1)', [1]);
      const others = Promise.all(Array.from({ length: 20 }, (_, i) => database.pool.query('SELECT $1::int AS v', [i])));
      await client.query('INSERT INTO tx_probe (n) VALUES ($1)', [2]);
      await client.query('ROLLBACK');
      expect((await others).map((r) => r.rows[0].v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      client.release();
    }
    const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM tx_probe');
    expect(rows[0].n).toBe(0);
  });
});

describe('the embedded database on first start and after', () => {
  it('says it is creating the database on the first start only, and keeps what was stored', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-pglite-create-'));
    const creating: string[] = [];
    try {
      const first = await openDatabase({ dataDir, poolMax: 2, onCreating: (dir) => creating.push(dir) });
      await first.pool.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
      await first.close();
      const again = await openDatabase({ dataDir, poolMax: 2, onCreating: (dir) => creating.push(dir) });
      try {
        expect((await again.pool.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
      } finally {
        await again.close();
      }
      expect(creating).toEqual([path.join(dataDir, 'pgdata')]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the embedded database serving every connection of the platform', () => {
  // Two starts of the embedded database (each seconds of WebAssembly on a busy machine) in one test.
  it('lets the whole pool connect while the workers run, and starts again on the same data, without a connection reset', { timeout: 150_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-bare-restart-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', OLLAMA_HOST: 'http://127.0.0.1:9', NODE_ENV: 'test', RATE_LIMIT_MAX: '100000' });
    const warnings: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void warnings.push(line) });
    const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));
    try {
      for (const run of ['first start', 'restart']) {
        const platform = await createPlatform(config, logger);
        try {
          platform.startWorkers();
          // A document ingested means the workers are up and connected, as they are on a running platform.
          const session = await signUpCreator(platform.app);
          const bot = await createBot(platform.app, session.auth);
          await uploadAndIngest(platform.app, session.auth, bot.id, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide });
          // Requests at their busiest hold every connection of the pool at once.
          const held = await Promise.allSettled(Array.from({ length: config.DATABASE_POOL_MAX }, () => platform.infrastructure.database.pool.connect()));
          for (const client of held) if (client.status === 'fulfilled') client.value.release();
          expect(held.filter((c) => c.status === 'rejected').map((c) => String((c as PromiseRejectedResult).reason)), run).toEqual([]);
        } finally {
          await platform.close();
        }
      }
      expect(warnings.filter((line) => /ECONNRESET|connection (error|reset|terminated)/i.test(line))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the whole platform on a bare machine', () => {
  // A whole platform on a fresh embedded database: its first start alone takes seconds on a busy machine.
  it('ingests an uploaded guide, finds it and answers web chat from it, with nothing but Node', { timeout: 150_000 }, async () => {

    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-bare-platform-'));
    // The test polls the document's status; its polls are not what the rate limit is about (as in test-platform.ts).
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', OLLAMA_HOST: 'http://127.0.0.1:9', NODE_ENV: 'test', RATE_LIMIT_MAX: '100000' });
    const platform = await createPlatform(config, createLogger('silent'));
    try {
      expect(platform.infrastructure.database.kind).toBe('pglite');
      platform.startWorkers();
      const session = await signUpCreator(platform.app);
      const bot = await createBot(platform.app, session.auth);
      const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));
      const ready = await uploadAndIngest(platform.app, session.auth, bot.id, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide });
      expect(ready.chunks).toBeGreaterThan(1);
      expect(ready.retrievalMode).toBe('lexical');
      const search = await platform.app.inject({ url: `/v1/bots/${bot.id}/search?q=${encodeURIComponent('when should I stop caffeine before bed?')}`, headers: session.auth });
      expect(search.statusCode).toBe(200);
      expect(search.json().results[0].text).toMatch(/caffeine/i);

      // The newcomer's first chat: answered from the guide (no Ollama here), also when a second
      // message of the same session arrives while the first is being answered.
      const chat = (text: string) =>
        platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/chat`, headers: session.auth, payload: { sessionId: 'first-run', text } });
      const [first, second] = await Promise.all([chat('When should I stop caffeine before bed?'), chat('How do I start a new habit?')]);
      for (const response of [first, second]) {
        expect(response.statusCode).toBe(200);
        expect(response.body).toMatch(/^event: done$/m);
        expect(response.body).not.toMatch(/^event: error$/m);
      }
      const turns = () =>
        platform.infrastructure.database.pool.query<{ texts: string[]; sent: number }>(
          `SELECT t.texts, (SELECT count(*)::int FROM public.outbound_messages o WHERE o.turn_id = t.id AND o.status = 'sent') AS sent
             FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
            WHERE c.bot_id = $1 AND c.external_chat_id = 'first-run'`,
          [bot.id],
        );
      // The page shows a reply once it is final; the worker marks it sent a moment later. Messages
      // waiting together are answered together, as on every channel: one turn or two, each sent once.
      await waitFor(async () => (await turns()).rows.every((r) => r.sent === 1), { what: 'replies sent' });
      const { rows } = await turns();
      expect(rows.flatMap((r) => r.texts).sort()).toEqual(['How do I start a new habit?', 'When should I stop caffeine before bed?']);

      // The inbox reads the same conversation: listed, found by a word of it, its transcript in order.
      const inbox = await platform.app.inject({ url: `/v1/bots/${bot.id}/conversations?q=caffeine`, headers: session.auth });
      expect(inbox.statusCode).toBe(200);
      const [conversation] = inbox.json().conversations;
      expect(conversation).toMatchObject({ channel: 'web', unanswered: false, lastMessage: { type: 'reply' } });
      const transcript = await platform.app.inject({ url: `/v1/bots/${bot.id}/conversations/${conversation.id}/messages?limit=3`, headers: session.auth });
      expect(transcript.statusCode).toBe(200);
      const cursor = transcript.json().nextCursor as string | null;
      const older = cursor
        ? (await platform.app.inject({ url: `/v1/bots/${bot.id}/conversations/${conversation.id}/messages?before=${cursor}`, headers: session.auth })).json().items
        : [];
      const items = [...older, ...transcript.json().items];
      // One reply per turn: the two messages were answered together or one by one.
      expect(items.map((i: { type: string }) => i.type).sort()).toEqual([...rows.map(() => 'reply'), 'user', 'user']);
      expect(items.filter((i: { type: string }) => i.type === 'reply').every((i: { delivery: { status: string } }) => i.delivery.status === 'sent')).toBe(true);
    } finally {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a website on the embedded database', () => {
  // No NOTIFY reaches a worker there; BullMQ, waiting for the site's next scheduled sync (a day away),
  // would only look for new jobs after up to an hour.
  it('syncs a site at once when the creator asks, although its scheduled sync is a day away', { timeout: 240_000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-bare-site-'));
    const site = await startFakeSite();
    site.resources.set('/', { body: htmlPage('Calm Coach', 'Box breathing calms the body before sleep.'), validators: 'etag' });
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      OLLAMA_HOST: 'http://127.0.0.1:9',
      NODE_ENV: 'test',
      RATE_LIMIT_MAX: '100000',
      URL_FETCH_ALLOWED_RANGES: '127.0.0.1/32',
      CRAWL_DELAY_MS: '0',
    });
    const platform = await createPlatform(config, createLogger('silent'));
    try {
      platform.startWorkers();
      const session = await signUpCreator(platform.app);
      const bot = await createBot(platform.app, session.auth);
      const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
        platform.app.inject({ method, url: `/v1/bots/${bot.id}${url}`, headers: session.auth, ...(payload ? { payload } : {}) });
      const created = await api('POST', '/documents', { url: `${site.origin}/`, crawl: { sitemap: false, maxPages: 5, sameOrigin: true } });
      expect(created.statusCode).toBe(202);
      const siteId = created.json().id as string;
      const settled = (after: string | undefined, timeoutMs: number) =>
        waitFor(
          async () => {
            const current = (await api('GET', `/sites/${siteId}`)).json() as { status: string; lastSyncedAt?: string };
            return current.status === 'ready' && current.lastSyncedAt !== after ? current.lastSyncedAt : undefined;
          },
          { what: 'the site synced', timeoutMs },
        );
      // A first start on a busy machine is slow; only the second sync's wait tells polling from none.
      const first = await settled(undefined, 90_000);
      // The worker has gone back to waiting by the time the creator comes back to the site.
      await waitFor(async () => (await api('GET', `/sites/${siteId}/pages`)).json().pages.every((p: { status: string }) => p.status === 'ready'), { what: 'the page read', timeoutMs: 90_000 });
      site.resources.set('/', { body: htmlPage('Calm Coach', 'Alternate nostril breathing steadies attention.'), validators: 'etag' });
      expect((await api('POST', `/sites/${siteId}/sync`)).statusCode).toBe(202);
      await settled(first, 30_000);
      await waitFor(async () => JSON.stringify((await api('GET', `/search?q=${encodeURIComponent('nostril')}`)).json().results).includes('nostril'), { what: 'the changed page searchable', timeoutMs: 60_000 });
    } finally {
      await platform.close();
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
