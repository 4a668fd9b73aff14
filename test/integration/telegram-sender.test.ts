import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTelegramBot, createTelegramApi, disconnectTelegramBot } from '../../channels/telegram/telegram.client.js';
import { TELEGRAM_MAX_TEXT } from '../../channels/telegram/telegram.format.js';
import { ALLOWED_UPDATES } from '../../channels/telegram/telegram.inbound.js';
import { TelegramSender, type TelegramSenderOptions } from '../../channels/telegram/telegram.outbound.js';
import { ChannelAuthError, ChannelRequestError, RecipientBlockedError } from '../../src/conversation/channel.ports.js';
import { startFakeTelegram, telegramErrors, type FakeBot, type FakeTelegram } from '../support/fake-telegram.js';

let fake: FakeTelegram;
let bot: FakeBot;
let nextChat = 10_000;
/** A fresh private chat (positive id) per test, so assertions see only that test's messages. */
const privateChat = () => String(nextChat++);
const groupChat = () => String(-1_000_000_000_000 - nextChat++);

// Telegram's per-chat pacing (1 message a second) would make every test slow; keep per-chat ordering only.
const fastThrottle = { global: {}, group: { maxConcurrent: 1 }, out: { maxConcurrent: 1 } };

function senderFor(token: string, options: TelegramSenderOptions = {}, throttle: 'fast' | 'telegram' = 'fast') {
  const api = createTelegramApi(token, { apiRoot: fake.apiRoot, ...(throttle === 'fast' ? { throttle: fastThrottle } : {}) });
  return new TelegramSender(api, options);
}

function manualClock() {
  const clock = { now: 0 };
  return { clock, read: () => clock.now };
}

/** Yields `pieces` as a model would, moving the fake clock `stepMs` forward before each piece after the first. */
async function* generate(pieces: string[], clock: { now: number }, stepMs: number): AsyncIterable<string> {
  for (const [index, piece] of pieces.entries()) {
    if (index > 0) clock.now += stepMs;
    yield piece;
  }
}

function callsInChat(method: string, chatId: string) {
  return fake.callsOf(method).filter((c) => String(c.params.chat_id) === chatId);
}

const paragraphs = (count: number, words: number) =>
  Array.from({ length: count }, (_, p) => Array.from({ length: words }, (_, w) => `step${p}-${w}`).join(' ') + '.').join('\n\n');

beforeAll(async () => {
  fake = await startFakeTelegram();
  bot = fake.addBot({ username: 'coach_sender_bot' });
});

afterAll(async () => {
  await fake?.close();
});

describe('sendText', () => {
  it('splits a long reply into several messages, in order, within 4,096 characters, buttons under the last', async () => {
    const chat = privateChat();
    const text = paragraphs(10, 110);
    expect(text.length).toBeGreaterThan(2 * TELEGRAM_MAX_TEXT);
    // Telegram's default pacing this time: one message a second in a private chat.
    const sender = senderFor(bot.token, {}, 'telegram');
    const started = performance.now();
    const result = await sender.sendText(chat, { text, citations: ['Habit guide'], buttons: [{ id: 'more', title: 'Tell me more' }] });
    const elapsed = performance.now() - started;

    const shown = fake.messages(chat);
    expect(shown.length).toBe(3);
    expect(result.messageIds).toEqual(shown.map((m) => String(m.messageId)));
    for (const message of shown) expect(message.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
    expect(shown.map((m) => m.text).join('\n\n')).toBe(`${text}\n\nSources: Habit guide`);
    expect(shown.at(-1)!.replyMarkup).toEqual({ inline_keyboard: [[{ text: 'Tell me more', callback_data: 'more' }]] });
    expect(shown.slice(0, -1).every((m) => m.replyMarkup === undefined)).toBe(true);
    expect(shown.at(-1)!.entities).toEqual([{ type: 'italic', offset: shown.at(-1)!.text.indexOf('Sources:'), length: 'Sources: Habit guide'.length }]);
    // Three messages to one chat cannot have gone out faster than Telegram's one a second.
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
  });

  it('delivers model output full of Markdown and HTML characters verbatim, without parse_mode', async () => {
    const chat = privateChat();
    const text = 'Use *stars* _under_ [x](y) ~t~ > q #h +1 -1 =2 |p| {b} a.b! <b>not bold</b> &lt; & 100%';
    await senderFor(bot.token).sendText(chat, { text });
    expect(fake.texts(chat)).toEqual([text]);
    const [call] = callsInChat('sendMessage', chat);
    expect(call!.params.parse_mode).toBeUndefined();
    expect(call!.params.entities).toBeUndefined();
  });

  it('sends **bold** as a bold entity at the right UTF-16 offset after emoji', async () => {
    const chat = privateChat();
    await senderFor(bot.token).sendText(chat, { text: '🎉🏃‍♀️ You did it: **5 km** today!' });
    const [message] = fake.messages(chat);
    expect(message!.text).toBe('🎉🏃‍♀️ You did it: 5 km today!');
    const [entity] = message!.entities as Array<{ type: string; offset: number; length: number }>;
    expect(message!.text.slice(entity!.offset, entity!.offset + entity!.length)).toBe('5 km');
  });

  it('waits out a 429 for its retry_after and then delivers the message', async () => {
    const chat = privateChat();
    fake.failNext('sendMessage', 1, telegramErrors.tooManyRequests(1));
    const started = performance.now();
    await senderFor(bot.token).sendText(chat, { text: 'Hello after a pause' });
    const elapsed = performance.now() - started;

    const calls = callsInChat('sendMessage', chat);
    expect(calls.map((c) => c.response.ok)).toEqual([false, true]);
    expect(calls[0]!.response).toMatchObject({ error_code: 429, parameters: { retry_after: 1 } });
    expect(calls[1]!.params.text).toBe('Hello after a pause');
    expect(fake.texts(chat)).toEqual(['Hello after a pause']);
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up on a retry_after longer than we wait, saying when to try again', async () => {
    const chat = privateChat();
    fake.failNext('sendMessage', 1, telegramErrors.tooManyRequests(3600));
    const error = await senderFor(bot.token)
      .sendText(chat, { text: 'later' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ errorCode: 429, retryable: true, retryAfterSeconds: 3600 });
    expect(fake.texts(chat)).toEqual([]);
  });

  it('asks again after a 500 and delivers the message once', async () => {
    const chat = privateChat();
    fake.failNext('sendMessage', 2, telegramErrors.internal());
    const api = createTelegramApi(bot.token, { apiRoot: fake.apiRoot, serverErrorRetryDelayMs: 5, throttle: fastThrottle });
    await new TelegramSender(api).sendText(chat, { text: 'Hello after an outage' });
    expect(callsInChat('sendMessage', chat).map((c) => c.response.ok)).toEqual([false, false, true]);
    expect(fake.texts(chat)).toEqual(['Hello after an outage']);
  });

  it('gives up on a 500 that persists past the retries, retryable', async () => {
    const chat = privateChat();
    fake.failNext('sendMessage', 3, telegramErrors.internal());
    const api = createTelegramApi(bot.token, { apiRoot: fake.apiRoot, serverErrorRetryDelayMs: 5, maxRetryAttempts: 2, throttle: fastThrottle });
    const error = await new TelegramSender(api).sendText(chat, { text: 'hi' }).catch((err: unknown) => err);
    expect(error).toMatchObject({ errorCode: 500, retryable: true });
    expect(callsInChat('sendMessage', chat)).toHaveLength(3);
    expect(fake.texts(chat)).toEqual([]);
  });

  it('a user who blocked the bot → RecipientBlockedError, nothing delivered', async () => {
    const chat = privateChat();
    fake.failNext('sendMessage', 1, telegramErrors.blocked());
    const error = await senderFor(bot.token)
      .sendText(chat, { text: 'hi' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RecipientBlockedError);
    expect(error).toMatchObject({ reason: 'blocked' });
    expect(fake.texts(chat)).toEqual([]);
  });

  it('a deactivated account (real 403 body) → RecipientBlockedError', async () => {
    fake.failNext('sendMessage', 1, telegramErrors.deactivated());
    const error = await senderFor(bot.token)
      .sendText(privateChat(), { text: 'hi' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RecipientBlockedError);
    expect(error).toMatchObject({ reason: 'deactivated' });
  });

  it('an unreachable Bot API fails after a few retries as a retryable ChannelRequestError, not a hang', async () => {
    // Port 9 (discard) has no listener: every attempt is refused.
    const api = createTelegramApi(bot.token, { apiRoot: 'http://127.0.0.1:9', networkRetryDelayMs: 5, maxRetryAttempts: 2, throttle: false });
    const error = await new TelegramSender(api)
      .sendText(privateChat(), { text: 'hi' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelRequestError);
    expect(error).toMatchObject({ errorCode: undefined, retryable: true });
  });

  it('a revoked token → ChannelAuthError', async () => {
    const error = await senderFor(`${bot.id}:AAthis-token-was-revoked-long-ago`)
      .sendText(privateChat(), { text: 'hi' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelAuthError);
  });
});

describe('streamText', () => {
  const reply = ['Great ', 'question! ', 'Start ', 'with ', 'five ', 'minutes ', 'of ', 'stretching ', 'every ', 'morning, ', 'then ', 'add ', 'a ', 'short ', 'walk.'];
  const full = reply.join('');

  it('in a private chat streams drafts, then sends the full reply as one message', async () => {
    const chat = privateChat();
    const { clock, read } = manualClock();
    const result = await senderFor(bot.token, { clock: read }).streamText(chat, generate(reply, clock, 1_000), {
      final: (text) => ({ text, citations: ['Morning routine'] }),
    });

    const drafts = fake.drafts(chat);
    expect(drafts.length).toBeGreaterThanOrEqual(2);
    // The user watched the reply grow: each draft extends the one before it.
    for (const [index, draft] of drafts.entries()) {
      expect(full.startsWith(draft.text)).toBe(true);
      if (index > 0) expect(draft.text.length).toBeGreaterThan(drafts[index - 1]!.text.length);
      expect(draft.draftId).not.toBe(0);
      expect(draft.draftId).toBe(drafts[0]!.draftId);
    }
    expect(fake.texts(chat)).toEqual([`${full}\n\nSources: Morning routine`]);
    expect(result.messageIds).toEqual([String(fake.messages(chat)[0]!.messageId)]);
    expect(fake.currentDraft(chat)).toBeUndefined();
    expect(callsInChat('editMessageText', chat)).toEqual([]);
  });

  it('in a group (no drafts) sends one message and edits it to the final text', async () => {
    const chat = groupChat();
    const { clock, read } = manualClock();
    await senderFor(bot.token, { clock: read }).streamText(chat, generate(reply, clock, 3_000));

    expect(callsInChat('sendMessageDraft', chat)).toEqual([]);
    expect(callsInChat('sendMessage', chat)).toHaveLength(1);
    const [message] = fake.messages(chat);
    expect(fake.messages(chat)).toHaveLength(1);
    expect(message!.text).toBe(full);
    expect(message!.versions.length).toBeGreaterThanOrEqual(2);
    expect(full.startsWith(message!.versions[0]!)).toBe(true);
  });

  it('treats Telegram\'s "message is not modified" as success', async () => {
    const chat = groupChat();
    fake.failNext('editMessageText', 1, {
      error_code: 400,
      description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    });
    const { clock, read } = manualClock();
    await senderFor(bot.token, { clock: read }).streamText(chat, generate(reply, clock, 3_000));
    expect(callsInChat('editMessageText', chat)[0]!.response.ok).toBe(false);
    expect(fake.texts(chat)).toEqual([full]);
  });

  it('edits at most once per interval however fast tokens arrive', async () => {
    const chat = privateChat();
    const { clock, read } = manualClock();
    const pieces = Array.from({ length: 20 }, (_, i) => `chunk${String(i).padStart(2, '0')}. `);
    // 20 pieces, 250 ms apart: 4.75 s of generation allows previews at 0, 1, 2, 3 and 4 s.
    await senderFor(bot.token, { clock: read, drafts: false }).streamText(chat, generate(pieces, clock, 250));
    const edits = callsInChat('editMessageText', chat);
    expect(callsInChat('sendMessage', chat)).toHaveLength(1);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(edits.length).toBeLessThanOrEqual(5);
    expect(fake.texts(chat)).toEqual([pieces.join('').trim()]);
  });

  it('falls back to editing a message when Telegram refuses drafts', async () => {
    const chat = privateChat();
    fake.failNext('sendMessageDraft', 1, { error_code: 400, description: 'Bad Request: TEXTDRAFT_PEER_INVALID' });
    const { clock, read } = manualClock();
    await senderFor(bot.token, { clock: read }).streamText(chat, generate(reply, clock, 1_000));
    expect(callsInChat('sendMessageDraft', chat)).toHaveLength(1);
    expect(callsInChat('editMessageText', chat).length).toBeGreaterThanOrEqual(1);
    expect(fake.texts(chat)).toEqual([full]);
  });

  it('a streamed reply over 4,096 characters ends as several messages with the whole text', async () => {
    const chat = groupChat();
    const text = paragraphs(6, 110);
    const pieces = text.match(/[\s\S]{1,300}/g)!;
    const { clock, read } = manualClock();
    await senderFor(bot.token, { clock: read }).streamText(chat, generate(pieces, clock, 3_000));
    const texts = fake.texts(chat);
    expect(texts.length).toBe(2);
    expect(texts.join('\n\n')).toBe(text);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
  });

  it('skips a preview caught in a long flood wait instead of stalling the reply', { timeout: 15_000 }, async () => {
    const chat = privateChat();
    fake.failNext('sendMessageDraft', 1, telegramErrors.tooManyRequests(55));
    const { clock, read } = manualClock();
    await senderFor(bot.token, { clock: read, previewTimeoutMs: 200 }).streamText(chat, generate(reply, clock, 1_000));
    const drafts = callsInChat('sendMessageDraft', chat);
    expect(drafts[0]!.response).toMatchObject({ error_code: 429 });
    // Later previews still went out, and the reply arrived in full.
    expect(drafts.slice(1).some((c) => c.response.ok)).toBe(true);
    expect(fake.texts(chat)).toEqual([full]);
  });

  it('stops at once when the user has blocked the bot', async () => {
    const chat = privateChat();
    fake.failNext('sendMessageDraft', 1, telegramErrors.blocked());
    const { clock, read } = manualClock();
    let pulled = 0;
    async function* tokens() {
      for (const piece of reply) {
        pulled++;
        clock.now += 1_000;
        yield piece;
      }
    }
    const error = await senderFor(bot.token, { clock: read })
      .streamText(chat, tokens())
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RecipientBlockedError);
    expect(pulled).toBe(1);
    expect(fake.texts(chat)).toEqual([]);
  });
});

describe('typing and button presses', () => {
  it('shows typing and answers a callback query', async () => {
    const chat = privateChat();
    const sender = senderFor(bot.token);
    await sender.sendTyping(chat);
    await sender.answerCallback('666728699048485871', 'Noted ✅');
    expect(callsInChat('sendChatAction', chat).map((c) => c.params.action)).toEqual(['typing']);
    expect(fake.callsOf('answerCallbackQuery').at(-1)!.params).toEqual({ callback_query_id: '666728699048485871', text: 'Noted ✅' });
  });
});

describe('connecting a bot', () => {
  it('checks the token with getMe, then sets the webhook with our secret and update types', async () => {
    const connecting = fake.addBot({ username: 'fresh_coach_bot' });
    const url = 'https://coach.example.test/webhooks/telegram/bot-1';
    const result = await connectTelegramBot(connecting.token, { apiRoot: fake.apiRoot, webhookUrl: url, secretToken: 'sec_RET-123' });

    expect(result).toEqual({ id: connecting.id, username: 'fresh_coach_bot' });
    const calls = fake.calls.filter((c) => c.token === connecting.token).map((c) => c.method);
    expect(calls).toEqual(['getMe', 'setWebhook']);
    expect(fake.callsOf('setWebhook').at(-1)!.params).toEqual({
      url,
      secret_token: 'sec_RET-123',
      allowed_updates: [...ALLOWED_UPDATES],
      drop_pending_updates: false,
    });
    const info = await createTelegramApi(connecting.token, { apiRoot: fake.apiRoot }).getWebhookInfo();
    expect(info).toMatchObject({ url, allowed_updates: [...ALLOWED_UPDATES] });

    await disconnectTelegramBot(connecting.token, { apiRoot: fake.apiRoot });
    expect(fake.bot(connecting.token)!.webhook).toBeUndefined();
  });

  it('a token Telegram does not know → ChannelAuthError, and no webhook is set', async () => {
    const setBefore = fake.callsOf('setWebhook').length;
    const error = await connectTelegramBot('123456:AAunknown-token-unknown-token-xyz', {
      apiRoot: fake.apiRoot,
      webhookUrl: 'https://coach.example.test/webhooks/telegram/x',
      secretToken: 'abc',
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ChannelAuthError);
    expect((error as Error).message).toMatch(/BotFather/);
    expect(fake.callsOf('getMe').at(-1)).toMatchObject({ token: '123456:AAunknown-token-unknown-token-xyz', response: { ok: false, error_code: 401 } });
    expect(fake.callsOf('setWebhook').length).toBe(setBefore);
  });

  it('something that is not a token at all → ChannelAuthError without calling Telegram', async () => {
    const before = fake.calls.length;
    const error = await connectTelegramBot('not a token', { apiRoot: fake.apiRoot, webhookUrl: 'https://x.test/w', secretToken: 'abc' }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ChannelAuthError);
    expect(fake.calls.length).toBe(before);
  });
});

describe('the fake speaks the Bot API protocol', () => {
  const url = (method: string, token = bot.token) => `${fake.apiRoot}/bot${token}/${method}`;

  it('accepts form-urlencoded and multipart bodies like Telegram', async () => {
    const chat = privateChat();
    const form = await fetch(url('sendMessage'), {
      method: 'POST',
      body: new URLSearchParams({ chat_id: chat, text: 'from a form', entities: JSON.stringify([{ type: 'bold', offset: 5, length: 1 }]) }),
    });
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({ ok: true, result: { message_id: 1, chat: { id: Number(chat), type: 'private' }, text: 'from a form' } });

    const multipart = new FormData();
    multipart.set('chat_id', chat);
    multipart.set('text', 'from multipart');
    const sent = await fetch(url('sendMessage'), { method: 'POST', body: multipart });
    expect(await sent.json()).toMatchObject({ ok: true, result: { message_id: 2 } });
    expect(fake.texts(chat)).toEqual(['from a form', 'from multipart']);

    const waited = await fake.waitForCalls('sendMessage', 2, { timeoutMs: 1_000 });
    expect(waited.length).toBeGreaterThanOrEqual(2);
  });

  it('answers unknown methods, bad tokens and bad edits with Telegram’s error bodies', async () => {
    const unknown = await fetch(url('sendTelepathy'), { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });

    const unauthorized = await fetch(url('getMe', '1:bad'));
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });

    const missing = await fetch(url('editMessageText'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: 1, message_id: 999_999, text: 'x' }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
  });

  it('waitForCalls resolves on the call it waits for and times out with a clear message', async () => {
    const waiting = fake.waitForCalls('deleteWebhook', fake.callsOf('deleteWebhook').length + 1, { timeoutMs: 5_000 });
    await fetch(url('deleteWebhook'), { method: 'POST' });
    expect((await waiting).at(-1)!.method).toBe('deleteWebhook');
    await expect(fake.waitForCalls('logOut', 1, { timeoutMs: 20 })).rejects.toThrow(/waiting for 1 logOut/);
  });
});
