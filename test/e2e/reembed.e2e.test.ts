/**
 * Changing the embedding model re-embeds a bot's documents in the background: retrieval answers
 * from the old vectors until each document's new ones are complete, then switches; the old vectors
 * go. Two fake embedding models of different dimensions; a gate holds the new model's requests to
 * observe the state in between (reembed-crash.e2e.test.ts: a worker killed mid-way).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { freePort } from '../support/free-port.js';
import { startGatedOllama, type GatedOllama } from '../support/gated-ollama.js';
import { DIMS, NEW_MODEL, OLD_MODEL, guide, reembedEnv as env } from '../support/reembed-fixtures.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

interface DocumentView {
  id: string;
  chunks: number;
  embeddingModel?: string;
  reembedding?: { model: string; chunksDone: number; progress: number };
}

/** Models the fake was asked to embed with since `from` (requests, in order). */
function embedModels(ollama: FakeOllama, from: number): string[] {
  return ollama.requests.slice(from).flatMap((r) => (r.path === '/api/embed' ? [String((r.body as { model: string }).model)] : []));
}

const stores: Array<[string, () => Record<string, string>]> = [
  ['pgvector', () => ({})],
  ['chroma', () => ({ VECTOR_STORE: 'chroma', CHROMA_URL: inject('chromaUrl') })],
];

describe.each(stores)('a bot switching its embedding model (per-bot setting, %s)', (_store, storeEnv) => {
  let ollama: FakeOllama;
  let gate: GatedOllama;
  let platform: TestPlatform;
  let creator: CreatorSession;
  let base: string;
  const streams: LiveSse[] = [];

  beforeAll(async () => {
    ollama = await startFakeOllama({ models: [OLD_MODEL, NEW_MODEL, 'llama3.2:3b'], modelDims: DIMS });
    gate = await startGatedOllama(ollama.url, { holdPath: '/api/embed', holdModel: NEW_MODEL });
    platform = await startTestPlatform({ ...env, ...storeEnv(), OLLAMA_HOST: gate.url, OLLAMA_EMBED_MODEL: OLD_MODEL });
    const port = await freePort();
    await platform.app.listen({ host: '127.0.0.1', port });
    base = `http://127.0.0.1:${port}`;
    creator = await signUpCreator(platform.app);
  });
  afterAll(async () => {
    for (const stream of streams) stream.drop();
    // The gate first: a held request would keep the worker, and so the platform's shutdown, waiting.
    await gate?.close();
    await platform?.stop();
    await ollama?.close();
  });

  it('keeps answering from the old vectors until each document’s new ones are complete, then uses only the new model', async () => {
    const app = platform.app;
    const botId = (await createBot(app, creator.auth, { name: 'Sleep coach', language: 'en' })).id;
    const docs = [
      await uploadAndIngest(app, creator.auth, botId, { name: 'sleep.md', type: 'text/markdown', bytes: guide('Sleep guide', 0) }),
      await uploadAndIngest(app, creator.auth, botId, { name: 'habits.md', type: 'text/markdown', bytes: guide('Habit guide', 4) }),
    ];
    const totalChunks = docs.reduce((n, d) => n + d.chunks, 0);
    expect(totalChunks).toBeGreaterThanOrEqual(10);
    // Each model's vectors of the bot, as the store holds them (any text: every chunk is among the 100 nearest).
    const vectorIds = async (model: string) =>
      (await platform.knowledge.vectorStore.query(botId, ollama.embedding('sleep habits', model), 100, model)).map((h) => h.chunkId);
    expect(await vectorIds(OLD_MODEL)).toHaveLength(totalChunks);
    expect(await vectorIds(NEW_MODEL)).toEqual([]);
    const events = await openSse(`${base}/v1/bots/${botId}/events`, { headers: creator.auth });
    streams.push(events);
    await events.waitFor((e) => e.event === 'ready');

    const search = async (q: string) => {
      const response = await app.inject({ url: `/v1/bots/${botId}/search?q=${encodeURIComponent(q)}&k=3`, headers: creator.auth });
      expect(response.statusCode).toBe(200);
      return (response.json() as { results: Array<{ documentId: string; text: string }> }).results;
    };
    const listed = async () => ((await app.inject({ url: `/v1/bots/${botId}/documents`, headers: creator.auth })).json() as { documents: DocumentView[] }).documents;

    const patched = await app.inject({ method: 'PATCH', url: `/v1/bots/${botId}`, headers: creator.auth, payload: { settings: { embeddingModel: NEW_MODEL } } });
    expect(patched.statusCode).toBe(200);
    expect((patched.json() as { settings: { embeddingModel: string } }).settings.embeddingModel).toBe(NEW_MODEL);

    // The new model's first batch is held: every document is still searched by the old vectors.
    await gate.waitForHeld(1);
    const during = await listed();
    expect(during.map((d) => [d.embeddingModel, d.reembedding?.model])).toEqual([
      [OLD_MODEL, NEW_MODEL],
      [OLD_MODEL, NEW_MODEL],
    ]);
    const before = ollama.requests.length;
    const answers = await search('how long should a nap be after lunch');
    expect(answers.map((a) => a.text).join('\n')).toContain('nap of twenty minutes');
    // The question was embedded by the model the documents are searched by now, not the held one.
    expect(embedModels(ollama, before)).toEqual([OLD_MODEL]);
    expect(await vectorIds(OLD_MODEL)).toHaveLength(totalChunks);

    gate.release();
    // Progress is reported chunk batch by chunk batch, then the switch, per document.
    for (const doc of docs) {
      await events.waitFor((e) => e.event === 'reembed' && e.data.documentId === doc.id && e.data.status === 'switched', `${doc.id} switched`);
    }
    const progress = events.events.filter((e) => e.event === 'reembed' && e.data.documentId === docs[0]!.id && e.data.status === 'embedding').map((e) => e.data.done);
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(docs[0]!.chunks / 2));
    expect(progress).toEqual([...progress].sort((a, b) => Number(a) - Number(b)));
    expect(progress.at(-1)).toBe(docs[0]!.chunks);

    const after = await listed();
    expect(after.map((d) => [d.embeddingModel, d.reembedding])).toEqual([
      [NEW_MODEL, undefined],
      [NEW_MODEL, undefined],
    ]);
    // The old model's vectors are gone; each chunk has exactly one of the new model's, of its dimension.
    await waitFor(async () => (await vectorIds(OLD_MODEL)).length === 0 || undefined, { what: 'the old vectors to be deleted' });
    const renewed = await vectorIds(NEW_MODEL);
    expect(new Set(renewed).size).toBe(totalChunks);
    expect(renewed).toHaveLength(totalChunks);
    const afterSwitch = ollama.requests.length;
    expect((await search('how long should a nap be after lunch')).map((a) => a.text).join('\n')).toContain('nap of twenty minutes');
    expect(embedModels(ollama, afterSwitch)).toEqual([NEW_MODEL]);

    // A document added now is embedded by the bot's model straight away and needs no re-embedding.
    const later = await uploadAndIngest(app, creator.auth, botId, { name: 'later.md', type: 'text/markdown', bytes: guide('Later guide', 7) });
    expect(later.embeddingModel).toBe(NEW_MODEL);
    expect((await listed()).map((d) => d.reembedding)).toEqual([undefined, undefined, undefined]);
  });
});
