import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram, type HeldCall } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, type ConnectedBot } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let telegram: FakeTelegram;
let platform: TestPlatform;
let nextUpdateId = 90_000;
let nextChatId = 7_300_000;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  const port = await freePort();
  platform = await startTestPlatform({
    TELEGRAM_API_ROOT: telegram.apiRoot,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    REDIS_URL: testRedisUrl,
    RECONCILE_INTERVAL_MS: '200',
    RECONCILE_GRACE_MS: '300',
  });
  await platform.app.listen({ host: '127.0.0.1', port });
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
});

/** A connected bot with `count` contacts, each of whom wrote /help and got the answer. */
async function botWithContacts(count: number): Promise<{ bot: ConnectedBot; chats: number[] }> {
  const bot = await connectedBot(platform, telegram, { ingest: false, settings: { mergeWindowMs: 0 } });
  const chats = Array.from({ length: count }, () => nextChatId++);
  for (const chatId of chats) {
    const response = await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('/help', { chatId, updateId: nextUpdateId++ }));
    expect(response.status).toBe(200);
  }
  await waitFor(() => chats.every((chatId) => telegram.texts(chatId).length >= 1) || null, { what: 'every contact got the /help answer' });
  return { bot, chats };
}

function api(bot: ConnectedBot, method: 'GET' | 'POST', path: string, payload?: object) {
  return platform.app.inject({ method, url: `/v1/bots/${bot.botId}/broadcasts${path}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

const received = (chatId: number, text: string) => telegram.texts(chatId).filter((t) => t === text).length;

describe('broadcasts on Telegram', () => {
  it('delivers a broadcast to every contact exactly once, and skips the one who opted out', async () => {
    const { bot, chats } = await botWithContacts(8);
    const [stopper, ...others] = chats as [number, ...number[]];
    await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('/stop', { chatId: stopper, updateId: nextUpdateId++ }));
    await waitFor(() => telegram.texts(stopper).length >= 2 || null, { what: 'the /stop confirmation' });

    const text = 'Live Q&A tonight at 19:00 — bring your questions!';
    const created = await api(bot, 'POST', '', { text, segment: { type: 'all' } });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();

    const done = await waitFor(
      async () => {
        const view = (await api(bot, 'GET', `/${id}`)).json();
        return view.status === 'done' ? view : null;
      },
      { what: 'the broadcast done' },
    );
    expect(done).toMatchObject({ total: 8, sent: 7, skipped: 1, failed: 0, cancelled: 0, pending: 0 });
    for (const chatId of others) expect(received(chatId, text), `chat ${chatId}`).toBe(1);
    expect(received(stopper, text)).toBe(0);
    const skipped = (await api(bot, 'GET', `/${id}/recipients?status=skipped`)).json().recipients;
    expect(skipped).toEqual([expect.objectContaining({ status: 'skipped', reason: 'The contact opted out of proactive messages (/stop)' })]);

    // Queueing the recipients again (a fan-out resumed after a crash) and the reconciler send nothing more.
    const broadcast = await platform.coaching.broadcasts.get(bot.session.creatorId, bot.botId, id);
    await platform.coaching.broadcasts.fanOut(broadcast);
    await platform.coaching.proactive.reconcile(0);
    expect(telegram.callsOf('sendMessage').filter((c) => c.params.text === text)).toHaveLength(7);
  });

  it('cancels the recipients not yet being sent to; those in flight still get it, once', async () => {
    const { bot, chats } = await botWithContacts(12);
    const text = 'Flash sale: 50% off the sleep program';
    const holds = new Map<number, HeldCall>(chats.map((chatId) => [chatId, telegram.holdNext('sendMessage', { chatId })]));
    const arrived = new Set<number>();
    for (const [chatId, hold] of holds) void hold.arrived.then(() => arrived.add(chatId));

    const { id } = (await api(bot, 'POST', '', { text, segment: { type: 'channel', value: 'telegram' } })).json();
    await waitFor(() => arrived.size >= 1 || null, { what: 'a first message on its way' });
    const cancelled = await api(bot, 'POST', `/${id}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    for (const hold of holds.values()) hold.release();

    const settled = await waitFor(
      async () => {
        const view = (await api(bot, 'GET', `/${id}`)).json();
        return view.pending === 0 ? view : null;
      },
      { what: 'every recipient settled' },
    );
    expect(settled.status).toBe('cancelled');
    expect(settled.total).toBe(12);
    expect(settled.cancelled).toBeGreaterThan(0);
    expect(settled.sent).toBeGreaterThan(0);
    expect(settled.sent + settled.cancelled).toBe(12);
    const sentTo = new Set(
      (await api(bot, 'GET', `/${id}/recipients?status=sent`)).json().recipients.map((r: { contactId: string }) => r.contactId),
    );
    expect(sentTo.size).toBe(settled.sent);
    // What the chats show agrees with the recipients' statuses: one message each for the sent, none for the rest.
    const chatsWithMessage = chats.filter((chatId) => received(chatId, text) === 1);
    expect(chats.every((chatId) => received(chatId, text) <= 1)).toBe(true);
    expect(chatsWithMessage).toHaveLength(settled.sent);
    for (const chatId of arrived) expect(received(chatId, text)).toBe(1);
  });
});
