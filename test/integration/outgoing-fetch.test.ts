import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Text } from 'whatsapp-api-js/messages/text';
import { createTelegramApi } from '../../channels/telegram/telegram.client.js';
import { WhatsAppClient } from '../../channels/whatsapp/whatsapp.client.js';
import { WhatsAppPacer } from '../../channels/whatsapp/whatsapp.pacing.js';
import { OllamaEmbedder } from '../../rag/embedders/ollama.embedder.js';
import { outgoingFetch, type HttpClientKind } from '../../src/http-client/outgoing-fetch.js';
import { LlmTimeoutError } from '../../src/llm/llm.errors.js';
import { OllamaLlm } from '../../src/llm/ollama.llm.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeOllamaChat, type FakeOllamaChat } from '../support/fake-ollama-chat.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';

/**
 * HTTP_CLIENT decides which fetch the four SDK clients send through. Each kind is driven here
 * through the real SDKs (ollama, grammY, whatsapp-api-js) against fakes speaking their servers'
 * protocols, so every input those SDKs pass (grammY's own AbortSignal class and agent options,
 * whatsapp-api-js's URL objects, the ollama client's header objects and streamed answers) reaches it.
 */
const PHONE = '1122334455667';

let ollama: FakeOllama;
let ollamaChat: FakeOllamaChat;
let telegram: FakeTelegram;
let whatsapp: FakeWhatsApp;

beforeAll(async () => {
  [ollama, ollamaChat, telegram, whatsapp] = await Promise.all([
    startFakeOllama({ dims: 16, chatReply: 'Seven to nine hours.' }),
    startFakeOllamaChat({ models: ['llama3.2:3b'] }),
    startFakeTelegram(),
    startFakeWhatsApp(),
  ]);
  whatsapp.addPhoneNumber(PHONE);
});

afterEach(() => {
  vi.restoreAllMocks();
  ollamaChat.firstTokenDelayMs = 0;
});

afterAll(async () => {
  await Promise.all([ollama.close(), ollamaChat.close(), telegram.close(), whatsapp.close()]);
});

async function reply(llm: OllamaLlm): Promise<string> {
  let text = '';
  for await (const delta of llm.chat({ messages: [{ role: 'user', content: 'How much sleep do I need?' }] })) text += delta;
  return text;
}

describe.each<HttpClientKind>(['lean', 'fetch'])('HTTP_CLIENT=%s', (kind) => {
  const makeFetch = outgoingFetch(kind);

  it('carries the Ollama chat stream and embeddings, through the global fetch only when chosen', async () => {
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    const llm = new OllamaLlm({ host: ollama.url, defaultModel: 'llama3.2:3b', fetch: makeFetch });
    expect(await reply(llm)).toBe('Seven to nine hours.');
    expect(globalFetch.mock.calls.length > 0).toBe(kind === 'fetch');
    globalFetch.mockClear();

    const embedder = new OllamaEmbedder({ host: ollama.url, model: 'nomic-embed-text', batchSize: 8, probeCacheMs: 0, fetch: makeFetch });
    expect(await embedder.available()).toBe(true);
    expect(await embedder.embed(['sleep', 'habits'])).toEqual([ollama.embedding('sleep'), ollama.embedding('habits')]);
    expect(globalFetch.mock.calls.length > 0).toBe(kind === 'fetch');
  });

  it("stops a model call at the first-token timeout, through the call's own signal", async () => {
    // Longer than the test may take: only the aborted request ends it.
    ollamaChat.firstTokenDelayMs = 120_000;
    const llm = new OllamaLlm({ host: ollamaChat.url, defaultModel: 'llama3.2:3b', firstTokenTimeoutMs: 100, maxRetries: 0, fetch: makeFetch });
    await expect(reply(llm)).rejects.toBeInstanceOf(LlmTimeoutError);
  });

  it('sends Telegram Bot API calls, and a grammY abort cuts the request off', async () => {
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    const bot = telegram.addBot();
    const api = createTelegramApi(bot.token, { apiRoot: telegram.apiRoot, throttle: false, maxRetryAttempts: 0, fetch: makeFetch() });
    expect((await api.getMe()).id).toBe(bot.id);
    const chat = kind === 'lean' ? 4242 : 4343;
    await api.sendMessage(chat, 'Seven to nine hours.');
    expect(telegram.texts(chat)).toEqual(['Seven to nine hours.']);
    expect(globalFetch.mock.calls.length > 0).toBe(kind === 'fetch');

    // grammY follows the caller's signal with one of its own AbortController class (the
    // abort-controller package), and that is the signal the fetch gets.
    const held = telegram.holdNext('getMe');
    const controller = new AbortController();
    const pending = api.getMe(controller.signal as unknown as Parameters<typeof api.getMe>[0]).catch((err: unknown) => err);
    await held.arrived;
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await held.clientGone;
    held.release();
  });

  it('sends WhatsApp Cloud API calls and downloads media (whatsapp-api-js passes a URL object)', async () => {
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    const client = new WhatsAppClient({
      accessToken: whatsapp.accessToken,
      graphUrl: whatsapp.url,
      pacer: new WhatsAppPacer({ recipientGapMs: 0 }),
      fetch: makeFetch(),
    });
    expect((await client.phoneNumber(PHONE)).displayPhoneNumber).toBe('+1 555-010-0100');
    const to = kind === 'lean' ? '15550001' : '15550002';
    await client.send(PHONE, to, new Text('Seven to nine hours.'));
    expect(whatsapp.sentTo(to).map((m) => m.text)).toEqual(['Seven to nine hours.']);

    const bytes = Buffer.from('%PDF-1.4 sleep guide');
    const media = await client.downloadMedia(whatsapp.addMedia(bytes, 'application/pdf'));
    expect(media.bytes.equals(bytes)).toBe(true);
    expect(globalFetch.mock.calls.length > 0).toBe(kind === 'fetch');
  });
});
