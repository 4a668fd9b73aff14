import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeBaseHttpRetriever, KnowledgeBaseSearchError } from '../../rag/langchain/knowledge-base-http.retriever.js';
import { KnowledgeBaseRetriever } from '../../rag/langchain/knowledge-base.retriever.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { groundedAnswerChain, ollamaAnswerer } from '../../examples/langchain-retriever.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

// A video transcript: its cues become passages located at their first cue's time.
const habitVideo = `1
00:01:05,000 --> 00:01:09,000
Stack a new habit onto one you already have:

2
00:01:09,000 --> 00:01:14,000
floss right after you brush your teeth, every night.
`;
const sleepGuide = 'Sleep well. Keep the bedroom cool and dark, and put the phone in another room an hour before bed.';
// Another creator's bot, written to match the same questions better than the first bot's material.
const rivalNotes = 'Stack a new habit onto one you already have: floss after you brush your teeth. Habit stacking flossing brushing teeth nightly.';

const question = 'How do I stack a new habit like flossing after I brush my teeth?';

let ollama: FakeOllama;
let platform: TestPlatform;
let alice: CreatorSession;
let aliceKey: string;
let aliceBot: string;
let rivalBot: string;
const aliceDocuments = new Map<string, string>();
let rivalDocument: string;
let baseUrl: string;

beforeAll(async () => {
  ollama = await startFakeOllama({ models: ['nomic-embed-text:latest'] });
  platform = await startTestPlatform({ OLLAMA_HOST: ollama.url });
  alice = await signUpCreator(platform.app);
  aliceBot = (await createBot(platform.app, alice.auth, { name: 'Habits coach', language: 'en' })).id;
  for (const file of [
    { name: 'habit-video.srt', type: 'application/x-subrip', bytes: Buffer.from(habitVideo), title: 'Habit stacking (video)' },
    { name: 'sleep.txt', type: 'text/plain', bytes: Buffer.from(sleepGuide), title: 'Sleep guide' },
  ]) {
    const doc = await uploadAndIngest(platform.app, alice.auth, aliceBot, file, { fields: { title: file.title } });
    expect(doc.retrievalMode).toBe('hybrid');
    aliceDocuments.set(file.title, doc.id);
  }
  const bob = await signUpCreator(platform.app);
  rivalBot = (await createBot(platform.app, bob.auth, { name: 'Rival coach', language: 'en' })).id;
  rivalDocument = (await uploadAndIngest(platform.app, bob.auth, rivalBot, { name: 'rival.txt', type: 'text/plain', bytes: Buffer.from(rivalNotes) })).id;
  const created = await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: alice.auth, payload: { name: 'langchain' } });
  aliceKey = (created.json() as { key: string }).key;
  await platform.app.listen({ host: '127.0.0.1', port: 0 });
  const address = platform.app.server.address();
  if (!address || typeof address === 'string') throw new Error('the platform is not listening on a port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await platform?.stop();
  await ollama?.close();
});

describe('the knowledge base as a LangChain retriever, in process', () => {
  it('answers a chain with the bot’s own passages, their sources and scores, and never another bot’s', async () => {
    const retriever = new KnowledgeBaseRetriever({ retriever: platform.knowledge.retriever, botId: aliceBot, k: 5 });
    const result = await groundedAnswerChain(retriever).invoke(question);

    const [best, ...rest] = result.documents;
    expect(best?.pageContent).toContain('floss right after you brush your teeth');
    expect(best?.metadata).toMatchObject({
      botId: aliceBot,
      documentId: aliceDocuments.get('Habit stacking (video)'),
      title: 'Habit stacking (video)',
      location: { kind: 'time', value: 65, label: 'at 01:05' },
    });
    expect(best?.metadata.chunkId).toMatch(/^[0-9a-f-]{36}$/);
    expect(best?.id).toBe(best?.metadata.chunkId);
    const scores = result.documents.map((d) => d.metadata.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s > 0)).toBe(true);
    // Only the bot's two documents, however well the rival's notes match.
    expect(result.documents.every((d) => d.metadata.botId === aliceBot && aliceDocuments.has(d.metadata.title))).toBe(true);
    expect(result.documents.map((d) => d.metadata.documentId)).not.toContain(rivalDocument);
    expect(rest.map((d) => d.pageContent).join(' ')).not.toContain('Habit stacking flossing brushing');
    expect(result.prompt).toContain('[1] Habit stacking (video) (at 01:05)');
    expect(result.answer).toContain('[1: Habit stacking (video) (at 01:05)]');
  });

  it('asks for the number of passages it was given', async () => {
    const retriever = new KnowledgeBaseRetriever({ retriever: platform.knowledge.retriever, botId: aliceBot, k: 1 });
    const documents = await retriever.invoke('sleep phone bedroom');
    expect(documents).toHaveLength(1);
    expect(documents[0]?.metadata).toMatchObject({ title: 'Sleep guide', documentId: aliceDocuments.get('Sleep guide') });
    expect(documents[0]?.metadata.location).toBeUndefined();
  });
});

describe('the knowledge base as a LangChain retriever, over HTTP with an API key', () => {
  it('gives a chain the same passages and sources as the bot retrieves in process', async () => {
    const overHttp = new KnowledgeBaseHttpRetriever({ url: baseUrl, apiKey: aliceKey, botId: aliceBot, k: 5 });
    const inProcess = new KnowledgeBaseRetriever({ retriever: platform.knowledge.retriever, botId: aliceBot, k: 5 });
    const result = await groundedAnswerChain(overHttp).invoke(question);
    const expected = await inProcess.invoke(question);

    expect(result.documents.map((d) => d.pageContent)).toEqual(expected.map((d) => d.pageContent));
    expect(result.documents[0]?.metadata).toEqual({
      botId: aliceBot,
      documentId: aliceDocuments.get('Habit stacking (video)'),
      title: 'Habit stacking (video)',
      location: { kind: 'time', value: 65, label: 'at 01:05' },
      score: expected[0]?.metadata.score,
    });
    expect(result.documents.map((d) => d.metadata.documentId)).not.toContain(rivalDocument);
    expect(result.answer).toContain('[1: Habit stacking (video) (at 01:05)]');
  });

  it('lets a local model write the answer from the prompt the passages filled', async () => {
    ollama.models = [...ollama.models, 'llama3.2:3b'];
    ollama.chatReply = (request) => (request.messages.at(-1)?.content.includes('floss right after you brush') ? 'Floss after brushing [1].' : 'No passages.');
    const overHttp = new KnowledgeBaseHttpRetriever({ url: baseUrl, apiKey: aliceKey, botId: aliceBot, k: 3 });
    const result = await groundedAnswerChain(overHttp, ollamaAnswerer(ollama.url, 'llama3.2:3b')).invoke(question);
    expect(result.answer).toBe('Floss after brushing [1].');
    expect(ollama.chatRequests.at(-1)?.model).toBe('llama3.2:3b');
  });

  it('cannot search another creator’s bot with the key (404, as an unknown bot) nor without a valid key (401)', async () => {
    const intruding = new KnowledgeBaseHttpRetriever({ url: baseUrl, apiKey: aliceKey, botId: rivalBot });
    const error = await intruding.invoke(question).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KnowledgeBaseSearchError);
    expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND' });

    const keyless = new KnowledgeBaseHttpRetriever({ url: baseUrl, apiKey: 'not-a-key', botId: aliceBot });
    await expect(keyless.invoke(question)).rejects.toMatchObject({ status: 401 });
  });
});
