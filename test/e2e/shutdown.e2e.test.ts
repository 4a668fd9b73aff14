import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startGatedOllama, type GatedOllama } from '../support/gated-ollama.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort } from '../support/telegram-e2e.js';
import { startTestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const REPLY = 'Keep the same bedtime every night, weekends included.';

let telegram: FakeTelegram;
let ollama: FakeOllama;
let gate: GatedOllama;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
  gate = await startGatedOllama(ollama.url);
});

afterAll(async () => {
  await gate?.close();
  await telegram?.close();
  await ollama?.close();
});

describe('shutting down', () => {
  it('stops answering requests first and still answers the message being worked on before the connections close', async () => {
    const port = await freePort();
    const platform = await startTestPlatform({
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_THROTTLE: 'false',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OLLAMA_HOST: gate.url,
    });
    await platform.app.listen({ host: '127.0.0.1', port });
    const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 } });
    const chatId = 7301;
    expect((await telegram.deliverUpdate(bot.fakeBot.token, textUpdate('How do I sleep better?', { updateId: 1, chatId }))).status).toBe(200);
    // The turn is waiting for the model when shutdown begins.
    await gate.waitForHeld(1);

    const stopping = platform.stop();
    await waitFor(() => !platform.app.server.listening, { what: 'the app to stop listening' });
    gate.release();
    await stopping;

    expect(telegram.texts(chatId)).toHaveLength(1);
    expect(telegram.texts(chatId)[0]).toContain(REPLY);
  });
});
