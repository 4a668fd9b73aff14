/**
 * A creator's FAQ answer reaches a Telegram user as written: the platform listens on a real socket
 * behind the fake Telegram Bot API, with no model answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, type ConnectedBot } from '../support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const ANSWER = 'A new group starts on the first Monday of every month. Sign up by the Friday before.';

let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  const port = await freePort();
  platform = await startTestPlatform({ TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: `http://127.0.0.1:${port}`, TELEGRAM_THROTTLE: 'false' });
  await platform.app.listen({ host: '127.0.0.1', port });
  bot = await connectedBot(platform, telegram, { ingest: false });
  const created = await platform.app.inject({
    method: 'POST',
    url: `/v1/bots/${bot.botId}/faqs`,
    headers: bot.session.auth,
    payload: { question: 'When does the next group start?', answer: ANSWER },
  });
  expect(created.statusCode).toBe(201);
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
});

describe('FAQ answers on Telegram', () => {
  it('sends the creator’s answer to a paraphrased question, cited as FAQ', async () => {
    const chatId = 7001;
    expect((await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('when will the next group start?', { updateId: 1, chatId }))).status).toBe(200);
    const texts = await waitFor(() => (telegram.texts(chatId).length ? telegram.texts(chatId) : undefined), { timeoutMs: 30_000, what: 'the reply on Telegram' });
    expect(texts).toEqual([`${ANSWER}\n\n— FAQ`]);
  });
});
