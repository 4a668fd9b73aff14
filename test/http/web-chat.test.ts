import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { uploadAndIngest } from '../support/documents.js';
import { parseSse } from '../support/sse.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;
let documentId: string;

const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

function chat(session: CreatorSession | undefined, bot: string, payload: unknown) {
  return platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/chat`, headers: session?.auth ?? {}, payload: payload as object });
}

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
  const guideFile = { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide };
  documentId = (await uploadAndIngest(platform.app, alice.auth, botId, guideFile, { fields: { title: 'Steady Habits Guide' } })).id;
});
afterAll(async () => {
  await platform?.stop();
});

describe('POST /v1/bots/:botId/chat', () => {
  it('streams the reply as token events, then a done event quoting the guide with its source', async () => {
    const response = await chat(alice, botId, { sessionId: 'session-1', text: 'How much sleep do adults need?' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(response.body);
    const tokens = events.filter((e) => e.event === 'token');
    const done = events.at(-1)!;
    expect(tokens.length).toBeGreaterThan(0);
    expect(done.event).toBe('done');
    expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
    const reply = done.data.reply as string;
    // Extractive fallback (no Ollama in tests): quotes the guide and says it is quoting.
    expect(reply).toMatch(/seven to nine hours/i);
    expect(reply).toMatch(/here is what Steady Habits Coach's material says/);
    expect(tokens.map((t) => t.data.text).join('').trim()).toBe(reply.trim());
    expect(done.data.sources).toEqual(expect.arrayContaining([expect.objectContaining({ documentId, title: 'Steady Habits Guide' })]));
  });

  it('keeps one conversation per session, so the second message is answered with memory of the first', async () => {
    const first = await chat(alice, botId, { sessionId: 'memory-session', text: 'How do I start a new habit?' });
    expect(parseSse(first.body).at(-1)!.event).toBe('done');
    const second = await chat(alice, botId, { sessionId: 'memory-session', text: 'And how long should the first version take?' });
    expect(parseSse(second.body).at(-1)!.event).toBe('done');

    // The page shows the reply once it is final; the worker marks it sent a moment later.
    const counts = () => platform.infrastructure.database.pool.query<{ answered: number; conversations: number; sent: number; inbound: number }>(
      `SELECT count(DISTINCT t.id) FILTER (WHERE t.status = 'answered' AND t.reply IS NOT NULL)::int AS answered,
              count(DISTINCT c.id)::int AS conversations,
              count(DISTINCT o.id) FILTER (WHERE o.status = 'sent')::int AS sent,
              count(DISTINCT i.id)::int AS inbound
         FROM public.conversations c
         JOIN public.turns t ON t.conversation_id = c.id
         LEFT JOIN public.outbound_messages o ON o.turn_id = t.id
         LEFT JOIN public.inbound_messages i ON i.turn_id = t.id
        WHERE c.bot_id = $1 AND c.channel = 'web' AND c.external_chat_id = 'memory-session'`,
      [botId],
    );
    await waitFor(async () => (await counts()).rows[0]?.sent === 2, { what: 'both replies marked sent' });
    expect((await counts()).rows[0]).toEqual({ answered: 2, conversations: 1, sent: 2, inbound: 2 });
    // What the engine will remember next time: both exchanges, oldest first.
    const { rows: memory } = await platform.infrastructure.database.pool.query<{ texts: string[] }>(
      `SELECT t.texts FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
        WHERE c.bot_id = $1 AND c.external_chat_id = 'memory-session' ORDER BY t.created_at`,
      [botId],
    );
    expect(memory.map((m) => m.texts)).toEqual([['How do I start a new habit?'], ['And how long should the first version take?']]);
  });

  it('answers two different messages sent at once in one session once each, every stream ending with the reply to its own message', async () => {
    const [a, b] = await Promise.all([
      chat(alice, botId, { sessionId: 'two-at-once', text: 'How much sleep do adults need?' }),
      chat(alice, botId, { sessionId: 'two-at-once', text: 'How do I start a new habit?' }),
    ]);
    const query = () => platform.infrastructure.database.pool.query<{ texts: string[]; reply: string; status: string; messages: number }>(
      `SELECT t.texts, o.text AS reply, o.status, (SELECT count(*)::int FROM public.inbound_messages i WHERE i.turn_id = t.id) AS messages
         FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
         JOIN public.outbound_messages o ON o.turn_id = t.id
        WHERE c.bot_id = $1 AND c.external_chat_id = 'two-at-once' ORDER BY t.created_at`,
      [botId],
    );
    await waitFor(async () => (await query()).rows.every((r) => r.status === 'sent'), { what: 'replies marked sent' });
    const { rows } = await query();
    // As on every channel, messages that wait together are answered together: one turn or two,
    // depending on which request the worker sees first, but every message in exactly one, each sent once.
    expect(rows.flatMap((r) => r.texts).sort()).toEqual(['How do I start a new habit?', 'How much sleep do adults need?']);
    expect(rows.reduce((n, r) => n + r.messages, 0)).toBe(2);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    const replyOf = (text: string) => rows.find((r) => r.texts.includes(text))!.reply;
    expect(parseSse(a.body).filter((e) => e.event === 'done').map((e) => e.data.reply)).toEqual([replyOf('How much sleep do adults need?')]);
    expect(parseSse(b.body).filter((e) => e.event === 'done').map((e) => e.data.reply)).toEqual([replyOf('How do I start a new habit?')]);
  });

  it("answers 404 for another creator's bot and 401 without credentials", async () => {
    const foreign = await chat(bob, botId, { sessionId: 's', text: 'hello' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect((await chat(undefined, botId, { sessionId: 's', text: 'hello' })).statusCode).toBe(401);
  });

  it('rejects an invalid body with 400 naming the field', async () => {
    const badSession = await chat(alice, botId, { sessionId: 'has spaces!', text: 'hello' });
    expect(badSession.statusCode).toBe(400);
    expect((badSession.json() as { error: { message: string } }).error.message).toMatch(/sessionId/);
    const longSession = await chat(alice, botId, { sessionId: 'x'.repeat(101), text: 'hello' });
    expect((longSession.json() as { error: { message: string } }).error.message).toMatch(/sessionId/);
    const empty = await chat(alice, botId, { sessionId: 'ok', text: '' });
    expect(empty.statusCode).toBe(400);
    expect((empty.json() as { error: { message: string } }).error.message).toMatch(/text/);
    const tooLong = await chat(alice, botId, { sessionId: 'ok', text: 'a'.repeat(4001) });
    expect(tooLong.statusCode).toBe(400);
    expect((tooLong.json() as { error: { message: string } }).error.message).toMatch(/text/);
  });
});

describe('GET /chat/:botId', () => {
  it('serves a self-contained page for the bot, with nothing of other bots in it', async () => {
    const otherBot = (await createBot(platform.app, bob.auth, { name: 'Secret Other Bot', persona: 'bob-only persona' })).id;
    const response = await platform.app.inject({ method: 'GET', url: `/chat/${botId}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.body).toContain(botId);
    expect(response.body).not.toContain(otherBot);
    expect(response.body).not.toContain('Secret Other Bot');
    expect(response.body).not.toContain('bob-only persona');
    // No external assets: nothing is loaded from another origin.
    expect(response.body).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(response.body).not.toContain('innerHTML');
  });

  it('answers 400 for something that is not a bot id instead of reflecting it', async () => {
    const response = await platform.app.inject({ method: 'GET', url: `/chat/${encodeURIComponent('<script>alert(1)</script>')}` });
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('<script>');
  });
});
