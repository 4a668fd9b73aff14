/**
 * The web chat on the one answer path of every channel, over real connections: a visitor's message
 * is stored, queued and answered by a converse worker (in this process or another), and the page's
 * request follows the turn. Each message is answered once, whatever the page or the workers do.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildWorkers, WORKER_TEST_TIMEOUT_MS, workerEnvFor } from '../support/child-worker.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { freePort } from '../support/free-port.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { GUIDE_TITLE, guideMarkdown } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const REPLY = 'Aim for seven to nine hours of sleep each night, and keep the same wake-up time every day of the week.';

let ollama: FakeOllama;
const platforms: TestPlatform[] = [];
const workers = new ChildWorkers();

beforeAll(async () => {
  ollama = await startFakeOllama({ chatReply: REPLY });
});
afterEach(async () => {
  ollama.releaseChats();
  await workers.killAll();
});
afterAll(async () => {
  await workers.close();
  for (const platform of platforms) await platform.stop();
  await ollama?.close();
});

/** A platform listening on a real port; `workers: false` makes it an API process only. */
async function listeningPlatform(env: Record<string, string>, workersToo: boolean) {
  const port = await freePort();
  const platform = await startTestPlatform({ PUBLIC_URL: `http://127.0.0.1:${port}`, OLLAMA_HOST: ollama.url, ...env }, { workers: workersToo });
  platforms.push(platform);
  await platform.app.listen({ host: '127.0.0.1', port });
  return { platform, base: `http://127.0.0.1:${port}` };
}

/** A creator's bot with the guide ingested and its web chat published. */
async function publishedBot(platform: TestPlatform) {
  const creator = await signUpCreator(platform.app);
  const bot = await createBot(platform.app, creator.auth, { name: 'Steady Habits Coach', language: 'en' });
  await uploadAndIngest(platform.app, creator.auth, bot.id, { name: 'guide.md', type: 'text/markdown', bytes: Buffer.from(guideMarkdown()) }, {
    fields: { title: GUIDE_TITLE },
    timeoutMs: 60_000,
  });
  const published = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot.id}/channels/web`, headers: creator.auth, payload: {} });
  expect(published.statusCode).toBe(200);
  return bot.id;
}

/** A visitor of a published bot: their cookie, once the first message opened a session. */
class Visitor {
  cookie = '';

  constructor(
    private readonly base: string,
    private readonly botId: string,
  ) {}

  async send(message: { text?: string; button?: string }, messageId: string = randomUUID()): Promise<LiveSse> {
    const stream = await openSse(`${this.base}/public/bots/${this.botId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: JSON.stringify({ messageId, ...message }),
    });
    const setCookie = stream.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    return stream;
  }

  resume(messageId: string): Promise<LiveSse> {
    return openSse(`${this.base}/public/bots/${this.botId}/messages/${messageId}/reply`, { headers: { cookie: this.cookie } });
  }

  async history(): Promise<Array<{ texts: string[]; reply: string | null; state: string; messageIds: string[] }>> {
    const response = await fetch(`${this.base}/public/bots/${this.botId}/history`, { headers: { cookie: this.cookie } });
    return ((await response.json()) as { exchanges: Array<{ texts: string[]; reply: string | null; state: string; messageIds: string[] }> }).exchanges;
  }
}

const isDone = (e: { event: string }) => e.event === 'done';

/** The replies stored for the bot's web conversations: one row per turn, with its ledger state. */
async function replies(platform: TestPlatform, botId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ texts: string[]; status: string; text: string | null; turn: string; inbound: number }>(
    `SELECT t.texts, o.status, o.text, t.status AS turn,
            (SELECT count(*)::int FROM public.inbound_messages i WHERE i.turn_id = t.id) AS inbound
       FROM public.turns t LEFT JOIN public.outbound_messages o ON o.turn_id = t.id
      WHERE t.bot_id = $1 ORDER BY t.created_at`,
    [botId],
  );
  return rows;
}

/** Model calls made for a question (the fake sees the user's text in the prompt). */
function modelCallsFor(question: string): number {
  return ollama.chatRequests.filter((r) => r.messages.some((m) => m.role === 'user' && m.content.includes(question))).length;
}

describe('the web chat in one process (PostgreSQL, no Redis)', () => {
  let base: string;
  let platform: TestPlatform;
  let botId: string;

  beforeAll(async () => {
    ({ platform, base } = await listeningPlatform({}, true));
    botId = await publishedBot(platform);
  }, 120_000);

  it('streams the draft and then the reply with its source, and the reply is in the history once', async () => {
    const visitor = new Visitor(base, botId);
    const stream = await visitor.send({ text: 'How much sleep do I need?' });
    expect(stream.status).toBe(200);
    const done = await stream.waitFor(isDone, 'the reply');
    expect(done.data.reply).toContain(REPLY);
    expect(done.data.sources).toEqual([expect.objectContaining({ title: GUIDE_TITLE })]);
    const drafts = stream.events.filter((e) => e.event === 'token');
    expect(drafts.length).toBeGreaterThan(0);
    expect(drafts.map((d) => d.data.text).join('')).toContain(REPLY.slice(0, 40));
    expect(stream.events.filter(isDone)).toHaveLength(1);
    const history = await visitor.history();
    expect(history).toEqual([expect.objectContaining({ texts: ['How much sleep do I need?'], reply: done.data.reply, state: 'answered' })]);
  });

  it('answers a message submitted twice at once (same message id) exactly once, both requests showing that one reply', async () => {
    const visitor = new Visitor(base, botId);
    await (await visitor.send({ text: 'Hello there' })).ended;
    const question = 'Is a steady wake-up time important for sleep?';
    const messageId = randomUUID();
    const [a, b] = await Promise.all([visitor.send({ text: question }, messageId), visitor.send({ text: question }, messageId)]);
    const [doneA, doneB] = await Promise.all([a.waitFor(isDone, 'the reply'), b.waitFor(isDone, 'the reply')]);
    expect(doneA.data.reply).toContain(REPLY);
    expect(doneB.data.reply).toBe(doneA.data.reply);
    await waitFor(async () => (await replies(platform, botId)).every((r) => r.status === 'sent'), { what: 'replies sent' });
    const mine = (await replies(platform, botId)).filter((r) => r.texts.includes(question));
    expect(mine).toEqual([expect.objectContaining({ status: 'sent', inbound: 1 })]);
    expect(modelCallsFor(question)).toBe(1);
    expect((await visitor.history()).filter((x) => x.texts.includes(question))).toHaveLength(1);
  });

  it('lets a page that lost its connection mid-reply follow it again and get the rest and the reply once, without a second answer', async () => {
    const visitor = new Visitor(base, botId);
    await (await visitor.send({ text: 'Hi' })).ended;
    const question = 'What helps me fall asleep at night?';
    const messageId = randomUUID();
    ollama.holdChatsAfter(3);
    const held = ollama.waitForHeldChat();
    const first = await visitor.send({ text: question }, messageId);
    await held;
    const draft = await first.waitFor((e) => e.event === 'token', 'a draft');
    first.drop();
    await first.ended;
    expect(first.events.some(isDone)).toBe(false);

    const again = await visitor.resume(messageId);
    expect(again.status).toBe(200);
    await again.waitFor((e) => e.event === 'accepted', 'the acknowledgement');
    ollama.releaseChats();
    const done = await again.waitFor(isDone, 'the reply');
    await again.ended;
    expect(done.data.reply).toContain(REPLY);
    expect(again.events.filter(isDone)).toHaveLength(1);
    // What follows continues the draft seen before the drop: nothing starts over.
    const seen = String(draft.data.text);
    const rest = again.events.filter((e) => e.event === 'token');
    expect(rest.every((e) => Number(e.data.offset) >= seen.length)).toBe(true);
    expect(modelCallsFor(question)).toBe(1);
    await waitFor(async () => (await replies(platform, botId)).filter((r) => r.texts.includes(question))[0]?.status === 'sent', { what: 'reply sent' });
    expect((await replies(platform, botId)).filter((r) => r.texts.includes(question))).toHaveLength(1);
  });

  it('shows a message still being answered after a reload, and its reply follows', async () => {
    const visitor = new Visitor(base, botId);
    await (await visitor.send({ text: 'Hey' })).ended;
    const question = 'How long before bed should I stop using screens for sleep?';
    ollama.holdChatsAfter(1);
    const held = ollama.waitForHeldChat();
    const messageId = randomUUID();
    const first = await visitor.send({ text: question }, messageId);
    await held;
    first.drop();
    const pending = (await visitor.history()).at(-1)!;
    expect(pending).toMatchObject({ texts: [question], state: 'pending', reply: null, messageIds: [messageId] });
    const again = await visitor.resume(messageId);
    ollama.releaseChats();
    expect((await again.waitFor(isDone, 'the reply')).data.reply).toContain(REPLY);
    expect((await visitor.history()).at(-1)).toMatchObject({ texts: [question], state: 'answered' });
  });

  it('answers /help, /reset and /forget in the web chat; forgetting asks first and then deletes the conversation', async () => {
    const visitor = new Visitor(base, botId);
    const help = await (await visitor.send({ text: '/help' })).waitFor(isDone, 'the help');
    expect(help.data.reply).toMatch(/\/reset/);
    expect(help.data.reply).toMatch(/\/forget/);
    await (await visitor.send({ text: 'How much sleep do I need?' })).waitFor(isDone);
    const reset = await (await visitor.send({ text: '/reset' })).waitFor(isDone, 'the reset');
    expect(reset.data.reply).toMatch(/cleared our conversation/);

    const question = await (await visitor.send({ text: '/forget' })).waitFor(isDone, 'the question');
    expect(question.data.reply).toMatch(/delete our conversation/);
    const buttons = question.data.buttons as Array<{ id: string; title: string }>;
    expect(buttons.map((b) => b.title)).toEqual(['Yes, delete', 'Cancel']);
    const confirmed = await (await visitor.send({ button: buttons[0]!.id })).waitFor(isDone, 'the confirmation');
    expect(confirmed.data.reply).toMatch(/deleted our conversation/);
    // Nothing the visitor wrote is kept; only the confirmation remains.
    const history = await visitor.history();
    expect(history.flatMap((x) => x.texts)).toEqual([]);
    expect(history.map((x) => x.reply)).toEqual([confirmed.data.reply]);
  });

  it('refuses to follow another visitor’s message, or one never sent', async () => {
    const alice = new Visitor(base, botId);
    const messageId = randomUUID();
    await (await alice.send({ text: 'How much sleep do I need?' }, messageId)).waitFor(isDone);
    const mallory = new Visitor(base, botId);
    await (await mallory.send({ text: 'Hi' })).ended;
    const stolen = await mallory.resume(messageId);
    await stolen.ended;
    expect(stolen.events.map((e) => e.event)).toEqual(['accepted', 'error']);
    expect(stolen.events[1]!.data).toMatchObject({ code: 'NOT_FOUND' });
    const stranger = await fetch(`${base}/public/bots/${botId}/messages/${messageId}/reply`);
    expect(stranger.status).toBe(404);
  });
});

describe('API and worker in separate processes', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['redis', 'postgres'] as const) {
    it(
      `relays the draft and the reply from the worker to the visitor's request (${mode === 'redis' ? 'Redis pub/sub' : 'PostgreSQL LISTEN/NOTIFY'})`,
      { timeout: WORKER_TEST_TIMEOUT_MS },
      async () => {
        const { platform, base } = await listeningPlatform(mode === 'redis' ? { REDIS_URL: testRedisUrl } : {}, false);
        const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
        dirs.push(dataDir);
        const env = workerEnvFor(platform, dataDir, { OLLAMA_HOST: ollama.url });
        if (mode === 'postgres') delete env.REDIS_URL;
        await workers.start(env);
        const botId = await publishedBot(platform);
        const visitor = new Visitor(base, botId);
        const stream = await visitor.send({ text: 'How much sleep do I need?' });
        const done = await stream.waitFor(isDone, 'the reply');
        expect(done.data.reply).toContain(REPLY);
        expect(done.data.sources).toEqual([expect.objectContaining({ title: GUIDE_TITLE })]);
        expect(stream.events.some((e) => e.event === 'token')).toBe(true);
      },
    );
  }

  it('has a turn whose worker was SIGKILLed mid-reply finished by the next worker, the waiting page getting one reply', { timeout: WORKER_TEST_TIMEOUT_MS }, async () => {
    const { platform, base } = await listeningPlatform({ REDIS_URL: testRedisUrl }, false);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-worker-'));
    dirs.push(dataDir);
    const env = workerEnvFor(platform, dataDir, { OLLAMA_HOST: ollama.url });
    const first = await workers.start(env);
    const botId = await publishedBot(platform);
    const visitor = new Visitor(base, botId);
    await (await visitor.send({ text: 'Hello' })).waitFor(isDone);

    const question = 'How much sleep do I need each night?';
    ollama.holdChatsAfter(3);
    const held = ollama.waitForHeldChat();
    const stream = await visitor.send({ text: question });
    await held;
    await stream.waitFor((e) => e.event === 'token', 'a draft');
    await first.kill();
    ollama.releaseChats();

    await workers.start(env);
    const done = await stream.waitFor(isDone, 'the reply from the next worker');
    await stream.ended;
    expect(done.data.reply).toContain(REPLY);
    expect(stream.events.filter(isDone)).toHaveLength(1);
    // The next worker generated the reply again: its draft starts over, from offset 0.
    const drafts = stream.events.filter((e) => e.event === 'token');
    expect(drafts.filter((d) => d.data.offset === 0).length).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await replies(platform, botId)).filter((r) => r.texts.includes(question))[0]?.status === 'sent', { what: 'reply sent', timeoutMs: 30_000 });
    expect((await replies(platform, botId)).filter((r) => r.texts.includes(question))).toEqual([expect.objectContaining({ status: 'sent', turn: 'answered' })]);
  });
});
