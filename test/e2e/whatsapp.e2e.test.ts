import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { fixture } from '../support/fixtures.js';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { openSse } from '../support/sse-client.js';
import { freePort, GUIDE_TITLE } from '../support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import {
  deliverChanges,
  postWebhook,
  profile,
  userMessage,
  whatsappBot,
  whatsappLedger,
  type WhatsAppBot,
} from '../support/whatsapp-e2e.js';
import { fixtureMessage, fixtureStatus, loadWhatsAppPayload, payloadBytes, signWhatsAppBody, webhookPayload, whatsappFixtureBytes } from '../support/whatsapp-payloads.js';

const REPLY = 'Keep the same wake-up time every day, weekends included.';

let graph: FakeWhatsApp;
let ollama: FakeOllama;
let platform: TestPlatform;
let baseUrl: string;
let main: WhatsAppBot;
let nextUser = 15_550_000_000;
let nextMessage = 1;
const newUser = () => String(nextUser++);
const newMessageId = () => `wamid.test${nextMessage++}`;

/** Texts a user sees from the bot, oldest first. */
const textsTo = (waId: string) => graph.sentTo(waId).map((m) => m.text ?? `[${m.type}]`);

/** Sends one text from a new (or given) user and returns their wa_id. */
async function say(text: string, waId = newUser(), bot = main): Promise<{ waId: string; response: Response }> {
  const response = await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'text', { body: text })] }]);
  return { waId, response };
}

async function deliveries(bot: WhatsAppBot, query = '') {
  const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.botId}/deliveries${query}`, headers: bot.session.auth });
  expect(response.statusCode).toBe(200);
  return response.json().deliveries as Array<{ status: string; error: { code: number | null; title: string } | null; contact: { externalId: string }; externalMessageIds: string[] }>;
}

async function storedInbound(botId: string): Promise<number> {
  const { rows } = await platform.infrastructure.database.pool.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE bot_id = $1`, [botId]);
  return rows[0].n;
}

beforeAll(async () => {
  graph = await startFakeWhatsApp();
  ollama = await startFakeOllama({ chatReply: REPLY });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  platform = await startTestPlatform({
    PUBLIC_URL: baseUrl,
    WHATSAPP_GRAPH_URL: graph.url,
    WHATSAPP_RECIPIENT_GAP_MS: '0',
    OLLAMA_HOST: ollama.url,
    CONVERSE_CONCURRENCY: '8',
    CONVERSE_PER_CREATOR: '8',
  });
  await platform.app.listen({ host: '127.0.0.1', port });
  main = await whatsappBot(platform, graph, { settings: { mergeWindowMs: 0 } });
});

afterAll(async () => {
  await platform?.stop();
  await graph?.close();
  await ollama?.close();
});

describe('connecting WhatsApp', () => {
  it('checks the token against the number, stores every secret sealed and tells where to point the webhook', async () => {
    const bot = await platform.app.inject({ method: 'GET', url: `/v1/bots/${main.botId}`, headers: main.session.auth });
    expect(bot.json().channels).toEqual([
      expect.objectContaining({ channel: 'whatsapp', phoneNumberId: main.phoneNumberId, displayPhoneNumber: '+1 555-010-0100' }),
    ]);
    expect(JSON.stringify(bot.json())).not.toContain(main.appSecret);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT credentials FROM bot_channels WHERE bot_id = $1`, [main.botId]);
    for (const secret of [main.appSecret, main.verifyToken, graph.accessToken]) expect(rows[0].credentials).not.toContain(secret);

    const again = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${main.botId}/channels/whatsapp`,
      headers: main.session.auth,
      payload: { phoneNumberId: main.phoneNumberId, wabaId: '102030405060708', accessToken: graph.accessToken, appSecret: main.appSecret, verifyToken: main.verifyToken },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ phoneNumberId: main.phoneNumberId, webhookUrl: `${baseUrl}/webhooks/whatsapp`, template: null });
  });

  it('shows the connection again without its secrets, to its own creator only', async () => {
    const url = `/v1/bots/${main.botId}/channels/whatsapp`;
    const shown = await platform.app.inject({ method: 'GET', url, headers: main.session.auth });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toEqual({
      phoneNumberId: main.phoneNumberId,
      wabaId: '102030405060708',
      displayPhoneNumber: '+1 555-010-0100',
      webhookUrl: `${baseUrl}/webhooks/whatsapp`,
      template: null,
      verifyTokenHint: `••••${main.verifyToken.slice(-4)}`,
      status: 'connected',
    });
    for (const secret of [main.appSecret, main.verifyToken, graph.accessToken]) expect(shown.body).not.toContain(secret);

    // Another creator's bot, an unknown bot, and a bot without WhatsApp: 404 alike.
    const other = await signUpCreator(platform.app);
    const unconnected = await createBot(platform.app, other.auth, { name: 'No WhatsApp', language: 'en' });
    for (const [auth, target] of [[other.auth, url], [main.session.auth, `/v1/bots/${randomUUID()}/channels/whatsapp`], [other.auth, `/v1/bots/${unconnected.id}/channels/whatsapp`]] as const) {
      const refused = await platform.app.inject({ method: 'GET', url: target, headers: auth });
      expect(refused.statusCode, target).toBe(404);
      expect(refused.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses a token WhatsApp rejects, and a number already connected to another bot', async () => {
    const other = await whatsappBot(platform, graph, { ingest: false });
    const attempt = (payload: Record<string, unknown>) =>
      platform.app.inject({
        method: 'PUT',
        url: `/v1/bots/${other.botId}/channels/whatsapp`,
        headers: other.session.auth,
        payload: { wabaId: '102030405060708', appSecret: 'a'.repeat(32), verifyToken: 'verify-me-please', ...payload },
      });
    const badToken = await attempt({ phoneNumberId: other.phoneNumberId, accessToken: `EAAG${'x'.repeat(40)}` });
    expect(badToken.statusCode).toBe(400);
    expect(badToken.json().error.code).toBe('CHANNEL_AUTH_FAILED');
    const taken = await attempt({ phoneNumberId: main.phoneNumberId, accessToken: graph.accessToken });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('CHANNEL_IN_USE');
    const malformed = await attempt({ phoneNumberId: 'not-a-number', accessToken: graph.accessToken });
    expect(malformed.statusCode).toBe(400);
  });

  it("answers Meta's handshake only for a matching verify token", async () => {
    const handshake = (token: string) =>
      fetch(`${baseUrl}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${encodeURIComponent(token)}`);
    const ok = await handshake(main.verifyToken);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect((await handshake('not-the-token')).status).toBe(403);
  });

  it('disconnecting forgets the credentials; that number’s webhooks are then ignored', async () => {
    const gone = await whatsappBot(platform, graph, { ingest: false });
    const removed = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${gone.botId}/channels/whatsapp`, headers: gone.session.auth });
    expect(removed.statusCode).toBe(200);
    const { response } = await say('Hello?', newUser(), gone);
    expect(response.status).toBe(200);
    expect(await storedInbound(gone.botId)).toBe(0);
  });
});

describe('answering', () => {
  it('answers a text with the model reply and a citation, shows typing on the message and records the ledger', async () => {
    const waId = newUser();
    const messageId = newMessageId();
    const response = await deliverChanges(baseUrl, main, [
      { contacts: [profile(waId)], messages: [userMessage(waId, messageId, 'text', { body: 'How much sleep do I need, and when should I wake up?' })] },
    ]);
    expect(response.status).toBe(200);
    const [reply] = await graph.waitForMessages(1, { to: waId });
    expect(reply!.text).toContain(REPLY);
    expect(reply!.text).toContain(GUIDE_TITLE);
    // "typing…" was shown against the user's message, which also marks it read.
    expect(graph.reads).toContainEqual(expect.objectContaining({ phoneNumberId: main.phoneNumberId, messageId, typingIndicator: 'text' }));
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect((await whatsappLedger(platform, main.botId, waId))[0]!.external_message_ids).toEqual([reply!.id]);
  });

  it('stores and answers the same message delivered twice once', async () => {
    const waId = newUser();
    const messageId = newMessageId();
    const payload = payloadBytes(
      webhookPayload([{ changes: [{ phoneNumberId: main.phoneNumberId, contacts: [profile(waId)], messages: [userMessage(waId, messageId, 'text', { body: 'Any tips for naps?' })] }] }]),
    );
    expect((await postWebhook(baseUrl, payload, main.appSecret)).status).toBe(200);
    expect((await postWebhook(baseUrl, payload, main.appSecret)).status).toBe(200);
    await graph.waitForMessages(1, { to: waId });
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(textsTo(waId)).toHaveLength(1);
    // One stored message, not two merged into one turn: the inbox and the history show it once.
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT count(*)::int AS n FROM inbound_messages WHERE bot_id = $1 AND channel = 'whatsapp' AND external_id = $2`, [
      main.botId,
      messageId,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('handles every message and status of a batched payload, across entries and changes', async () => {
    const [first, second] = [newUser(), newUser()];
    const { waId: earlier } = await say('What is a good bedtime routine?');
    const [earlierReply] = await graph.waitForMessages(1, { to: earlier });
    const payload = webhookPayload([
      {
        changes: [
          { phoneNumberId: main.phoneNumberId, contacts: [profile(first)], messages: [userMessage(first, newMessageId(), 'text', { body: 'How do I keep a habit going?' })] },
          { phoneNumberId: main.phoneNumberId, statuses: [fixtureStatus('delivered', { id: earlierReply!.id, recipient_id: earlier, timestamp: String(Math.floor(Date.now() / 1000)) })] },
        ],
      },
      { changes: [{ phoneNumberId: main.phoneNumberId, contacts: [profile(second)], messages: [userMessage(second, newMessageId(), 'text', { body: 'Tips for stress?' })] }] },
    ]);
    expect((await postWebhook(baseUrl, payloadBytes(payload), main.appSecret)).status).toBe(200);
    await graph.waitForMessages(1, { to: first });
    await graph.waitForMessages(1, { to: second });
    await waitFor(async () => (await deliveries(main)).find((d) => d.contact.externalId === earlier)?.status === 'delivered', { what: 'delivered status' });
  });

  it('replies politely to a voice note and ignores a reaction', async () => {
    const waId = newUser();
    const voice = graph.addMedia(Buffer.from('OggS fake voice'), 'audio/ogg');
    await deliverChanges(baseUrl, main, [
      { contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'audio', { id: voice, mime_type: 'audio/ogg; codecs=opus', voice: true })] },
    ]);
    const [reply] = await graph.waitForMessages(1, { to: waId });
    expect(reply!.text).toMatch(/only read text messages/);
    await deliverChanges(baseUrl, main, [{ messages: [userMessage(waId, newMessageId(), 'reaction', { message_id: reply!.id, emoji: '👍' })] }]);
    await waitFor(
      async () => {
        const { rows } = await platform.infrastructure.database.pool.query(
          `SELECT count(*)::int AS n FROM turns t JOIN conversations c ON c.id = t.conversation_id WHERE c.external_chat_id = $1 AND t.status = 'answered'`,
          [waId],
        );
        return rows[0].n === 2;
      },
      { what: 'the reaction settled' },
    );
    expect(textsTo(waId)).toHaveLength(1);
  });

  it('retries a send refused for throughput (130429) and delivers once', async () => {
    graph.failNext(1, 130429);
    const { waId } = await say('How many hours of sleep do teenagers need?');
    await graph.waitForMessages(1, { to: waId, timeoutMs: 20_000 });
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(textsTo(waId)).toHaveLength(1);
  });
});

describe('documents and media', () => {
  it('downloads and keeps a PDF the user sends, answers about it, and remembers it for the next question', async () => {
    const waId = newUser();
    const mediaId = graph.addMedia(fixture('docs/pdfjs__tracemonkey.pdf'), 'application/pdf');
    await deliverChanges(baseUrl, main, [
      {
        contacts: [profile(waId)],
        messages: [userMessage(waId, newMessageId(), 'document', { id: mediaId, filename: 'tracemonkey.pdf', mime_type: 'application/pdf', caption: 'What is this paper about?' })],
      },
    ]);
    // The first PDF starts a reading process: seconds on a busy machine, within the test's minute.
    await graph.waitForMessages(1, { to: waId, timeoutMs: 45_000 });
    const prompt = JSON.stringify(ollama.chatRequests.at(-1)?.messages);
    expect(prompt).toContain('user_document');
    expect(prompt).toContain('Trace-based Just-in-Time Type Specialization');
    // Kept under DATA_DIR/media, once.
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT storage_key, size_bytes FROM media_files WHERE file_id = $1`, [mediaId]);
    expect(rows).toHaveLength(1);
    expect(existsSync(path.join(platform.config.dataDir, 'media', rows[0].storage_key))).toBe(true);

    const before = ollama.chatRequests.length;
    await say('Who wrote it?', waId);
    await graph.waitForMessages(2, { to: waId });
    expect(JSON.stringify(ollama.chatRequests.slice(before))).toContain('Trace-based Just-in-Time Type Specialization');
  });

  it('answers a document sent without a question by asking what the user wants to know', async () => {
    const waId = newUser();
    const mediaId = graph.addMedia(Buffer.from('Week 1: walk 10 minutes a day.\nWeek 2: walk 20 minutes a day.'), 'text/plain');
    await deliverChanges(baseUrl, main, [
      { contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'document', { id: mediaId, filename: 'plan.txt', mime_type: 'text/plain' })] },
    ]);
    const [reply] = await graph.waitForMessages(1, { to: waId });
    expect(reply!.text).toContain('plan.txt');
    expect(reply!.text).toMatch(/What would you like to know/);
  });

  it('keeps a file over the size limit out, and still answers', async () => {
    const waId = newUser();
    const mediaId = graph.addMedia(Buffer.alloc(1024), 'application/pdf', { reportedSize: 200 * 1024 * 1024 });
    await deliverChanges(baseUrl, main, [
      { contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'document', { id: mediaId, filename: 'huge.pdf', mime_type: 'application/pdf' })] },
    ]);
    const [reply] = await graph.waitForMessages(1, { to: waId });
    expect(reply!.text).toMatch(/only read text messages/);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT 1 FROM media_files WHERE file_id = $1`, [mediaId]);
    expect(rows).toHaveLength(0);
  });
});

describe('the 24-hour window', () => {
  it('records a reply to a user who last wrote over 24 hours ago as failed when no template is configured', async () => {
    // The fixture's own timestamp is from 2023: Meta delivering a long-delayed message.
    const waId = newUser();
    await deliverChanges(baseUrl, main, [{ contacts: [profile(waId)], messages: [fixtureMessage('text', { from: waId, id: newMessageId() })] }]);
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'failed', { what: 'ledger failed' });
    expect((await whatsappLedger(platform, main.botId, waId))[0]!.error).toMatch(/24-hour window.*no approved template/);
    expect(textsTo(waId)).toHaveLength(0);
    const failed = await deliveries(main, '?status=failed');
    expect(failed.find((d) => d.contact.externalId === waId)?.error?.title).toMatch(/24-hour window/);
  });

  it('sends the approved template outside the window, and when Meta says the window closed (131047)', async () => {
    const template = { name: 'coach_follow_up', language: 'en_US', parameters: ['Maya'] };
    const bot = await whatsappBot(platform, graph, { template, settings: { mergeWindowMs: 0 } });
    const late = newUser();
    await deliverChanges(baseUrl, bot, [{ contacts: [profile(late)], messages: [fixtureMessage('text', { from: late, id: newMessageId() })] }]);
    const [sent] = await graph.waitForMessages(1, { to: late });
    expect(sent).toMatchObject({ type: 'template', request: expect.objectContaining({ template: expect.objectContaining({ name: 'coach_follow_up' }) }) });

    graph.failNext(1, 131047);
    const { waId } = await say('Hello again', newUser(), bot);
    const [fallback] = await graph.waitForMessages(1, { to: waId });
    expect(fallback!.type).toBe('template');
    await waitFor(async () => (await whatsappLedger(platform, bot.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
  });
});

describe('delivery statuses', () => {
  it('moves only forward whatever order reports arrive in, and shows a failure with its code and title, live on the events stream too', async () => {
    const events = await openSse(`${baseUrl}/v1/bots/${main.botId}/events`, { headers: main.session.auth });
    await events.waitFor((e) => e.event === 'ready', 'the stream ready');
    const { waId } = await say('Should I nap in the afternoon?');
    const [reply] = await graph.waitForMessages(1, { to: waId });
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    const message = await events.waitFor((e) => e.event === 'message' && e.data.preview === 'Should I nap in the afternoon?', 'the message event');
    const recorded = await events.waitFor((e) => e.event === 'reply' && e.data.conversationId === message.data.conversationId, 'the reply event');
    const now = Math.floor(Date.now() / 1000);
    const status = (name: 'read' | 'delivered', at: number) => fixtureStatus(name, { id: reply!.id, recipient_id: waId, timestamp: String(at) });
    // Read arrives before delivered: the message stays read.
    expect((await deliverChanges(baseUrl, main, [{ statuses: [status('read', now + 2)] }, { statuses: [status('delivered', now + 1)] }])).status).toBe(200);
    await waitFor(async () => (await deliveries(main)).find((d) => d.contact.externalId === waId)?.status === 'read', { what: 'read' });
    await events.waitFor((e) => e.event === 'delivery' && e.data.id === recorded.data.deliveryId && e.data.status === 'read', 'the read event');

    const { waId: other } = await say('And on weekends?');
    const [second] = await graph.waitForMessages(1, { to: other });
    await waitFor(async () => (await whatsappLedger(platform, main.botId, other))[0]?.status === 'sent', { what: 'ledger sent' });
    await deliverChanges(baseUrl, main, [{ statuses: [fixtureStatus('failed', { id: second!.id, recipient_id: other, timestamp: String(now) })] }]);
    await waitFor(async () => (await deliveries(main, '?status=failed')).some((d) => d.contact.externalId === other), { what: 'failure listed' });
    const failure = (await deliveries(main, '?status=failed')).find((d) => d.contact.externalId === other)!;
    const reported = (loadWhatsAppPayload('failed').entry[0]!.changes[0]!.value.statuses as Array<{ errors: Array<{ code: number; title: string }> }>)[0]!.errors[0]!;
    expect(failure.error).toMatchObject({ code: reported.code, title: reported.title });
    await events.waitFor((e) => e.event === 'delivery' && e.data.status === 'failed' && e.data.error === reported.title, 'the failed event');
    // The late `delivered` changed nothing, so nothing was announced for it (events arrive in the order published).
    expect(events.events.filter((e) => e.event === 'delivery' && e.data.id === recorded.data.deliveryId && e.data.status === 'delivered')).toEqual([]);
    events.drop();
  });

  it('does not show one creator another creator’s deliveries', async () => {
    const stranger = await whatsappBot(platform, graph, { ingest: false });
    const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${main.botId}/deliveries`, headers: stranger.session.auth });
    expect(response.statusCode).toBe(404);
  });
});

describe('bad deliveries', () => {
  it('rejects a wrong or missing signature with 401 and stores nothing', async () => {
    const waId = newUser();
    const bytes = payloadBytes(webhookPayload([{ changes: [{ phoneNumberId: main.phoneNumberId, messages: [userMessage(waId, newMessageId(), 'text', { body: 'hi' })] }] }]));
    expect((await postWebhook(baseUrl, bytes, 'not-the-app-secret')).status).toBe(401);
    expect((await postWebhook(baseUrl, bytes, main.appSecret, { signature: null })).status).toBe(401);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT 1 FROM contacts WHERE external_id = $1`, [waId]);
    expect(rows).toHaveLength(0);
  });

  it('rejects a signature computed over re-serialised JSON instead of the bytes sent', async () => {
    const original = whatsappFixtureBytes('text');
    const payload = JSON.parse(original.toString('utf8'));
    payload.entry[0].changes[0].value.metadata.phone_number_id = main.phoneNumberId;
    const sentBytes = Buffer.from(JSON.stringify(payload, null, 2));
    const response = await postWebhook(baseUrl, sentBytes, main.appSecret, { signature: signWhatsAppBody(JSON.stringify(payload), main.appSecret) });
    expect(response.status).toBe(401);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await postWebhook(baseUrl, Buffer.from('{"object": "whatsapp_business_account", '), main.appSecret);
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 503 while the database is down, and the redelivery is answered once', async () => {
    const waId = newUser();
    const bytes = payloadBytes(
      webhookPayload([{ changes: [{ phoneNumberId: main.phoneNumberId, contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'text', { body: 'What about rest days?' })] }] }]),
    );
    await platform.testDatabase.cutOff();
    try {
      expect((await postWebhook(baseUrl, bytes, main.appSecret)).status).toBe(503);
    } finally {
      await platform.testDatabase.restore();
    }
    const after = await waitFor(async () => {
      const response = await postWebhook(baseUrl, bytes, main.appSecret);
      return response.status === 200 ? response : undefined;
    }, { what: 'a 200 after restore' });
    expect(after.status).toBe(200);
    await graph.waitForMessages(1, { to: waId });
    await postWebhook(baseUrl, bytes, main.appSecret);
    await waitFor(async () => (await whatsappLedger(platform, main.botId, waId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(textsTo(waId)).toHaveLength(1);
  });
});

describe('/forget on WhatsApp', () => {
  it('asks with buttons, and the confirmation deletes the contact’s messages and files', async () => {
    const waId = newUser();
    const mediaId = graph.addMedia(Buffer.from('My sleep diary: 6 hours on Monday.'), 'text/plain');
    await deliverChanges(baseUrl, main, [
      { contacts: [profile(waId)], messages: [userMessage(waId, newMessageId(), 'document', { id: mediaId, filename: 'diary.txt', mime_type: 'text/plain' })] },
    ]);
    await graph.waitForMessages(1, { to: waId });
    const { rows: kept } = await platform.infrastructure.database.pool.query(`SELECT storage_key FROM media_files WHERE file_id = $1`, [mediaId]);
    const file = path.join(platform.config.dataDir, 'media', kept[0].storage_key);
    expect(existsSync(file)).toBe(true);

    await say('/forget', waId);
    const [, question] = await graph.waitForMessages(2, { to: waId });
    expect(question!.type).toBe('interactive');
    const buttons = (question!.request.interactive as { action: { buttons: Array<{ reply: { id: string; title: string } }> } }).action.buttons;
    const confirm = buttons.find((b) => /delete|yes|forget/i.test(b.reply.title)) ?? buttons[0]!;
    await deliverChanges(baseUrl, main, [
      {
        messages: [userMessage(waId, newMessageId(), 'interactive', { type: 'button_reply', button_reply: confirm.reply }, { context: { from: main.phoneNumberId, id: question!.id } })],
      },
    ]);
    await graph.waitForMessages(3, { to: waId });
    expect(existsSync(file)).toBe(false);
    const { rows } = await platform.infrastructure.database.pool.query(
      `SELECT count(*)::int AS n FROM media_files m JOIN conversations c ON c.id = m.conversation_id WHERE c.external_chat_id = $1`,
      [waId],
    );
    expect(rows[0].n).toBe(0);
  });
});
