import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { uploadAndIngest } from '../support/documents.js';
import { parseSse } from '../support/sse.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;

const logLines: string[] = [];
const logCapture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

/** A visitor's browser: its own address and whatever cookie the platform gave it. */
class Visitor {
  cookie: string | undefined;
  constructor(readonly address: string) {}

  async ask(bot: string, text: string, headers: Record<string, string> = {}, messageId?: string) {
    const response = await platform.app.inject({
      method: 'POST',
      url: `/public/bots/${bot}/messages`,
      remoteAddress: this.address,
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      payload: { text, ...(messageId ? { messageId } : {}) },
    });
    const set = response.headers['set-cookie'];
    if (typeof set === 'string') this.cookie = set.split(';')[0];
    return response;
  }

  async history(bot: string) {
    const response = await platform.app.inject({ method: 'GET', url: `/public/bots/${bot}/history`, remoteAddress: this.address, headers: this.cookie ? { cookie: this.cookie } : {} });
    return response;
  }
}

let addressCount = 0;
/** A visitor from an address of their own, so the per-address cap of one test does not reach another. */
function newVisitor(address = `198.51.100.${++addressCount}`): Visitor {
  return new Visitor(address);
}

function lastEvent(body: string) {
  return parseSse(body).at(-1)!;
}

function publish(session: CreatorSession, bot: string, payload: object) {
  return platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot}/channels/web`, headers: session.auth, payload });
}

beforeAll(async () => {
  platform = await startTestPlatform({
    PUBLIC_URL: 'https://coach.example.test',
    WEB_CHAT_VISITOR_DAILY_MESSAGES: '3',
    WEB_CHAT_IP_DAILY_MESSAGES: '4',
    WEB_CHAT_BOT_DAILY_MESSAGES: '12',
    WEB_CHAT_MAX_CHARS: '300',
    LOG_LEVEL: 'info',
    // As behind a reverse proxy that says how the visitor came (X-Forwarded-Proto).
    TRUST_PROXY: 'true',
  }, { logStream: logCapture });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
  await uploadAndIngest(platform.app, alice.auth, botId, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide }, { fields: { title: 'Steady Habits Guide' } });
});
afterAll(async () => {
  await platform?.stop();
});

describe('PUT /v1/bots/:botId/channels/web', () => {
  it('publishes the web chat and answers its public address and a one-tag embed snippet', async () => {
    const response = await publish(alice, botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice', accentColor: '#0F766E', welcome: 'Hi! Ask me about habits.' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      chatUrl: `https://coach.example.test/c/${botId}`,
      embedSnippet: `<script src="https://coach.example.test/widget.js" data-bot="${botId}" async></script>`,
    });
  });

  it('refuses origins with a path, non-http schemes, bad colours and overlong texts, naming the field', async () => {
    for (const [payload, field] of [
      [{ allowedOrigins: ['https://alice.example/page'] }, 'allowedOrigins'],
      [{ allowedOrigins: ['javascript:alert(1)'] }, 'allowedOrigins'],
      [{ allowedOrigins: ['alice.example'] }, 'allowedOrigins'],
      [{ accentColor: 'red' }, 'accentColor'],
      [{ accentColor: '#12345g' }, 'accentColor'],
      [{ title: 'x'.repeat(81) }, 'title'],
      [{ welcome: 'x'.repeat(501) }, 'welcome'],
    ] as const) {
      const response = await publish(alice, botId, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect((response.json() as { error: { message: string } }).error.message).toContain(field);
    }
  });

  it("answers 404 for another creator's bot, and 401 without credentials", async () => {
    expect((await publish(bob, botId, {})).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${botId}/channels/web`, headers: bob.auth })).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'PUT', url: `/v1/bots/${botId}/channels/web`, payload: {} })).statusCode).toBe(401);
  });

  it('shows the published settings and links with GET, 404 while unpublished or for another creator', async () => {
    const other = (await createBot(platform.app, alice.auth, { name: 'Read back' })).id;
    const read = (session: CreatorSession) => platform.app.inject({ method: 'GET', url: `/v1/bots/${other}/channels/web`, headers: session.auth });
    expect((await read(alice)).statusCode).toBe(404);
    const links = (await publish(alice, other, { title: 'Ask me', allowedOrigins: ['https://www.alice.example'] })).json();
    const shown = await read(alice);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toEqual({ ...links, title: 'Ask me', allowedOrigins: ['https://www.alice.example'], accentColor: null, welcome: null });
    expect((await read(bob)).statusCode).toBe(404);
  });

  it('unpublishes with DELETE (204), then a second DELETE is 404', async () => {
    const other = (await createBot(platform.app, alice.auth, { name: 'Short-lived' })).id;
    expect((await publish(alice, other, {})).statusCode).toBe(200);
    const first = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other}/channels/web`, headers: alice.auth });
    expect(first.statusCode).toBe(204);
    const second = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other}/channels/web`, headers: alice.auth });
    expect(second.statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'GET', url: `/v1/bots/${other}/channels/web`, headers: alice.auth })).statusCode).toBe(404);
  });
});

describe('the public chat page', () => {
  it("shows the published title, colour and welcome, with no key, token or creator credential in it", async () => {
    await publish(alice, botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice', accentColor: '#0F766E', welcome: 'Hi! Ask me about habits.' });
    const response = await platform.app.inject({ method: 'GET', url: `/c/${botId}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'nonce-/);
    expect(response.body).toContain('<title>Ask Alice</title>');
    expect(response.body).toContain('<h1>Ask Alice</h1>');
    expect(response.body).toContain('--accent: #0f766e');
    expect(response.body).toContain('content="Hi! Ask me about habits."');
    // It talks only to the visitor endpoints, and asks for no key.
    expect(response.body).toContain(`/public/bots/`);
    expect(response.body).not.toMatch(/\/v1\/|authorization|Bearer|API key|localStorage/i);
    expect(response.body).not.toContain(alice.accessToken);
    expect(response.body).not.toContain(alice.creatorId);
    // No cookie is handed out for merely looking at the page.
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it("uses the bot's name without a title, and the creator's preview page still asks for a key", async () => {
    const plain = (await createBot(platform.app, alice.auth, { name: 'Plain Coach' })).id;
    await publish(alice, plain, {});
    const page = await platform.app.inject({ method: 'GET', url: `/c/${plain}` });
    expect(page.body).toContain('<h1>Plain Coach</h1>');
    expect(page.body).not.toContain('<meta name="welcome"');
    const preview = await platform.app.inject({ method: 'GET', url: `/chat/${plain}` });
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('API key');
  });

  it('answers an HTML 404 page for an unknown bot, something that is not a bot id, and an unpublished bot', async () => {
    const unpublished = (await createBot(platform.app, alice.auth, { name: 'Never Published' })).id;
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-bot', encodeURIComponent('<script>x</script>'), unpublished]) {
      const response = await platform.app.inject({ method: 'GET', url: `/c/${id}` });
      expect(response.statusCode, id).toBe(404);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('This chat is not available');
      expect(response.body).not.toContain('<script>x');
      expect(response.body).not.toContain('Never Published');
    }
  });
});

describe('a visitor of a published bot', () => {
  it('gets an answer from the material streamed without any key, and an httpOnly session cookie for this bot only', async () => {
    const visitor = newVisitor();
    const response = await visitor.ask(botId, 'How much sleep do adults need?');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(response.body);
    expect(events.filter((e) => e.event === 'token').length).toBeGreaterThan(0);
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data.reply).toMatch(/seven to nine hours/i);
    expect(done.data.sources).toEqual(expect.arrayContaining([expect.objectContaining({ title: 'Steady Habits Guide' })]));

    const cookie = response.headers['set-cookie'] as string;
    expect(cookie).toMatch(new RegExp(`^coach_visitor=[A-Za-z0-9_-]{43}; Path=/public/bots/${botId}; Max-Age=\\d+; HttpOnly; SameSite=Lax$`));
    // Only a hash of the token is stored.
    const token = visitor.cookie!.split('=')[1]!;
    const { rows } = await platform.infrastructure.database.pool.query<{ token_hash: string }>(`SELECT token_hash FROM public.web_visitor_sessions WHERE bot_id = $1`, [botId]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.token_hash)).not.toContain(token);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('makes the cookie usable in the widget iframe over https (SameSite=None; Secure; Partitioned), and Lax over plain http', async () => {
    const ask = (proto: string) =>
      platform.app.inject({
        method: 'POST',
        url: `/public/bots/${botId}/messages`,
        remoteAddress: '198.51.100.200',
        headers: { 'x-forwarded-proto': proto },
        payload: { text: 'How much sleep do adults need?' },
      });
    expect((await ask('https')).headers['set-cookie']).toMatch(/; HttpOnly; SameSite=None; Secure; Partitioned$/);
    expect((await ask('http')).headers['set-cookie']).toMatch(/; HttpOnly; SameSite=Lax$/);
  });

  it('is described in the OpenAPI document, next to the publishing endpoint', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths['/v1/bots/{botId}/channels/web']).toHaveProperty('put');
    expect(doc.paths['/public/bots/{botId}/messages']!.post!.security).toBeUndefined();
    expect(doc.paths['/public/bots/{botId}/history']).toHaveProperty('get');
  });

  it('sees their history after a reload or in a new tab (same cookie), and nobody else sees it', async () => {
    const visitor = newVisitor();
    await visitor.ask(botId, 'How much sleep do adults need?');
    await visitor.ask(botId, 'How do I start a new habit?');
    const reload = await visitor.history(botId);
    expect(reload.statusCode).toBe(200);
    const exchanges = (reload.json() as { exchanges: Array<{ texts: string[]; reply: string }> }).exchanges;
    expect(exchanges.map((x) => x.texts)).toEqual([['How much sleep do adults need?'], ['How do I start a new habit?']]);
    expect(exchanges[0]!.reply).toMatch(/seven to nine hours/i);

    // Another visitor, and a visitor without a cookie, see nothing of it.
    const other = newVisitor();
    await other.ask(botId, 'What about water?');
    const theirs = (await other.history(botId)).json() as { exchanges: Array<{ texts: string[] }> };
    expect(theirs.exchanges.map((x) => x.texts)).toEqual([['What about water?']]);
    expect(((await newVisitor().history(botId)).json() as { exchanges: unknown[] }).exchanges).toEqual([]);
    // A forged cookie is no session.
    const forged = newVisitor();
    forged.cookie = 'coach_visitor=' + 'A'.repeat(43);
    expect(((await forged.history(botId)).json() as { exchanges: unknown[] }).exchanges).toEqual([]);
  });

  it("cannot use a session of bot A on bot B: B's history is empty and B opens a session of its own", async () => {
    const botB = (await createBot(platform.app, alice.auth, { name: 'Second Coach' })).id;
    await publish(alice, botB, {});
    const visitor = newVisitor();
    await visitor.ask(botId, 'How much sleep do adults need?');
    const cookieA = visitor.cookie;
    expect(((await visitor.history(botB)).json() as { exchanges: unknown[] }).exchanges).toEqual([]);
    const onB = await visitor.ask(botB, 'Hello there');
    expect(lastEvent(onB.body).event).toBe('done');
    expect(onB.headers['set-cookie']).toMatch(new RegExp(`Path=/public/bots/${botB};`));
    expect(visitor.cookie).not.toBe(cookieA);
    // The A session's conversation got nothing of what was said to B.
    visitor.cookie = cookieA;
    const historyA = (await visitor.history(botId)).json() as { exchanges: Array<{ texts: string[] }> };
    expect(historyA.exchanges.map((x) => x.texts)).toEqual([['How much sleep do adults need?']]);
  });
});

describe('abuse limits', () => {
  it('answers a message over WEB_CHAT_MAX_CHARS with a friendly request to shorten it, without asking the coach', async () => {
    const visitor = newVisitor();
    const done = lastEvent((await visitor.ask(botId, 'x'.repeat(301))).body);
    expect(done.event).toBe('done');
    expect(done.data.refused).toBe('too_long');
    expect(done.data.reply).toMatch(/keep it under 300 characters/);
    expect(((await visitor.history(botId)).json() as { exchanges: unknown[] }).exchanges).toEqual([]);
    // The operator sees each refusal in the log.
    const logged = logLines.map((l) => JSON.parse(l) as { msg: string; reason?: string; botId?: string });
    expect(logged).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/refused by an abuse limit/), reason: 'too_long', botId }));
  });

  it('stops a visitor at their daily cap, then an address at its cap, then the bot at its cap, each with a friendly message', async () => {
    const capped = (await createBot(platform.app, alice.auth, { name: 'Capped Coach' })).id;
    await publish(alice, capped, { title: 'Capped' });
    const one = newVisitor('203.0.113.1');
    for (let i = 0; i < 3; i++) expect(lastEvent((await one.ask(capped, `hello ${i}`)).body).data.refused).toBeUndefined();
    const fourth = lastEvent((await one.ask(capped, 'hello again')).body);
    expect(fourth.event).toBe('done');
    expect(fourth.data.refused).toBe('daily_visitor');
    expect(fourth.data.reply).toMatch(/reached today's limit of messages with Capped.*come back tomorrow/);

    // Dropping the cookie does not help: the address has one message left.
    const sameAddress = newVisitor('203.0.113.1');
    expect(lastEvent((await sameAddress.ask(capped, 'hi')).body).data.refused).toBeUndefined();
    expect(lastEvent((await sameAddress.ask(capped, 'hi')).body).data.refused).toBe('daily_ip');

    // Eight more messages from elsewhere reach the bot's cap of 12.
    for (let i = 10; i < 18; i++) expect(lastEvent((await newVisitor(`203.0.113.${i}`).ask(capped, 'hi')).body).data.refused).toBeUndefined();
    const full = lastEvent((await newVisitor('203.0.113.99').ask(capped, 'hi')).body);
    expect(full.data.refused).toBe('daily_bot');
    expect(full.data.reply).toMatch(/Capped has had a lot of conversations today/);
    // Other bots are not affected.
    expect(lastEvent((await newVisitor('203.0.113.5').ask(botId, 'hi')).body).data.refused).toBeUndefined();
  });
});

describe('a message sent again', () => {
  it('counts once against the daily caps: the page retrying a message follows its one reply', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Retry Coach' })).id;
    await publish(alice, bot, { title: 'Retry' });
    const visitor = newVisitor();
    const messageId = randomUUID();
    const first = lastEvent((await visitor.ask(bot, 'hello', {}, messageId)).body);
    const again = lastEvent((await visitor.ask(bot, 'hello', {}, messageId)).body);
    expect(first.data.refused).toBeUndefined();
    expect(again).toEqual(first);
    // The visitor's cap is 3: two more messages of their own still reach the coach.
    expect(lastEvent((await visitor.ask(bot, 'second')).body).data.refused).toBeUndefined();
    expect(lastEvent((await visitor.ask(bot, 'third')).body).data.refused).toBeUndefined();
    expect(lastEvent((await visitor.ask(bot, 'fourth')).body).data.refused).toBe('daily_visitor');
  });
});

describe('housekeeping', () => {
  it('forgets visitor sessions whose cookie has expired and past days\' counters, and nothing still in use', async () => {
    const swept = (await createBot(platform.app, alice.auth, { name: 'Swept Coach' })).id;
    await publish(alice, swept, { title: 'Swept' });
    const expired = newVisitor();
    const current = newVisitor();
    await expired.ask(swept, 'hello from last year');
    await current.ask(swept, 'hello from today');
    const pool = platform.infrastructure.database.pool;
    // The first visitor's session was opened a year and a day ago: its cookie has expired.
    await pool.query(
      `UPDATE public.web_visitor_sessions SET created_at = now() - interval '366 days'
        WHERE bot_id = $1 AND created_at = (SELECT min(created_at) FROM public.web_visitor_sessions WHERE bot_id = $1)`,
      [swept],
    );
    await pool.query(
      `INSERT INTO public.web_chat_daily_counts (day, scope, key, count)
       VALUES ((now() AT TIME ZONE 'UTC')::date - 3, 'bot', $1, 5), ((now() AT TIME ZONE 'UTC')::date - 1, 'bot', $1, 7)`,
      [swept],
    );

    const removed = await platform.channels.webChatStore.sweep(365);
    expect(removed.sessions).toBeGreaterThanOrEqual(1);

    const days = await pool.query<{ ago: number; count: number }>(
      `SELECT (now() AT TIME ZONE 'UTC')::date - day AS ago, count FROM public.web_chat_daily_counts WHERE scope = 'bot' AND key = $1 ORDER BY day`,
      [swept],
    );
    // Today's count (the two messages) and yesterday's stay; three days ago is gone.
    expect(days.rows).toEqual([
      { ago: 1, count: 7 },
      { ago: 0, count: 2 },
    ]);
    const history = async (visitor: Visitor) => ((await visitor.history(swept)).json() as { exchanges: Array<{ texts: string[] }> }).exchanges.map((x) => x.texts);
    expect(await history(current)).toEqual([['hello from today']]);
    expect(await history(expired)).toEqual([]);
  });
});

describe('daily caps under concurrency', () => {
  it('lets exactly the bot\'s daily cap through when many visitors write at the same moment', async () => {
    const busy = (await createBot(platform.app, alice.auth, { name: 'Busy Coach' })).id;
    await publish(alice, busy, { title: 'Busy' });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => newVisitor(`192.0.2.${i + 1}`).ask(busy, 'hi')));
    const refusals = answers.map((a) => lastEvent(a.body).data.refused);
    expect(refusals.filter((r) => r === undefined)).toHaveLength(12);
    expect(refusals.filter((r) => r === 'daily_bot')).toHaveLength(8);
  });
});

describe('origins', () => {
  it('refuses a browser request from a site the creator did not allow (403), and answers CORS with credentials to an allowed one', async () => {
    const visitor = newVisitor();
    const evil = await visitor.ask(botId, 'How much sleep do adults need?', { origin: 'https://evil.example' });
    expect(evil.statusCode).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    expect(evil.headers['set-cookie']).toBeUndefined();
    const evilHistory = await platform.app.inject({ method: 'GET', url: `/public/bots/${botId}/history`, headers: { origin: 'https://evil.example' } });
    expect(evilHistory.statusCode).toBe(403);
    const evilPreflight = await platform.app.inject({ method: 'OPTIONS', url: `/public/bots/${botId}/messages`, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(evilPreflight.statusCode).toBe(403);

    const allowed = await visitor.ask(botId, 'How much sleep do adults need?', { origin: 'https://www.alice.example' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.alice.example');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(lastEvent(allowed.body).data.reply).toMatch(/seven to nine hours/i);
    const preflight = await platform.app.inject({ method: 'OPTIONS', url: `/public/bots/${botId}/messages`, headers: { origin: 'https://www.alice.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://www.alice.example');
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/);

    // The platform's own page needs no CORS.
    const own = await newVisitor().ask(botId, 'How much sleep do adults need?', { origin: 'https://coach.example.test' });
    expect(own.statusCode).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('unpublishing', () => {
  it('takes the page and the visitor endpoints down at once', async () => {
    const gone = (await createBot(platform.app, alice.auth, { name: 'Going Away' })).id;
    await publish(alice, gone, {});
    const visitor = newVisitor();
    expect(lastEvent((await visitor.ask(gone, 'hi')).body).event).toBe('done');
    await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${gone}/channels/web`, headers: alice.auth });
    expect((await platform.app.inject({ method: 'GET', url: `/c/${gone}` })).statusCode).toBe(404);
    expect((await visitor.ask(gone, 'hi')).statusCode).toBe(404);
    expect((await visitor.history(gone)).statusCode).toBe(404);
  });
});

describe("the creator's plan", () => {
  let limited: TestPlatform;
  afterAll(async () => {
    await limited?.stop();
  });

  it("still caps what visitors get: past the plan's monthly replies the chat says so instead of answering", async () => {
    limited = await startTestPlatform({
      PLANS_JSON: JSON.stringify([{ id: 'free', name: 'Free', limits: { bots: 1, documents: 2, storageBytes: 1_000_000, repliesPerMonth: 1, contacts: null } }]),
    });
    const creator = await signUpCreator(limited.app, { name: 'Carol' });
    const bot = (await createBot(limited.app, creator.auth, { name: 'Carol Coach' })).id;
    await limited.app.inject({ method: 'PUT', url: `/v1/bots/${bot}/channels/web`, headers: creator.auth, payload: {} });
    const ask = async (cookie?: string) => {
      const response = await limited.app.inject({ method: 'POST', url: `/public/bots/${bot}/messages`, headers: cookie ? { cookie } : {}, payload: { text: 'hello' } });
      return { cookie: cookie ?? String(response.headers['set-cookie']).split(';')[0], done: lastEvent(response.body) };
    };
    const first = await ask();
    expect(first.done.data.reply).not.toMatch(/used up its replies/);
    const second = await ask(first.cookie);
    expect(second.done.event).toBe('done');
    expect(second.done.data.reply).toMatch(/this coach has used up its replies for this month/);
  });
});
