import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OllamaEmbedder } from '../../rag/embedders/ollama.embedder.js';
import { EmbedderEmbeddings } from '../../rag/langchain/embedder.embeddings.js';
import { KnowledgeBaseVectorStore, type KnowledgeBaseVectorStoreArgs } from '../../rag/langchain/knowledge-base.vectorstore.js';
import { HybridRetriever } from '../../rag/retrieve.js';
import { ChromaVectorStore } from '../../rag/stores/chroma.store.js';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import type { VectorStore } from '../../rag/types.js';
import { ChunkSearchRepository } from '../../src/db/chunk-search.repository.js';
import { PassageRepository } from '../../src/db/passage.repository.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const MODEL = 'nomic-embed-text:latest';

const habitPassages = [
  { pageContent: 'Floss right after you brush your teeth, every night, so the old habit cues the new one.', metadata: { title: 'Habit stacking', location: { kind: 'time', value: 65 } } },
  { pageContent: 'Keep the bedroom cool and dark and leave the phone in another room before bed.', metadata: { title: 'Sleep guide', page: 3 } },
  { pageContent: 'Write tomorrow’s three priorities on paper before you close the laptop.', metadata: { title: 'Planning' } },
];

let ollama: FakeOllama;
let database: TestDatabase;
let embeddings: EmbedderEmbeddings;

beforeAll(async () => {
  ollama = await startFakeOllama({ models: [MODEL] });
  database = await createTestDatabase();
  embeddings = new EmbedderEmbeddings(new OllamaEmbedder({ host: ollama.url, model: MODEL, batchSize: 16 }));
});
afterAll(async () => {
  await database?.drop();
  await ollama?.close();
});

async function createBotRow(): Promise<string> {
  const { rows: creators } = await database.pool.query<{ id: string }>(
    `INSERT INTO creators (email, name, password_hash) VALUES ($1, 'Coach', 'x') RETURNING id`,
    [`${randomUUID()}@example.test`],
  );
  const { rows } = await database.pool.query<{ id: string }>(`INSERT INTO bots (creator_id, name, language) VALUES ($1, 'Coach', 'en') RETURNING id`, [creators[0]!.id]);
  return rows[0]!.id;
}

// The LangChain view of every vector store the platform runs on (DESIGN.md, convention 3).
const stores: Array<[string, () => VectorStore]> = [
  ['pgvector', () => new PgVectorStore(database.pool)],
  ['chroma', () => new ChromaVectorStore(inject('chromaUrl'))],
];

describe.each(stores)('LangChain VectorStore over %s', (_name, makeStore) => {
  let vectors: VectorStore;
  let args: (botId: string) => KnowledgeBaseVectorStoreArgs;

  beforeAll(() => {
    vectors = makeStore();
    const passages = new ChunkSearchRepository(database.pool);
    const writer = new PassageRepository(database.pool);
    args = (botId) => ({ botId, vectors, passages, writer });
  });
  afterAll(async () => {
    await vectors?.close();
  });

  it('adds documents to a bot and finds the nearest with their text, source and similarity', async () => {
    const botId = await createBotRow();
    const store = await KnowledgeBaseVectorStore.fromDocuments(habitPassages, embeddings, args(botId));
    const found = await store.similaritySearchWithScore('floss after I brush my teeth', 3);

    expect(found).toHaveLength(3);
    const [[best, bestScore]] = found as [[(typeof found)[0][0], number]];
    expect(best.pageContent).toBe(habitPassages[0]!.pageContent);
    expect(best.metadata).toMatchObject({ botId, title: 'Habit stacking', location: { kind: 'time', value: 65, label: 'at 01:05' }, score: bestScore });
    expect(best.id).toBe(best.metadata.chunkId);
    expect(found[1]?.[0].metadata).not.toHaveProperty('location');
    expect(found.find(([d]) => d.metadata.title === 'Sleep guide')?.[0].metadata).toMatchObject({ page: 3, location: { kind: 'page', value: 3, label: 'p. 3' } });
    const scores = found.map(([, score]) => score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(bestScore).toBeCloseTo(await cosineTo(habitPassages[0]!.pageContent, 'floss after I brush my teeth'), 5);
    expect((await store.similaritySearch('floss', 1)).length).toBe(1);
  });

  it('keeps a chapter or export path given in metadata, so the passage is cited by it', async () => {
    const botId = await createBotRow();
    const store = new KnowledgeBaseVectorStore(embeddings, args(botId));
    await store.addDocuments([
      { pageContent: 'Dim the lights an hour before bed to wind down.', metadata: { title: 'The Sleep Book', location: { kind: 'chapter', value: 3, section: 'Chapter 3: Winding down' } } },
      { pageContent: 'Breathe out longer than you breathe in.', metadata: { title: 'Notion export', location: { kind: 'path', value: 1, section: 'Course/Week 1/Breathing' } } },
    ]);
    const [chapter] = await store.similaritySearch('Dim the lights an hour before bed to wind down.', 1);
    expect(chapter!.metadata.location).toEqual({ kind: 'chapter', value: 3, section: 'Chapter 3: Winding down', label: 'ch. 3 “Winding down”' });
    const [path] = await store.similaritySearch('Breathe out longer than you breathe in.', 1);
    expect(path!.metadata.location).toEqual({ kind: 'path', value: 1, section: 'Course/Week 1/Breathing', label: 'Course/Week 1/Breathing' });
  });

  it('keeps each bot to itself: neither sees the other’s documents, nor deletes them', async () => {
    const [aliceBot, bobBot] = [await createBotRow(), await createBotRow()];
    const alice = await KnowledgeBaseVectorStore.fromDocuments(habitPassages, embeddings, args(aliceBot));
    const bob = new KnowledgeBaseVectorStore(embeddings, args(bobBot));
    const [bobId] = await bob.addDocuments([{ pageContent: 'Floss right after you brush your teeth, every single night.', metadata: { title: 'Bob’s notes' } }]);

    const seenByBob = await bob.similaritySearch(habitPassages[0]!.pageContent, 10);
    expect(seenByBob.map((d) => d.metadata.title)).toEqual(['Bob’s notes']);
    expect(seenByBob[0]?.metadata.botId).toBe(bobBot);
    const seenByAlice = await alice.similaritySearch('Floss right after you brush your teeth, every single night.', 10);
    expect(seenByAlice.map((d) => d.metadata.title).sort()).toEqual(['Habit stacking', 'Planning', 'Sleep guide']);

    await alice.delete({ ids: [bobId!] });
    expect((await bob.similaritySearch('floss', 10)).map((d) => d.id)).toEqual([bobId]);
  });

  it('puts added documents in the bot’s knowledge base: its hybrid retrieval finds them by full text and by vector', async () => {
    const botId = await createBotRow();
    await KnowledgeBaseVectorStore.fromTexts(
      habitPassages.map((p) => p.pageContent),
      habitPassages.map((p) => p.metadata),
      embeddings,
      args(botId),
    );
    const lexicalOnly = new HybridRetriever(new ChunkSearchRepository(database.pool), vectors, undefined);
    expect((await lexicalOnly.retrieve(botId, 'priorities laptop', { k: 1 }))[0]?.title).toBe('Planning');
    const hybrid = new HybridRetriever(new ChunkSearchRepository(database.pool), vectors, { model: MODEL, available: async () => true, embed: (t) => embeddings.embedDocuments(t) });
    const [best] = await hybrid.retrieve(botId, 'bedroom phone', { k: 3 });
    expect(best?.title).toBe('Sleep guide');
    // Fused from both lists: more than one full-text rank alone is worth (1 / 61).
    expect(best?.score).toBeGreaterThan(1 / 61);
  });

  it('deletes by id from vectors and full text, and replaces a passage added again under its id', async () => {
    const botId = await createBotRow();
    const store = new KnowledgeBaseVectorStore(embeddings, args(botId));
    const ids = await store.addDocuments(habitPassages);
    expect(ids).toHaveLength(3);

    await store.delete({ ids: [ids[2]!] });
    expect((await store.similaritySearch('priorities laptop', 10)).map((d) => d.metadata.title)).not.toContain('Planning');
    const lexicalOnly = new HybridRetriever(new ChunkSearchRepository(database.pool), vectors, undefined);
    expect(await lexicalOnly.retrieve(botId, 'priorities laptop', { k: 5 })).toEqual([]);

    await store.addDocuments([{ pageContent: 'Floss before you brush, then rinse.', metadata: { title: 'Habit stacking' } }], { ids: [ids[0]!] });
    const found = await store.similaritySearch('floss brush', 10);
    expect(found.filter((d) => d.id === ids[0]).map((d) => d.pageContent)).toEqual(['Floss before you brush, then rinse.']);
    expect(found).toHaveLength(2);
  });

  it('opens an existing knowledge base read-only without a writer', async () => {
    const botId = await createBotRow();
    await KnowledgeBaseVectorStore.fromDocuments(habitPassages, embeddings, args(botId));
    const { writer: _writer, ...readOnly } = args(botId);
    const existing = await KnowledgeBaseVectorStore.fromExistingIndex(embeddings, readOnly);
    const retriever = existing.asRetriever(1);
    expect((await retriever.invoke('three priorities on paper'))[0]?.metadata.title).toBe('Planning');
    await expect(existing.addDocuments(habitPassages)).rejects.toThrow(/read-only/);
    await expect(existing.similaritySearch('floss', 1, { documentId: 'x' } as never)).rejects.toThrow(/no filter/);
  });

  it('refuses to add to a bot that does not exist, writing nothing', async () => {
    const store = new KnowledgeBaseVectorStore(embeddings, args(randomUUID()));
    await expect(store.addDocuments(habitPassages)).rejects.toThrow(/does not exist/);
    const { rows } = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE bot_id = $1', [store.botId]);
    expect(rows[0]?.n).toBe(0);
  });
});

async function cosineTo(a: string, b: string): Promise<number> {
  const [x, y] = await embeddings.embedDocuments([a, b]);
  return x!.reduce((sum, v, i) => sum + v * y![i]!, 0);
}
