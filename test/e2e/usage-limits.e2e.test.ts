/**
 * The operator's usage limits through the real platform: webhooks from the fake Telegram, the
 * converse worker, the fake Ollama recording what reaches the model server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyText, slowDownText } from '../../src/conversation/turn-limits.service.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { startFakeOllama, type ChatRequestBody, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, turnsOf, type ConnectedBot } from '../support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const REPLY = 'Keep a regular bedtime and get daylight soon after waking.';
const CONTACT_LIMIT = 20;
const BOT_BUDGET = 3;

let telegram: FakeTelegram;
let ollama: FakeOllama;
let platform: TestPlatform;
let nextUpdateId = 1;

/** Chat requests whose user message mentions `marker`: the model calls made for one chat's turns. */
function modelCallsAbout(marker: string): ChatRequestBody[] {
  return ollama.chatRequests.filter((r) => r.messages.some((m) => m.role === 'user' && m.content.includes(marker)));
}

function send(bot: ConnectedBot, chatId: number, text: string) {
  return telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { updateId: nextUpdateId++, chatId }));
}

async function storedMessages(bot: ConnectedBot, chatId: number): Promise<{ total: number; unclaimed: number }> {
  const { rows } = await platform.infrastructure.database.pool.query<{ total: number; unclaimed: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE i.turn_id IS NULL)::int AS unclaimed
       FROM inbound_messages i JOIN conversations c ON c.id = i.conversation_id WHERE c.bot_id = $1 AND c.external_chat_id = $2`,
    [bot.botId, String(chatId)],
  );
  return rows[0]!;
}

/** Every message of the chat is in a turn and every turn is settled. */
async function settled(bot: ConnectedBot, chatId: number, messages: number): Promise<boolean> {
  const stored = await storedMessages(bot, chatId);
  const turns = await turnsOf(platform, bot.botId, chatId);
  return stored.total === messages && stored.unclaimed === 0 && turns.every((t) => t.status !== 'processing');
}

async function metric(name: string): Promise<string[]> {
  const text = (await platform.app.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').filter((line) => line.startsWith(name));
}

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
  const port = await freePort();
  platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    OLLAMA_HOST: ollama.url,
    TELEGRAM_THROTTLE: 'false',
    CONVERSE_CONCURRENCY: '8',
    CONVERSE_PER_CREATOR: '8',
    CONTACT_MESSAGES_PER_MINUTE: String(CONTACT_LIMIT),
    BOT_MODEL_CALLS_PER_MINUTE: String(BOT_BUDGET),
    MAX_CONTEXT_TOKENS: '4096',
    MAX_ANSWER_TOKENS: '256',
  });
  await platform.app.listen({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await ollama?.close();
});

describe('a contact writing too fast', () => {
  it('40 messages in a burst: all stored, one merged turn, no model call, one "slow down"', async () => {
    // A merge window long enough that the 40 deliveries are one burst on a busy machine too.
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 4000 } });
    const chatId = 7001;
    for (let i = 0; i < 40; i++) expect((await send(bot, chatId, `flood-7001 message ${i}: how do I sleep better?`)).status).toBe(200);
    await waitFor(() => settled(bot, chatId, 40), { what: 'the burst settled', timeoutMs: 40_000 });

    expect((await storedMessages(bot, chatId)).total).toBe(40);
    // The bound: one model call per merged turn at most, and none once the contact is past
    // CONTACT_MESSAGES_PER_MINUTE. A burst of 40 is one turn holding more than 20: no call at all.
    expect(await turnsOf(platform, bot.botId, chatId)).toHaveLength(1);
    expect(modelCallsAbout('flood-7001')).toHaveLength(0);
    expect(telegram.texts(chatId)).toEqual([slowDownText]);

    // Still within the minute: a few more messages are stored, answered by nobody, and the contact
    // is not told again.
    for (let i = 0; i < 3; i++) expect((await send(bot, chatId, `flood-7001 again ${i}`)).status).toBe(200);
    await waitFor(() => settled(bot, chatId, 43), { what: 'the later messages settled', timeoutMs: 40_000 });
    expect(telegram.texts(chatId)).toEqual([slowDownText]);
    expect(modelCallsAbout('flood-7001')).toHaveLength(0);
    expect((await metric('coach_turns_refused_total{reason="contact_rate"}'))[0]).toMatch(/ [1-9]\d*$/);
  });

  it('a contact who keeps typing without a pause gets one answer for the whole burst', async () => {
    // Messages closer together than the merge window, for longer than it: merging by each message's
    // own delay answered every window; the burst is one turn once it pauses.
    // The burst (6 messages, 750 ms apart) lasts longer than the window, and well within four windows.
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 3000 } });
    const chatId = 7002;
    const texts = Array.from({ length: 6 }, (_, i) => `typing-7002 part ${i} of my question about sleep`);
    for (const text of texts) {
      expect((await send(bot, chatId, text)).status).toBe(200);
      // The pace of someone typing: a message every quarter window.
      await new Promise((resolve) => setTimeout(resolve, 750));
    }
    await waitFor(async () => (await settled(bot, chatId, texts.length)) && telegram.texts(chatId).length > 0, { what: 'the burst answered', timeoutMs: 30_000 });
    const turns = await turnsOf(platform, bot.botId, chatId);
    expect(turns).toHaveLength(1);
    expect(turns[0]!.texts).toEqual(texts);
    expect(modelCallsAbout('typing-7002')).toHaveLength(1);
    expect(telegram.texts(chatId)).toHaveLength(1);
  });
});

describe("a bot past its model-call budget", () => {
  it(`answers the first ${BOT_BUDGET} contacts of a minute with the model, then says it is busy without calling it`, async () => {
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    // The budget is per calendar minute: start with enough of this one left for the test.
    await waitFor(() => new Date().getSeconds() < 30, { what: 'the first half of a minute', timeoutMs: 40_000, intervalMs: 500 });
    const chats = [7101, 7102, 7103, 7104];
    for (const [i, chatId] of chats.entries()) {
      expect((await send(bot, chatId, `budget-${chatId} question ${i} about sleep`)).status).toBe(200);
      await waitFor(() => telegram.texts(chatId).length === 1, { what: `the reply in chat ${chatId}` });
    }
    for (const chatId of chats.slice(0, BOT_BUDGET)) {
      expect(telegram.texts(chatId)[0]).toContain(REPLY);
      expect(modelCallsAbout(`budget-${chatId}`)).toHaveLength(1);
    }
    const late = chats[BOT_BUDGET]!;
    expect(telegram.texts(late)).toEqual([busyText]);
    expect(modelCallsAbout(`budget-${late}`)).toHaveLength(0);

    // The web chat is held to the same budget.
    const session = bot.session;
    const web = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${bot.botId}/chat`,
      headers: session.auth,
      payload: { sessionId: 'budget-web', text: 'budget-web how much sleep do I need?' },
    });
    expect(web.statusCode).toBe(200);
    expect(web.body).toContain(busyText);
    expect(modelCallsAbout('budget-web')).toHaveLength(0);

    expect((await metric('coach_turns_refused_total{reason="model_budget"}'))[0]).toMatch(/ [2-9]\d*$/);
    expect(await metric(`coach_model_calls_total{bot="${bot.botId}",purpose="reply"}`)).toEqual([
      `coach_model_calls_total{bot="${bot.botId}",purpose="reply"} ${BOT_BUDGET}`,
    ]);
    expect(await metric('coach_usage_cap{cap="bot_model_calls_per_minute"}')).toEqual([`coach_usage_cap{cap="bot_model_calls_per_minute"} ${BOT_BUDGET}`]);
  });
});

describe('context and answer caps', () => {
  it('refuses settings above the caps, naming the cap', async () => {
    const session = await signUpCreator(platform.app);
    const created = await platform.app.inject({ method: 'POST', url: '/v1/bots', headers: session.auth, payload: { name: 'Big', settings: { contextSize: 1_048_576 } } });
    expect(created.statusCode).toBe(400);
    expect(created.json().error).toMatchObject({ code: 'SETTING_ABOVE_CAP', details: { field: 'settings.contextSize', cap: 'MAX_CONTEXT_TOKENS', max: 4096 } });
    expect(created.json().error.message).toContain('MAX_CONTEXT_TOKENS');

    const bot = await createBot(platform.app, session.auth, { name: 'Small', settings: { contextSize: 4096, maxAnswerTokens: 256 } });
    const patched = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${bot.id}`, headers: session.auth, payload: { settings: { maxAnswerTokens: 32_768 } } });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().error).toMatchObject({ code: 'SETTING_ABOVE_CAP', details: { cap: 'MAX_ANSWER_TOKENS', max: 256 } });
    const unchanged = await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.id}`, headers: session.auth });
    expect(unchanged.json().settings).toMatchObject({ contextSize: 4096, maxAnswerTokens: 256 });
  });

  it('clamps values stored before the caps were lowered: num_ctx and num_predict never exceed them', async () => {
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    // As a bot configured while the caps were higher.
    await platform.infrastructure.database.pool.query(`UPDATE bots SET settings = settings || '{"contextSize": 1048576, "maxAnswerTokens": 32768}'::jsonb WHERE id = $1`, [bot.botId]);
    const shown = await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.botId}`, headers: bot.session.auth });
    expect(shown.json().settings).toMatchObject({ contextSize: 1_048_576, maxAnswerTokens: 32_768 });
    // Another change to the bot is still accepted.
    const renamed = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${bot.botId}`, headers: bot.session.auth, payload: { name: 'Renamed' } });
    expect(renamed.statusCode).toBe(200);

    const chatId = 7201;
    expect((await send(bot, chatId, 'caps-7201 how much sleep do adults need?')).status).toBe(200);
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the reply' });
    const [call] = modelCallsAbout('caps-7201');
    expect(call?.options).toMatchObject({ num_ctx: 4096, num_predict: 256 });
  });
});
