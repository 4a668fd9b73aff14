/**
 * Plans and paywalls in real conversations: Telegram (fake Bot API) → webhook → converse worker →
 * reply gate → Ollama (fake) or a quota / paywall message; Stripe (fake API, signed webhooks) →
 * stripe-events worker → the contact is unlocked and told so in the chat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyLimitText } from '../../src/billing/reply-gate.service.js';
import { unlockedText } from '../../src/billing/stripe-events.service.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { signStripeEvent, type StripeEvent } from '../support/stripe-events.js';
import { connectedBot, freePort, ledger, type ConnectedBot } from '../support/telegram-e2e.js';
import { textUpdate } from '../support/telegram-updates.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const REPLY = 'Keep the same bedtime every night and get daylight soon after waking.';
const WEBHOOK_SECRET = 'whsec_test_coachbot_e2e';
const REPLIES_PER_MONTH = 3;
const QUESTIONS = ['How much sleep do I need?', 'How do I build a new habit?', 'What helps with stress?', 'What if I miss a day?'];

let telegram: FakeTelegram;
let ollama: FakeOllama;
let stripe: FakeStripe;
let platform: TestPlatform;
let nextUpdateId = 50_000;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
  stripe = await startFakeStripe({ prices: ['price_unlock'] });
  const port = await freePort();
  platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    OLLAMA_HOST: ollama.url,
    TELEGRAM_THROTTLE: 'false',
    CONVERSE_CONCURRENCY: '8',
    CONVERSE_PER_CREATOR: '8',
    STRIPE_SECRET_KEY: 'sk_test_51coachbotE2Ekey00000000000000',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    PLANS_JSON: JSON.stringify([
      { id: 'free', name: 'Free', limits: { bots: null, documents: null, storageBytes: null, repliesPerMonth: REPLIES_PER_MONTH, contacts: null } },
    ]),
  });
  await platform.app.listen({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await ollama?.close();
  await stripe?.close();
});

/** A user writes to the bot, as Telegram delivers it. */
function send(bot: ConnectedBot, chatId: number, text: string) {
  return telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { updateId: nextUpdateId++, chatId }));
}

/** Sends a message and waits for the bot's answer; returns what the user reads. */
async function ask(bot: ConnectedBot, chatId: number, text: string): Promise<string> {
  const before = telegram.texts(chatId).length;
  await send(bot, chatId, text);
  const texts = await waitFor(() => (telegram.texts(chatId).length > before ? telegram.texts(chatId) : undefined), { what: `an answer to "${text}"` });
  return texts.at(-1)!;
}

function deliverStripe(event: unknown) {
  const { payload, header } = signStripeEvent(event as StripeEvent, WEBHOOK_SECRET);
  return platform.app.inject({ method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': header }, payload });
}

async function repliesThisPeriod(bot: ConnectedBot): Promise<number> {
  const response = await platform.app.inject({ url: '/v1/billing', headers: bot.session.auth });
  return response.json().usage.repliesThisPeriod;
}

describe("the creator's monthly reply quota", () => {
  it('answers up to the quota, then tells the user politely, without asking the model', async () => {
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    const chatId = 7101;
    const modelCalls = ollama.chatRequests.length;
    for (const question of QUESTIONS.slice(0, REPLIES_PER_MONTH)) expect(await ask(bot, chatId, question)).toContain(REPLY);
    expect(ollama.chatRequests.length - modelCalls).toBe(REPLIES_PER_MONTH);

    expect(await ask(bot, chatId, QUESTIONS[3]!)).toBe(replyLimitText);
    // No chat request reached the model for the turn over the quota.
    expect(ollama.chatRequests.length - modelCalls).toBe(REPLIES_PER_MONTH);
    expect(await repliesThisPeriod(bot)).toBe(REPLIES_PER_MONTH);
    // The limit message went through the ledger like any reply.
    const rows = await ledger(platform, bot.botId, chatId);
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('keeps the count exact when many turns run at once: exactly the quota is answered by the model', async () => {
    const bot = await connectedBot(platform, telegram);
    const chats = Array.from({ length: 10 }, (_, i) => 7201 + i);
    const modelCalls = ollama.chatRequests.length;
    await Promise.all(chats.map((chatId, i) => send(bot, chatId, QUESTIONS[i % 3]!)));
    await waitFor(() => chats.every((chatId) => telegram.texts(chatId).length === 1), { what: 'every chat to get an answer', timeoutMs: 60_000 });
    const answers = chats.map((chatId) => telegram.texts(chatId)[0]!);
    expect(answers.filter((a) => a.includes(REPLY))).toHaveLength(REPLIES_PER_MONTH);
    expect(answers.filter((a) => a === replyLimitText)).toHaveLength(chats.length - REPLIES_PER_MONTH);
    expect(ollama.chatRequests.length - modelCalls).toBe(REPLIES_PER_MONTH);
    expect(await repliesThisPeriod(bot)).toBe(REPLIES_PER_MONTH);
    const { rows } = await platform.infrastructure.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM reply_usage WHERE bot_id = $1`, [bot.botId]);
    expect(rows[0]!.n).toBe(REPLIES_PER_MONTH);
  });
});

describe('end-user premium', () => {
  it('sends a Checkout link tied to the contact past the free allowance, and unlocks them when Stripe says they paid', async () => {
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    const premium = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${bot.botId}/premium`,
      headers: bot.session.auth,
      payload: { freeRepliesPerMonth: 1, stripePriceId: 'price_unlock', mode: 'payment' },
    });
    expect(premium.statusCode).toBe(200);
    const chatId = 7301;

    expect(await ask(bot, chatId, QUESTIONS[0]!)).toContain(REPLY);

    const modelCalls = ollama.chatRequests.length;
    const paywall = await ask(bot, chatId, QUESTIONS[1]!);
    expect(paywall).toMatch(/^You've used your free reply for this month\. Unlock premium coaching to keep going: https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);
    expect(ollama.chatRequests.length).toBe(modelCalls);
    const sessionId = /cs_test_[A-Za-z0-9]+/.exec(paywall)![0];
    const session = stripe.checkoutSessions.get(sessionId)!;
    const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(`SELECT id FROM contacts WHERE bot_id = $1 AND external_id = $2`, [
      bot.botId,
      String(chatId),
    ]);
    const contactId = rows[0]!.id;
    expect(session).toMatchObject({
      mode: 'payment',
      client_reference_id: `contact_${bot.botId}_${contactId}`,
      metadata: { coachbot_kind: 'contact', coachbot_bot_id: bot.botId, coachbot_contact_id: contactId },
      success_url: `${platform.config.PUBLIC_URL}/billing/done`,
    });

    // The contact pays; Stripe tells the platform, which tells the contact.
    const events = stripe.completeCheckout(sessionId);
    expect(events.map((e) => e.type)).toEqual(['checkout.session.completed']);
    expect((await deliverStripe(events[0])).statusCode).toBe(200);
    await waitFor(() => telegram.texts(chatId).length === 3, { what: 'the unlock message' });
    expect(telegram.texts(chatId)[2]).toBe(unlockedText('payment'));

    // A redelivered webhook tells them nothing twice.
    expect((await deliverStripe(events[0])).json().duplicate).toBe(true);
    const again = { ...events[0]!, id: `${events[0]!.id}_resent` };
    expect((await deliverStripe(again)).statusCode).toBe(200);
    await waitFor(async () => {
      const { rows: settled } = await platform.infrastructure.database.pool.query(`SELECT 1 FROM stripe_events WHERE id = $1 AND status IN ('processed', 'ignored')`, [again.id]);
      return settled.length === 1;
    }, { what: 'the resent event to be handled' });

    // Unlocked: the coach answers again.
    expect(await ask(bot, chatId, QUESTIONS[2]!)).toContain(REPLY);
    expect(telegram.texts(chatId)).toHaveLength(4);
    expect(ollama.chatRequests.length).toBe(modelCalls + 1);
  });

  it('switched on mid-month, counts the replies the contact already had this month against the free allowance', async () => {
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    const chatId = 7401;
    expect(await ask(bot, chatId, QUESTIONS[0]!)).toContain(REPLY);

    const premium = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${bot.botId}/premium`,
      headers: bot.session.auth,
      payload: { freeRepliesPerMonth: 2, stripePriceId: 'price_unlock', mode: 'payment' },
    });
    expect(premium.statusCode).toBe(200);
    // The reply before premium was the first of two free ones; this is the second.
    expect(await ask(bot, chatId, QUESTIONS[1]!)).toContain(REPLY);
    expect(await ask(bot, chatId, QUESTIONS[2]!)).toMatch(/^You've used your 2 free replies for this month\. Unlock premium coaching to keep going: https:\/\/checkout\.stripe\.com\//);
    expect(await repliesThisPeriod(bot)).toBe(2);
  });
});
