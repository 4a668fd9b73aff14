/**
 * A NUL or half a surrogate pair in what a user sends cannot be stored by PostgreSQL as is. Every
 * channel replaces them (U+FFFD) at its edge, so the message is kept and answered, not refused on
 * every redelivery.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { createEventWebhookSigner, sendGridEvent } from '../support/fake-sendgrid.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { signStripeEvent, stripeEvent } from '../support/stripe-events.js';
import { telegramUpdate } from '../support/telegram-updates.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { profile, userMessage, whatsappBot } from '../support/whatsapp-e2e.js';
import { payloadBytes, signWhatsAppBody, webhookPayload } from '../support/whatsapp-payloads.js';

const R = '\uFFFD';
const STRIPE_WEBHOOK_SECRET = 'whsec_test_coachbot_unstorable';
const sendgrid = createEventWebhookSigner();

let platform: TestPlatform;
let telegram: FakeTelegram;
let graph: FakeWhatsApp;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  graph = await startFakeWhatsApp();
  platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_THROTTLE: 'false',
    PUBLIC_URL: 'https://coach.example.test',
    WHATSAPP_GRAPH_URL: graph.url,
    // Nothing answers there: these tests only deliver events that need no call to Stripe.
    STRIPE_SECRET_KEY: 'sk_test_51coachbotUNSTORABLEkey00000000',
    STRIPE_API_BASE: 'http://127.0.0.1:9',
    STRIPE_WEBHOOK_SECRET,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
  });
});
afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await graph?.close();
});

async function storedInbound(botId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ text: string | null; payload: { attachments: Array<Record<string, unknown>> }; display_name: string | null }>(
    `SELECT i.text, i.payload, c.display_name FROM public.inbound_messages i JOIN public.contacts c ON c.id = i.contact_id WHERE i.bot_id = $1 ORDER BY i.seq`,
    [botId],
  );
  return rows;
}

describe('Telegram', () => {
  let creator: CreatorSession;
  let botId: string;
  let secret: string;

  beforeAll(async () => {
    creator = await signUpCreator(platform.app);
    botId = (await createBot(platform.app, creator.auth)).id;
    const fakeBot = telegram.addBot();
    const response = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${botId}/channels/telegram`, headers: creator.auth, payload: { token: fakeBot.token } });
    expect(response.statusCode).toBe(200);
    secret = telegram.bot(fakeBot.token)!.webhook!.secretToken!;
  });

  const deliver = (update: object) =>
    platform.app.inject({ method: 'POST', url: `/webhooks/telegram/${botId}`, headers: { 'x-telegram-bot-api-secret-token': secret }, payload: update });

  it('stores and answers a text whose words and sender name hold a NUL and lone surrogates', async () => {
    const chatId = 880_001;
    const update = telegramUpdate('text', { updateId: 990_001, chatId, text: 'how do I sleep\u0000 better \uD83D?' }) as unknown as { message: { from: Record<string, unknown> } };
    update.message.from.first_name = 'Ro\u0000sa';
    update.message.from.last_name = '\uDC00Lee';
    const response = await deliver(update);
    expect(response.statusCode).toBe(200);
    const [stored] = await storedInbound(botId);
    expect(stored!.text).toBe(`how do I sleep${R} better ${R}?`);
    expect(stored!.display_name).toBe(`Ro${R}sa ${R}Lee`);
    // Answered like any other message.
    const [reply] = await telegram.waitForCalls('sendMessage', 1);
    expect(reply!.params.chat_id).toBe(chatId);
    // A redelivery is the same update, not a new message.
    expect((await deliver(update)).statusCode).toBe(200);
    expect(await storedInbound(botId)).toHaveLength(1);
  });

  it('stores a file whose name and caption hold a NUL', async () => {
    const update = telegramUpdate('document', { updateId: 990_002, chatId: 880_002 }) as unknown as { message: { document: Record<string, unknown>; caption?: string } };
    update.message.document.file_name = 'plan\u0000.pdf';
    update.message.caption = 'my \uD800plan';
    expect((await deliver(update)).statusCode).toBe(200);
    const stored = (await storedInbound(botId)).at(-1)!;
    expect(stored.payload.attachments[0]).toMatchObject({ type: 'document', fileName: `plan${R}.pdf`, caption: `my ${R}plan` });
  });
});

describe('WhatsApp', () => {
  it('stores and answers a text and profile name holding a NUL and a lone surrogate', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false });
    const waId = '15550001111';
    const bytes = payloadBytes(
      webhookPayload([
        {
          changes: [
            {
              phoneNumberId: bot.phoneNumberId,
              contacts: [profile(waId, 'Da\u0000na')],
              messages: [userMessage(waId, `wamid.${randomUUID()}`, 'text', { body: 'tips for\u0000 focus \uDBFF' })],
            },
          ],
        },
      ]),
    );
    const response = await platform.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(bytes, bot.appSecret) },
      payload: bytes,
    });
    expect(response.statusCode).toBe(200);
    const [stored] = await storedInbound(bot.botId);
    expect(stored!.text).toBe(`tips for${R} focus ${R}`);
    expect(stored!.display_name).toBe(`Da${R}na`);
    const [reply] = await graph.waitForMessages(1, { to: waId });
    expect(reply!.text).toEqual(expect.any(String));
  });
});

describe('web chat', () => {
  it('stores and answers a message holding a NUL and a lone surrogate', async () => {
    const creator = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, creator.auth);
    const response = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${bot.id}/chat`,
      headers: creator.auth,
      payload: { sessionId: 'visitor-1', text: 'hello\u0000 coach \uD800' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('event: done');
    const [stored] = await storedInbound(bot.id);
    expect(stored!.text).toBe(`hello${R} coach ${R}`);
  });
});

describe('signed provider webhooks', () => {
  it('stores a Stripe event whose customer name holds a NUL instead of answering 503 on every redelivery', async () => {
    const event = stripeEvent('invoice.paid') as unknown as { id: string; data: { object: Record<string, unknown> } };
    event.data.object.customer_name = 'Ana\u0000 \uD800Ruiz';
    const signed = signStripeEvent(event as never, STRIPE_WEBHOOK_SECRET);
    const response = await platform.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signed.header },
      payload: signed.payload,
    });
    expect(response.statusCode).toBe(200);
    const { rows } = await platform.infrastructure.database.pool.query<{ name: string }>(`SELECT payload->'data'->'object'->>'customer_name' AS name FROM public.stripe_events WHERE id = $1`, [event.id]);
    expect(rows[0]!.name).toBe(`Ana${R} ${R}Ruiz`);
  });

  it('stores a SendGrid bounce whose reason holds a NUL', async () => {
    const body = JSON.stringify([sendGridEvent('bounce', { email: 'reader@example.test', reason: '550 no\u0000 such \uDC00user' })]);
    const response = await platform.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json', ...sendgrid.sign(body).headers }, payload: body });
    expect(response.statusCode).toBe(200);
    const { rows } = await platform.infrastructure.database.pool.query<{ reason: string }>(`SELECT reason FROM public.email_events WHERE email = 'reader@example.test'`);
    expect(rows.map((r) => r.reason)).toEqual([`550 no${R} such ${R}user`]);
  });
});
