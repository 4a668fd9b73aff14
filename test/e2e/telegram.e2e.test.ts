import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { fixture } from '../support/fixtures.js';
import { zipBombDocx } from '../support/hostile-documents.js';
import { startFakeTelegram, telegramErrors, type FakeTelegram } from '../support/fake-telegram.js';
import { chatMemberUpdate, telegramUpdate, textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, GUIDE_TITLE, ledger, turnsOf, type ConnectedBot } from '../support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

/** Distinct messages in the replay test; 30 % of them are delivered twice. */
const REPLAY_MESSAGES = 300;

const REPLY = 'Keep the same wake-up time every day, weekends included, and get daylight in the first hour after waking.';

let telegram: FakeTelegram;
let ollama: FakeOllama;
let platform: TestPlatform;
let main: ConnectedBot;
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
let publicUrl: string;
let nextUpdateId = 10_000;
const updateId = () => nextUpdateId++;

function deliver(bot: ConnectedBot, update: unknown) {
  return telegram.deliverUpdate(bot.fakeBot.token, update);
}

/** Messages the user sees from the bot in a chat. */
function botTexts(chatId: number): string[] {
  return telegram.texts(chatId);
}

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLIC_URL: publicUrl,
    OLLAMA_HOST: ollama.url,
    TELEGRAM_THROTTLE: 'false',
    CONVERSE_CONCURRENCY: '8',
    CONVERSE_PER_CREATOR: '8',
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_GRACE_MS: '5000',
  });
  await platform.app.listen({ host: '127.0.0.1', port });
  main = await connectedBot(platform, telegram, { settings: { welcomeMessage: 'Welcome to Steady Habits! Ask me about sleep, habits or stress.' } });
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await ollama?.close();
});

describe('connecting Telegram', () => {
  it('validates the token, registers the webhook with a secret and answers the username', async () => {
    const webhook = main.fakeBot.webhook;
    expect(webhook?.url).toBe(`${publicUrl}/webhooks/telegram/${main.botId}`);
    expect(webhook?.secretToken).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(webhook?.allowedUpdates).toEqual(['message', 'edited_message', 'callback_query', 'my_chat_member']);
    const bot = await platform.app.inject({ method: 'GET', url: `/v1/bots/${main.botId}`, headers: main.session.auth });
    expect(bot.json().channels).toEqual([expect.objectContaining({ channel: 'telegram', username: main.fakeBot.username })]);
    // The token is stored sealed, never in clear.
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT credentials FROM bot_channels WHERE bot_id = $1`, [main.botId]);
    expect(rows[0].credentials).not.toContain(main.fakeBot.token);
  });

  it('rejects a token Telegram does not know', async () => {
    const response = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${main.botId}/channels/telegram`,
      headers: main.session.auth,
      payload: { token: '123456:AAnotARealTokenAtAllForThisFakeServer' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('CHANNEL_AUTH_FAILED');
  });

  it('disconnecting removes the webhook and the credentials; later deliveries get 404', async () => {
    const other = await connectedBot(platform, telegram, { ingest: false });
    const webhookUrl = other.fakeBot.webhook!.url;
    const secret = other.fakeBot.webhook!.secretToken!;
    const response = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other.botId}/channels/telegram`, headers: other.session.auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ username: other.fakeBot.username });
    expect(other.fakeBot.webhook).toBeUndefined();
    const late = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: JSON.stringify(textUpdate('hello', { updateId: updateId(), chatId: 999 })),
    });
    expect(late.status).toBe(404);
  });
});

describe('a message becomes one grounded reply', () => {
  it('answers with the model reply and a citation line, streamed, and records it as sent', async () => {
    const chatId = 5001;
    const delivered = await deliver(main, textUpdate('How much sleep do I need, and when should I wake up?', { updateId: updateId(), chatId }));
    expect(delivered.status).toBe(200);
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the reply' });
    const [reply] = botTexts(chatId);
    expect(reply).toContain(REPLY);
    expect(reply).toMatch(new RegExp(`\\n— ${GUIDE_TITLE}$`));
    // The user saw it grow: typing first, then a draft, then the final message.
    expect(telegram.callsOf('sendChatAction').some((c) => c.params.chat_id === chatId)).toBe(true);
    expect(telegram.drafts(chatId).length).toBeGreaterThan(0);
    // The model was grounded in the guide.
    const prompt = JSON.stringify(ollama.chatRequests.at(-1)?.messages);
    expect(prompt).toContain('seven to nine hours');
    await waitFor(async () => (await ledger(platform, main.botId, chatId))[0]?.status === 'sent', { what: 'ledger sent' });
    const [row] = await ledger(platform, main.botId, chatId);
    expect(row!.external_message_ids).toEqual([String(telegram.messages(chatId)[0]!.messageId)]);
  });

  it('the same update delivered twice gets one reply', async () => {
    const chatId = 5002;
    const update = textUpdate('What should I do if I cannot fall asleep?', { updateId: updateId(), chatId });
    expect((await deliver(main, update)).status).toBe(200);
    expect((await deliver(main, update)).status).toBe(200);
    await waitFor(async () => (await turnsOf(platform, main.botId, chatId))[0]?.status === 'answered', { what: 'the turn' });
    expect(botTexts(chatId)).toHaveLength(1);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT count(*)::int AS n FROM inbound_messages i JOIN conversations c ON c.id = i.conversation_id WHERE c.external_chat_id = $1`, [String(chatId)]);
    expect(rows[0].n).toBe(1);
  });

  it('a burst of three messages within the merge window is one turn with one reply', async () => {
    const chatId = 5003;
    for (const text of ['Hi!', 'I keep waking up tired.', 'How much sleep do adults need?']) {
      expect((await deliver(main, textUpdate(text, { updateId: updateId(), chatId }))).status).toBe(200);
    }
    await waitFor(async () => (await turnsOf(platform, main.botId, chatId)).every((t) => t.status === 'answered') && botTexts(chatId).length > 0, {
      what: 'the burst answered',
    });
    const turns = await turnsOf(platform, main.botId, chatId);
    expect(turns).toHaveLength(1);
    expect(turns[0]!.texts).toEqual(['Hi!', 'I keep waking up tired.', 'How much sleep do adults need?']);
    expect(botTexts(chatId)).toHaveLength(1);
    const user = ollama.chatRequests.at(-1)!.messages.at(-1)!.content;
    expect(user).toContain('I keep waking up tired.');
    expect(user).toContain('How much sleep do adults need?');
  });

  it('two conversations in parallel are both answered', async () => {
    const [a, b] = [5004, 5005];
    await Promise.all([
      deliver(main, textUpdate('How do I start a new habit?', { updateId: updateId(), chatId: a })),
      deliver(main, textUpdate('How many minutes of activity a week?', { updateId: updateId(), chatId: b })),
    ]);
    await waitFor(() => botTexts(a).length === 1 && botTexts(b).length === 1, { what: 'both replies' });
  });
});

describe('the webhook', () => {
  it('answers 401 to a wrong secret and stores nothing', async () => {
    const chatId = 5101;
    const response = await fetch(`${publicUrl}/webhooks/telegram/${main.botId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'not-the-secret' },
      body: JSON.stringify(textUpdate('let me in', { updateId: updateId(), chatId })),
    });
    expect(response.status).toBe(401);
    const missing = await fetch(`${publicUrl}/webhooks/telegram/${main.botId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(textUpdate('let me in', { updateId: updateId(), chatId })),
    });
    expect(missing.status).toBe(401);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT count(*)::int AS n FROM contacts WHERE external_id = $1`, [String(chatId)]);
    expect(rows[0].n).toBe(0);
  });

  it('answers 404 for an unknown bot without saying more', async () => {
    const response = await fetch(`${publicUrl}/webhooks/telegram/00000000-0000-4000-8000-000000000000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': main.fakeBot.webhook!.secretToken! },
      body: JSON.stringify(textUpdate('hello', { updateId: updateId(), chatId: 5102 })),
    });
    expect(response.status).toBe(404);
  });

  it('acknowledges update types it does not handle and stores nothing', async () => {
    const update = { update_id: updateId(), channel_post: { message_id: 1, date: 1_700_000_000, chat: { id: -100123, type: 'channel', title: 'News' }, text: 'hi' } };
    const response = await deliver(main, update);
    expect(response.status).toBe(200);
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT count(*)::int AS n FROM conversations WHERE external_chat_id = '-100123'`);
    expect(rows[0].n).toBe(0);
  });

  it('replies politely to a voice note, never with silence', async () => {
    const chatId = 5103;
    expect((await deliver(main, telegramUpdate('voice', { updateId: updateId(), chatId }))).status).toBe(200);
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the reply to a voice note' });
    expect(botTexts(chatId)[0]).toMatch(/only read text messages/);
  });
});

describe('documents', () => {
  it('reads a PDF the user sends and answers about it, the file kept under DATA_DIR/media', async () => {
    const chatId = 5104;
    const bytes = fixture('docs/pdfjs__tracemonkey.pdf');
    const fileId = telegram.addFile(bytes, { name: 'tracemonkey.pdf' });
    const update = telegramUpdate('document', { updateId: updateId(), chatId }) as unknown as { message: Record<string, unknown> };
    update.message.document = { file_id: fileId, file_unique_id: 'tm1', file_name: 'tracemonkey.pdf', mime_type: 'application/pdf', file_size: bytes.length };
    update.message.caption = 'What is this paper about?';
    const before = ollama.chatRequests.length;
    expect((await deliver(main, update)).status).toBe(200);
    // The first PDF starts a reading process: seconds on a busy machine, within the test's minute.
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the answer about the document', timeoutMs: 45_000 });
    expect(JSON.stringify(ollama.chatRequests.slice(before))).toContain('Trace-based Just-in-Time Type Specialization');
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT storage_key, size_bytes FROM media_files WHERE bot_id = $1 AND file_id = $2`, [main.botId, fileId]);
    expect(Number(rows[0].size_bytes)).toBe(bytes.length);
    expect(existsSync(path.join(platform.config.dataDir, 'media', rows[0].storage_key))).toBe(true);
  });

  it('answers a user who sends a zip bomb as a Word file, the file read under the same limits as uploads', async () => {
    const chatId = 5105;
    // Unpacks to 1 GB: read in process, it would take the platform down.
    const bytes = zipBombDocx(1024 * 1024 * 1024);
    const fileId = telegram.addFile(bytes, { name: 'notes.docx' });
    const update = telegramUpdate('document', { updateId: updateId(), chatId }) as unknown as { message: Record<string, unknown> };
    update.message.document = { file_id: fileId, file_unique_id: 'zb1', file_name: 'notes.docx', mime_type: DOCX, file_size: bytes.length };
    update.message.caption = 'Can you summarise my notes?';
    const before = ollama.chatRequests.length;
    expect((await deliver(main, update)).status).toBe(200);
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the answer to the unreadable file' });
    // The coach is told it cannot open the file, and nothing of it was read.
    expect(JSON.stringify(ollama.chatRequests.slice(before))).toContain('attachments you cannot open');
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT extracted_text FROM media_files WHERE bot_id = $1 AND file_id = $2`, [main.botId, fileId]);
    expect(rows[0].extracted_text).toBeNull();
  });
});

describe('commands', () => {
  it('/start sends the welcome message and keeps the deep-link payload', async () => {
    const chatId = 5201;
    await deliver(main, textUpdate('/start from-instagram', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the welcome' });
    expect(botTexts(chatId)[0]).toBe('Welcome to Steady Habits! Ask me about sleep, habits or stress.');
    const { rows } = await platform.infrastructure.database.pool.query(`SELECT deep_link_payload FROM contacts WHERE bot_id = $1 AND external_id = $2`, [
      main.botId,
      String(chatId),
    ]);
    expect(rows[0].deep_link_payload).toBe('from-instagram');
  });

  it('/help lists what the bot can do', async () => {
    const chatId = 5202;
    await deliver(main, textUpdate('/help', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the help' });
    expect(botTexts(chatId)[0]).toContain('/reset');
    expect(botTexts(chatId)[0]).toContain('/forget');
  });

  it('/reset makes the next turn see no history', async () => {
    const chatId = 5203;
    await deliver(main, textUpdate('How much caffeine is too late in the day?', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 1, { what: 'first reply' });
    await deliver(main, textUpdate('And what about screens in bed at night?', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 2, { what: 'second reply' });
    // With history, the model sees the earlier exchange.
    expect(JSON.stringify(ollama.chatRequests.at(-1)!.messages)).toContain('too late in the day');
    await deliver(main, textUpdate('/reset', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 3, { what: 'reset confirmation' });
    await deliver(main, textUpdate('How do I handle stress at work?', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 4, { what: 'reply after reset' });
    const messages = ollama.chatRequests.at(-1)!.messages;
    expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(0);
    expect(JSON.stringify(messages)).not.toContain('too late in the day');
  });

  it('/forget asks first, and the confirmation button deletes the contact’s data', async () => {
    const chatId = 5204;
    await deliver(main, textUpdate('/start', { updateId: updateId(), chatId }));
    await deliver(main, textUpdate('How do I build a habit that sticks?', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 2, { what: 'two replies' });
    await deliver(main, textUpdate('/forget', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 3, { what: 'the confirmation question' });
    const question = telegram.messages(chatId)[2]!;
    const buttons = (question.replyMarkup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard.flat();
    const confirm = buttons.find((b) => b.callback_data === 'forget:confirm');
    expect(confirm).toBeDefined();
    await deliver(main, telegramUpdate('callback_query', { updateId: updateId(), chatId, text: confirm!.callback_data }));
    await waitFor(() => botTexts(chatId).length === 4, { what: 'the deletion notice' });
    expect(botTexts(chatId)[3]).toMatch(/deleted/);
    expect(telegram.callsOf('answerCallbackQuery').length).toBeGreaterThan(0);
    const { rows } = await platform.infrastructure.database.pool.query(
      `SELECT (SELECT count(*)::int FROM inbound_messages i WHERE i.conversation_id = c.id) AS inbound,
              (SELECT count(*)::int FROM turns t WHERE t.conversation_id = c.id) AS turns,
              (SELECT count(*)::int FROM inbound_messages i WHERE i.conversation_id = c.id AND i.text IS NOT NULL) AS texts,
              k.display_name, k.username
         FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.bot_id = $1 AND c.external_chat_id = $2`,
      [main.botId, String(chatId)],
    );
    // Only the button press being answered is left, with no text and no profile.
    expect(rows[0]).toEqual({ inbound: 1, turns: 1, texts: 0, display_name: null, username: null });
  });
});

describe('a user who blocked the bot', () => {
  it('is marked blocked on 403 and gets nothing more until they restart the bot', async () => {
    const chatId = 5301;
    telegram.failNext('sendMessageDraft', 1, telegramErrors.blocked());
    await deliver(main, textUpdate('How much water should I drink?', { updateId: updateId(), chatId }));
    await waitFor(async () => (await ledger(platform, main.botId, chatId))[0]?.status === 'failed', { what: 'the failed delivery' });
    const blocked = async () =>
      (await platform.infrastructure.database.pool.query(`SELECT blocked_at FROM contacts WHERE bot_id = $1 AND external_id = $2`, [main.botId, String(chatId)])).rows[0]
        .blocked_at;
    expect(await blocked()).not.toBeNull();
    const callsBefore = telegram.calls.filter((c) => c.params.chat_id === chatId).length;

    await deliver(main, textUpdate('Hello again?', { updateId: updateId(), chatId }));
    await waitFor(async () => (await turnsOf(platform, main.botId, chatId)).filter((t) => t.status === 'answered').length === 2, { what: 'second turn settled' });
    expect(telegram.calls.filter((c) => c.params.chat_id === chatId).length).toBe(callsBefore);
    expect(botTexts(chatId)).toHaveLength(0);

    await deliver(main, chatMemberUpdate('member', { updateId: updateId(), chatId }));
    await waitFor(async () => (await blocked()) === null, { what: 'unblocked' });
    await deliver(main, textUpdate('How much water should I drink?', { updateId: updateId(), chatId }));
    await waitFor(() => botTexts(chatId).length === 1, { what: 'reply after unblocking' });

    await deliver(main, chatMemberUpdate('kicked', { updateId: updateId(), chatId }));
    await waitFor(async () => (await blocked()) !== null, { what: 'blocked by my_chat_member' });
  });
});

describe('exactly once under redelivery', () => {
  it(`answers each of ${REPLAY_MESSAGES} messages exactly once when 30 % are delivered again`, async () => {
    const firstChat = 700_000;
    const updates = Array.from({ length: REPLAY_MESSAGES }, (_, i) =>
      textUpdate(`Question ${i}: how much sleep do adults need?`, { updateId: updateId(), chatId: firstChat + i }),
    );
    const again = updates.filter((_, i) => i % 10 < 3);
    const deliveries = [...updates, ...again];
    // Redeliveries interleave with first deliveries, a few at a time, as Telegram's parallel connections would.
    for (let i = 0; i < deliveries.length; i += 20) {
      const statuses = await Promise.all(deliveries.slice(i, i + 20).map((u) => deliver(main, u)));
      expect(statuses.every((s) => s.status === 200)).toBe(true);
    }
    const chats = updates.map((_, i) => firstChat + i);
    await waitFor(() => chats.every((chat) => botTexts(chat).length >= 1), { what: 'every message answered', timeoutMs: 90_000 });
    // Settle: any duplicate would have been sent by the time every turn is answered.
    await waitFor(
      async () => {
        const { rows } = await platform.infrastructure.database.pool.query(
          `SELECT count(*)::int AS n FROM turns t JOIN conversations c ON c.id = t.conversation_id
            WHERE c.bot_id = $1 AND c.external_chat_id::bigint >= $2 AND t.status = 'answered'`,
          [main.botId, firstChat],
        );
        return rows[0].n === REPLAY_MESSAGES;
      },
      { what: 'all turns answered' },
    );
    const counts = chats.map((chat) => botTexts(chat).length);
    expect(counts.every((n) => n === 1)).toBe(true);
  });
});

describe('database outage', () => {
  it('answers 503 while the database is down, and the redelivery is answered exactly once', async () => {
    const chatId = 5401;
    const update = textUpdate('What does the guide say about rest days?', { updateId: updateId(), chatId });
    await platform.testDatabase.cutOff();
    try {
      const during = await deliver(main, update);
      expect(during.status).toBe(503);
    } finally {
      await platform.testDatabase.restore();
    }
    // Telegram redelivers until it gets a 2xx.
    const after = await waitFor(async () => {
      const response = await deliver(main, update);
      return response.status === 200 ? response : undefined;
    }, { what: 'a 200 after restore' });
    expect(after.status).toBe(200);
    await waitFor(() => botTexts(chatId).length === 1, { what: 'the reply after the outage' });
    await deliver(main, update);
    await waitFor(async () => (await ledger(platform, main.botId, chatId))[0]?.status === 'sent', { what: 'ledger sent' });
    expect(botTexts(chatId)).toHaveLength(1);
  });
});
