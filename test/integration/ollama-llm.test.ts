import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConversationEngine } from '../../src/conversation/engine.js';
import type { LlmChatRequest, LlmPort, Passage, ResponderInfo } from '../../src/conversation/ports.js';
import type { BotProfile } from '../../src/conversation/types.js';
import { LlmConnectionError, LlmResponseError, LlmStreamError, LlmTimeoutError, ModelNotPulledError } from '../../src/llm/llm.errors.js';
import { createLlm } from '../../src/llm/llm-provider.js';
import { OllamaLlm } from '../../src/llm/ollama.llm.js';
import { startFakeOllamaChat, type FakeOllamaChat } from '../support/fake-ollama-chat.js';
import { waitFor } from '../support/wait-for.js';

// test/support/fake-ollama.ts cannot fail only the next N chats or hold back the first token,
// so these tests use the smaller fake-ollama-chat.ts built for that.

const MODEL = 'llama3.2:3b';
const question: LlmChatRequest = { messages: [{ role: 'user', content: 'How much sleep do I need?' }] };
const grounding = {
  botName: 'Coach Ana',
  language: 'en',
  question: 'How many hours of sleep do I need?',
  passages: [
    { id: 1, documentId: 'doc-sleep', title: 'Sleep Guide', page: 4, text: 'Adults need seven to nine hours of sleep each night. Keep a regular bedtime.' },
  ],
};

async function collect(llm: LlmPort, request: LlmChatRequest = question): Promise<string[]> {
  const deltas: string[] = [];
  for await (const delta of llm.chat(request)) deltas.push(delta);
  return deltas;
}

/** A URL nothing listens on: a server started and stopped again. */
async function deadUrl(): Promise<string> {
  const fake = await startFakeOllamaChat();
  await fake.close();
  return fake.url;
}

describe('OllamaLlm against an Ollama-compatible server', () => {
  let fake: FakeOllamaChat;

  beforeAll(async () => {
    fake = await startFakeOllamaChat({ models: [MODEL] });
  });
  afterEach(() => {
    fake.tokens = ['Hello', ' there', '!'];
    fake.firstTokenDelayMs = 0;
    fake.tokenDelayMs = 0;
    fake.breakAfterTokens = undefined;
    fake.chatBodies.length = 0;
  });
  afterAll(async () => {
    await fake.close();
  });

  it('streams the deltas in order, and they join to the reply; settings reach the server', async () => {
    fake.tokens = ['Aim', ' for', ' seven', ' to', ' nine', ' hours', '.'];
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL });
    const responders: ResponderInfo[] = [];
    const deltas = await collect(llm, {
      ...question,
      temperature: 0.2,
      contextSize: 8192,
      maxTokens: 256,
      onResponder: (r) => responders.push(r),
    });
    expect(deltas).toEqual(['Aim', ' for', ' seven', ' to', ' nine', ' hours', '.']);
    expect(deltas.join('')).toBe('Aim for seven to nine hours.');
    expect(responders).toEqual([{ name: `ollama:${MODEL}`, kind: 'model' }]);
    expect(fake.chatBodies[0]).toMatchObject({
      model: MODEL,
      messages: question.messages,
      stream: true,
      options: { temperature: 0.2, num_ctx: 8192, num_predict: 256 },
    });
  });

  it('retries 503s before the first token and gives one reply without duplicated text', async () => {
    fake.tokens = ['Seven', ' to', ' nine', ' hours.'];
    fake.failNextChats(2, 503);
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL, retryBaseDelayMs: 10 });
    const deltas = await collect(llm);
    expect(deltas.join('')).toBe('Seven to nine hours.');
    expect(fake.chatBodies).toHaveLength(3);
  });

  it('gives up with a typed error once the retries are spent', async () => {
    fake.failNextChats(3, 503);
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL, maxRetries: 2, retryBaseDelayMs: 5 });
    const failure = await collect(llm).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LlmResponseError);
    expect(failure).toMatchObject({ statusCode: 503, retryable: true });
    expect(fake.chatBodies).toHaveLength(3);
  });

  it('never retries once text has been streamed, so nothing is said twice', async () => {
    fake.tokens = ['Seven', ' to', ' nine', ' hours.'];
    fake.breakAfterTokens = 2;
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL, retryBaseDelayMs: 5 });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const d of llm.chat(question)) {
        deltas.push(d);
        if (deltas.length === 2) fake.breakConnections();
      }
    })().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LlmStreamError);
    expect(deltas).toEqual(['Seven', ' to']);
    expect(fake.chatBodies).toHaveLength(1);
  });

  it('explains how to pull a model the server does not have', async () => {
    const llm = new OllamaLlm({ host: fake.url, defaultModel: 'mistral:7b' });
    const failure = await collect(llm).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ModelNotPulledError);
    expect((failure as Error).message).toBe(`The model "mistral:7b" is not available on the Ollama server at ${fake.url}. Run: ollama pull mistral:7b`);
    expect(fake.chatBodies).toHaveLength(1);
  });

  it('gives up on a first token that does not come in time', async () => {
    fake.firstTokenDelayMs = 10_000;
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL, firstTokenTimeoutMs: 200 });
    const startedAt = Date.now();
    const failure = await collect(llm).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LlmTimeoutError);
    expect(failure).toMatchObject({ phase: 'first-token', timeoutMs: 200 });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(fake.chatBodies).toHaveLength(1);
  });

  it('stops a reply that runs past the overall timeout', async () => {
    fake.tokens = Array.from({ length: 50 }, (_, i) => ` word${i}`);
    fake.tokenDelayMs = 50;
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL, overallTimeoutMs: 300 });
    const deltas: string[] = [];
    const failure = await (async () => {
      for await (const d of llm.chat(question)) deltas.push(d);
    })().catch((err: unknown) => err);
    expect(failure).toMatchObject({ phase: 'overall' });
    expect(deltas.length).toBeLessThan(50);
  });

  it('stops at once when the caller aborts', async () => {
    fake.firstTokenDelayMs = 10_000;
    const llm = new OllamaLlm({ host: fake.url, defaultModel: MODEL });
    const controller = new AbortController();
    const pending = collect(llm, { ...question, signal: controller.signal }).catch((err: unknown) => err);
    await waitFor(() => fake.chatBodies.length === 1, { what: 'the chat request' });
    controller.abort(new Error('user left'));
    expect(await pending).toMatchObject({ message: 'user left' });
  });

  it('reports an unreachable server as a connection error after retrying', async () => {
    const llm = new OllamaLlm({ host: await deadUrl(), defaultModel: MODEL, maxRetries: 1, retryBaseDelayMs: 5 });
    const failure = await collect(llm).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LlmConnectionError);
    expect(failure).toMatchObject({ code: 'LLM_UNREACHABLE', retryable: true });
  });
});

describe('createLlm auto provider', () => {
  const bot: BotProfile = {
    id: 'bot-1',
    name: 'Coach Ana',
    persona: '',
    language: 'en',
    settings: { temperature: 0.3, citeSources: true },
  };
  const sleepGuide: Passage = {
    documentId: 'doc-sleep',
    title: 'Sleep Guide',
    page: 4,
    text: 'Adults need seven to nine hours of sleep each night. Keep a regular bedtime, even at weekends.',
    score: 0.8,
  };
  const knowledge = { retrieve: async () => [sleepGuide] };
  const memory = {
    recentTurns: async () => [],
    summary: async () => null,
    saveSummary: async () => undefined,
    forget: async () => undefined,
  };

  it('quotes the material, and says so, when Ollama is down', async () => {
    const fallbacks: unknown[] = [];
    const llm = createLlm({ provider: 'auto', host: await deadUrl(), defaultModel: MODEL, onFallback: (e) => fallbacks.push(e) });
    const engine = new ConversationEngine({ llm, knowledge, memory });
    const result = await engine.runTurn(bot, { botId: 'bot-1', conversationId: 'c1', texts: ['How many hours of sleep do I need?'] });
    expect(result.reply).toMatch(/^I can't reach the coaching model right now, so here is what Coach Ana's material says:/);
    expect(result.sources).toEqual([{ documentId: 'doc-sleep', title: 'Sleep Guide', page: 4, location: { kind: 'page', value: 4, label: 'p. 4' } }]);
    expect(result.reply).toContain('Adults need seven to nine hours of sleep each night.');
    expect(result.reply).toMatch(/— Sleep Guide, p\. 4$/);
    expect(result.usedFallback).toBe(true);
    expect(llm.kind).toBe('extractive');
  });

  it('says it is quoting, not that a model is down, when no model server was ever set up or answered', async () => {
    const llm = createLlm({ provider: 'auto', host: await deadUrl(), hostConfigured: false, defaultModel: MODEL });
    const engine = new ConversationEngine({ llm, knowledge, memory });
    const result = await engine.runTurn(bot, { botId: 'bot-1', conversationId: 'c1', texts: ['How many hours of sleep do I need?'] });
    expect(result.reply).toMatch(/^Here is what Coach Ana's material says on this, quoted as written:/);
    expect(result.reply).not.toMatch(/can't reach/);
    expect(result.reply).toContain('Adults need seven to nine hours of sleep each night.');
  });

  it('says the model is down once a model that answered stops answering, even when it was never configured', async () => {
    const fake = await startFakeOllamaChat({ models: [MODEL], tokens: ['Seven', ' hours.'] });
    try {
      const llm = createLlm({ provider: 'auto', host: fake.url, hostConfigured: false, defaultModel: MODEL, ollama: { maxRetries: 0 } });
      expect((await collect(llm, { ...question, grounding })).join('')).toBe('Seven hours.');
      await fake.stop();
      expect((await collect(llm, { ...question, grounding })).join('')).toMatch(/^I can't reach the coaching model right now/);
    } finally {
      await fake.close();
    }
  });

  it('falls back within the same turn when Ollama fails before its first token', async () => {
    const fake = await startFakeOllamaChat({ models: [MODEL] });
    try {
      fake.failNextChats(10, 500);
      const fallbacks: unknown[] = [];
      const llm = createLlm({
        provider: 'auto',
        host: fake.url,
        defaultModel: MODEL,
        ollama: { maxRetries: 1, retryBaseDelayMs: 5 },
        onFallback: (e) => fallbacks.push(e),
      });
      const responders: ResponderInfo[] = [];
      const reply = (await collect(llm, { ...question, grounding, onResponder: (r) => responders.push(r) })).join('');
      expect(reply).toMatch(/^I can't reach the coaching model right now/);
      expect(reply).toContain('“Adults need seven to nine hours of sleep each night.');
      expect(responders).toEqual([{ name: 'extractive', kind: 'extractive' }]);
      expect(fake.chatBodies).toHaveLength(2);
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toBeInstanceOf(LlmResponseError);
    } finally {
      await fake.close();
    }
  });

  it('goes back to the model once Ollama answers again', async () => {
    const fake = await startFakeOllamaChat({ models: [MODEL], tokens: ['Seven', ' to', ' nine', ' hours.'] });
    try {
      const llm = createLlm({ provider: 'auto', host: fake.url, defaultModel: MODEL, probeIntervalMs: 100, ollama: { maxRetries: 0 } });
      expect((await collect(llm, { ...question, grounding })).join('')).toBe('Seven to nine hours.');

      await fake.stop();
      expect((await collect(llm, { ...question, grounding })).join('')).toMatch(/^I can't reach the coaching model/);
      expect(llm.kind).toBe('extractive');

      await fake.start();
      const reply = await waitFor(
        async () => {
          const text = (await collect(llm, { ...question, grounding })).join('');
          return text === 'Seven to nine hours.' ? text : undefined;
        },
        { timeoutMs: 5_000, what: 'the model to answer again' },
      );
      expect(reply).toBe('Seven to nine hours.');
      expect(llm.kind).toBe('model');
    } finally {
      await fake.close();
    }
  });
});
