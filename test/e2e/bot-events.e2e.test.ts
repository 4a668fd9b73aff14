/**
 * The creators' live events (`GET /v1/bots/:botId/events`) over real connections: a Telegram
 * message through the fake Bot API shows up as `message`, `reply` and `delivery`, an upload as
 * `document` progress, only on the stream of the creator's own bot, whichever process does the work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uploadDocument } from '../../scripts/eval-retrieval.js';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import type { SseEvent } from '../support/sse.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { connectedBot, freePort, GUIDE_TITLE, type ConnectedBot } from '../support/telegram-e2e.js';
import { textUpdate } from '../support/telegram-updates.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const REPLY = 'Keep the same wake-up time every day, weekends included, and get daylight in the first hour after waking.';
const MAX_STREAMS = 5;

let telegram: FakeTelegram;
let ollama: FakeOllama;
let nextUpdateId = 50_000;
let nextChatId = 7_000;
const platforms: TestPlatform[] = [];
const streams: LiveSse[] = [];
const workers = new ChildWorkers();

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
});
afterEach(() => {
  for (const stream of streams.splice(0)) stream.drop();
});
afterAll(async () => {
  await workers.close();
  for (const platform of platforms) await platform.stop();
  await telegram?.close();
  await ollama?.close();
});

/** A platform listening on a real port (the fake Bot API delivers webhooks over HTTP); `workers: false` makes it an API process only. */
async function listeningPlatform(env: Record<string, string>, workersToo = true) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const platform = await startTestPlatform(
    { TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: base, OLLAMA_HOST: ollama.url, TELEGRAM_THROTTLE: 'false', EVENTS_MAX_STREAMS_PER_CREATOR: String(MAX_STREAMS), ...env },
    { workers: workersToo },
  );
  platforms.push(platform);
  await platform.app.listen({ host: '127.0.0.1', port });
  return { platform, base };
}

/** Opens a bot's event stream and waits for its `ready` event (the subscription is live from then on). */
async function watch(base: string, botId: string, init: { auth?: { authorization: string }; query?: string; lastEventId?: string } = {}): Promise<LiveSse> {
  const headers: Record<string, string> = { ...(init.auth ?? {}), ...(init.lastEventId ? { 'last-event-id': init.lastEventId } : {}) };
  const stream = await openSse(`${base}/v1/bots/${botId}/events${init.query ?? ''}`, { headers });
  streams.push(stream);
  if (stream.status === 200) await stream.waitFor((e) => e.event === 'ready', 'the ready event');
  return stream;
}

/** What a Telegram user writing to the bot produces on its stream: the message, the reply and its delivery. */
async function telegramExchange(bot: ConnectedBot, stream: LiveSse, question: string) {
  const chatId = nextChatId++;
  const update = textUpdate(question, { updateId: nextUpdateId++, chatId });
  const delivered = await telegram.deliverUpdate(bot.fakeBot.token, update);
  expect(delivered.status).toBe(200);
  const message = await stream.waitFor((e) => e.event === 'message' && e.data.preview === question, 'the message');
  const reply = await stream.waitFor((e) => e.event === 'reply' && e.data.conversationId === message.data.conversationId, 'the reply');
  const sent = await stream.waitFor(
    (e) => e.event === 'delivery' && e.data.id === reply.data.deliveryId && e.data.status === 'sent',
    'the delivery sent',
  );
  return { chatId, update, message, reply, sent };
}

/** The stream positions of events, to check their order. */
const at = (stream: LiveSse, event: SseEvent) => stream.events.indexOf(event);

describe('one process (PostgreSQL)', () => {
  let platform: TestPlatform;
  let base: string;
  let main: ConnectedBot;
  /** The same creator's other bot. */
  let sibling: string;
  /** Another creator and their bot. */
  let stranger: CreatorSession;
  let strangerBot: string;

  beforeAll(async () => {
    ({ platform, base } = await listeningPlatform({}));
    main = await connectedBot(platform, telegram);
    sibling = (await createBot(platform.app, main.session.auth, { name: 'Second', language: 'en' })).id;
    stranger = await signUpCreator(platform.app);
    strangerBot = (await createBot(platform.app, stranger.auth, { name: 'Elsewhere', language: 'en' })).id;
  }, 120_000);

  it('shows a Telegram message, then its reply, then the reply sent; an upload as processing then ready; to that bot’s stream only', async () => {
    const mine = await watch(base, main.botId, { auth: main.session.auth });
    const siblingStream = await watch(base, sibling, { auth: main.session.auth });
    const strangers = await watch(base, strangerBot, { auth: stranger.auth });
    expect(mine.headers.get('content-type')).toContain('text/event-stream');

    const question = 'How much sleep do I need, and when should I wake up?';
    const { update, message, reply, sent } = await telegramExchange(main, mine, question);
    expect(message.data).toEqual(
      expect.objectContaining({
        channel: 'telegram',
        kind: 'text',
        contact: { displayName: expect.stringContaining((update as { message: { from: { first_name: string } } }).message.from.first_name) },
      }),
    );
    expect(reply.data.text).toContain(REPLY);
    expect(reply.data.sources).toBe(1);
    expect(sent.data.conversationId).toBe(message.data.conversationId);
    expect(at(mine, message)).toBeLessThan(at(mine, reply));
    expect(at(mine, reply)).toBeLessThan(at(mine, sent));
    // The delivery the stream announced is the one the deliveries endpoint lists as sent.
    const deliveries = (await platform.app.inject({ url: `/v1/bots/${main.botId}/deliveries`, headers: main.session.auth })).json() as {
      deliveries: Array<{ id: string; status: string }>;
    };
    expect(deliveries.deliveries).toContainEqual(expect.objectContaining({ id: reply.data.deliveryId, status: 'sent' }));
    // Every event carries an id to resume after.
    expect(mine.events.filter((e) => e.event !== 'ready').every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true);

    const documentId = await uploadDocument(platform.app, main.session.auth, main.botId, {
      title: 'Evening routine',
      filename: 'evening.md',
      bytes: '# Evening routine\n\nDim the lights an hour before bed and put the phone in another room.\n',
      mediaType: 'text/markdown',
    });
    const ready = await mine.waitFor((e) => e.event === 'document' && e.data.documentId === documentId && e.data.status === 'ready', 'the document ready');
    const processing = mine.events.find((e) => e.event === 'document' && e.data.documentId === documentId && e.data.status === 'processing');
    expect(processing).toBeDefined();
    expect(at(mine, processing!)).toBeLessThan(at(mine, ready));
    expect(ready.data.chunks).toBeGreaterThan(0);

    // The other streams are live (each gets its own bot's event), and got nothing of the above.
    for (const [stream, botId, auth] of [
      [siblingStream, sibling, main.session.auth],
      [strangers, strangerBot, stranger.auth],
    ] as const) {
      const own = await uploadDocument(platform.app, auth, botId, { filename: 'note.md', bytes: '# Note\n\nA short note.\n', mediaType: 'text/markdown' });
      await stream.waitFor((e) => e.event === 'document' && e.data.documentId === own && e.data.status === 'ready', 'its own document ready');
      expect(stream.events.filter((e) => e.event !== 'ready' && e.data.documentId !== own)).toEqual([]);
    }
  });

  it('shows an upload that cannot be read as failed, with the reason the documents list gives', async () => {
    const stream = await watch(base, main.botId, { auth: main.session.auth });
    const documentId = await uploadDocument(platform.app, main.session.auth, main.botId, { filename: 'empty.md', bytes: '   \n\n  \n', mediaType: 'text/markdown' });
    const failed = await stream.waitFor((e) => e.event === 'document' && e.data.documentId === documentId && e.data.status === 'failed', 'the failure');
    const listed = (await platform.app.inject({ url: `/v1/bots/${main.botId}/documents/${documentId}`, headers: main.session.auth })).json() as { status: string; error: string };
    expect(listed.status).toBe('failed');
    expect(failed.data.error).toBe(listed.error);
  });

  it("answers 404 for another creator's bot, whether by token, API key or ticket", async () => {
    const key = (await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: stranger.auth, payload: { name: 'events' } })).json() as { key: string };
    for (const auth of [stranger.auth, { authorization: `Bearer ${key.key}` }]) {
      const stream = await watch(base, main.botId, { auth });
      expect(stream.status).toBe(404);
      await stream.ended;
      expect(stream.events).toEqual([]);
    }
    const ticket = await platform.app.inject({ method: 'POST', url: `/v1/bots/${main.botId}/events/ticket`, headers: stranger.auth });
    expect(ticket.statusCode).toBe(404);
    // The API key works on the creator's own bot's stream.
    expect((await watch(base, strangerBot, { auth: { authorization: `Bearer ${key.key}` } })).status).toBe(200);
    expect((await watch(base, main.botId)).status).toBe(401);
  });

  it('opens with a ticket (no header) for its bot only, and never with a forged or reused-elsewhere one', async () => {
    const issued = await platform.app.inject({ method: 'POST', url: `/v1/bots/${main.botId}/events/ticket`, headers: main.session.auth });
    expect(issued.statusCode).toBe(201);
    const { ticket, expiresAt } = issued.json() as { ticket: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const query = `?ticket=${encodeURIComponent(ticket)}`;
    const stream = await watch(base, main.botId, { query });
    expect(stream.status).toBe(200);
    const question = 'Should I nap in the afternoon?';
    await telegramExchange(main, stream, question);

    // Bound to its bot: the creator's other bot refuses it.
    expect((await watch(base, sibling, { query })).status).toBe(401);
    // Not an access token either.
    expect((await platform.app.inject({ url: `/v1/bots/${main.botId}`, headers: { authorization: `Bearer ${ticket}` } })).statusCode).toBe(401);
    // Tampered: the same claims with another bot, or a changed signature.
    const [body, signature] = ticket.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...claims, b: sibling })).toString('base64url')}.${signature}`;
    expect((await watch(base, sibling, { query: `?ticket=${encodeURIComponent(forged)}` })).status).toBe(401);
    const flipped = `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect((await watch(base, main.botId, { query: `?ticket=${encodeURIComponent(flipped)}` })).status).toBe(401);
  });

  it('resends what it still holds after Last-Event-ID, and tells the client to refetch when it holds nothing after it', async () => {
    const first = await watch(base, main.botId, { auth: main.session.auth });
    const { message } = await telegramExchange(main, first, 'What time should I stop drinking coffee?');
    first.drop();
    // Events after `message` (the reply and its delivery at least) are resent, in order, with their ids.
    const resumed = await watch(base, main.botId, { auth: main.session.auth, lastEventId: message.id! });
    const afterMessage = first.events.slice(first.events.indexOf(message) + 1);
    await waitFor(() => resumed.events.length > afterMessage.length, { what: 'the resent events' });
    expect(resumed.events[0]).toEqual({ event: 'ready', data: { botId: main.botId, resumed: true } });
    expect(resumed.events.slice(1, afterMessage.length + 1)).toEqual(afterMessage);
    expect(afterMessage.map((e) => `${e.event}:${e.data.status ?? ''}`)).toEqual(expect.arrayContaining(['reply:', 'delivery:sent']));
    resumed.drop();
    // A new EventSource cannot set the header: the same through the query.
    const byQuery = await watch(base, main.botId, { auth: main.session.auth, query: `?lastEventId=${message.id!}` });
    await waitFor(() => byQuery.events.length > afterMessage.length, { what: 'the resent events' });
    expect(byQuery.events.slice(1, afterMessage.length + 1)).toEqual(afterMessage);
    byQuery.drop();

    const unknown = await watch(base, main.botId, { auth: main.session.auth, lastEventId: 'not-an-event-this-process-saw' });
    await unknown.waitFor((e) => e.event === 'reset', 'the reset');
    expect(unknown.events.slice(0, 2)).toEqual([
      { event: 'ready', data: { botId: main.botId, resumed: false } },
      { event: 'reset', data: { reason: 'unknown_last_event', refetch: ['conversations', 'documents', 'deliveries'] } },
    ]);
  });

  it('caps the streams one creator holds open, and frees a slot when a client goes away', async () => {
    const creator = await signUpCreator(platform.app);
    const botId = (await createBot(platform.app, creator.auth, { name: 'Capped', language: 'en' })).id;
    const open: LiveSse[] = [];
    for (let i = 0; i < MAX_STREAMS; i++) open.push(await watch(base, botId, { auth: creator.auth }));
    const refused = await watch(base, botId, { auth: creator.auth });
    expect(refused.status).toBe(429);
    const body = (await (await fetch(`${base}/v1/bots/${botId}/events`, { headers: creator.auth })).json()) as { error: { code: string } };
    expect(body.error.code).toBe('TOO_MANY_STREAMS');
    // Another creator is not affected.
    expect((await watch(base, strangerBot, { auth: stranger.auth })).status).toBe(200);

    const before = platform.events.hub.openStreams();
    open[0]!.drop();
    await waitFor(() => platform.events.hub.openStreams() === before - 1, { what: 'the dropped stream to close on the server' });
    expect((await watch(base, botId, { auth: creator.auth })).status).toBe(200);
  });
});

describe('API and worker in separate processes', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await workers.killAll();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['redis', 'postgres'] as const) {
    it(
      `relays the worker's replies, deliveries and ingestion to the API process's streams, and ends them on shutdown (${mode === 'redis' ? 'Redis pub/sub' : 'PostgreSQL LISTEN/NOTIFY'})`,
      { timeout: WORKER_TEST_TIMEOUT_MS },
      async () => {
        const { platform, base } = await listeningPlatform(mode === 'redis' ? { REDIS_URL: testRedisUrl } : {}, false);
        const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
        dirs.push(dataDir);
        const env = workerEnvFor(platform, dataDir, { OLLAMA_HOST: ollama.url, TELEGRAM_API_ROOT: telegram.apiRoot, TELEGRAM_THROTTLE: 'false' });
        if (mode === 'postgres') delete env.REDIS_URL;
        await workers.start(env);
        // The guide is ingested by the worker process.
        const bot = await connectedBot(platform, telegram);
        const stranger = await signUpCreator(platform.app);
        const strangerBot = (await createBot(platform.app, stranger.auth, { name: 'Elsewhere', language: 'en' })).id;
        const mine = await watch(base, bot.botId, { auth: bot.session.auth });
        const strangers = await watch(base, strangerBot, { auth: stranger.auth });

        const { reply } = await telegramExchange(bot, mine, 'How much sleep do I need?');
        expect(reply.data.text).toContain(REPLY);
        expect(reply.data.sources).toBe(1);
        const documentId = await uploadDocument(platform.app, bot.session.auth, bot.botId, {
          title: GUIDE_TITLE,
          filename: 'again.md',
          bytes: '# Mornings\n\nOpen the curtains as soon as you wake up.\n',
          mediaType: 'text/markdown',
        });
        await mine.waitFor((e) => e.event === 'document' && e.data.documentId === documentId && e.data.status === 'processing', 'processing');
        await mine.waitFor((e) => e.event === 'document' && e.data.documentId === documentId && e.data.status === 'ready', 'ready');
        expect(strangers.events.map((e) => e.event)).toEqual(['ready']);

        // Shutdown ends open streams rather than waiting for them.
        await platform.stop();
        platforms.splice(platforms.indexOf(platform), 1);
        await mine.ended;
        await strangers.ended;
      },
    );
  }
});
