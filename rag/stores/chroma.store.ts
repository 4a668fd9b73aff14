import { ChromaClient, ChromaNotFoundError, IncludeEnum, type Collection } from 'chromadb';
import type { VectorHit, VectorRecord, VectorStore } from '../types.js';

export interface ChromaVectorStoreOptions {
  /** Records per upsert request. */
  batchSize?: number;
}

/** `bot_<uuid without dashes>`: Chroma names allow only [a-zA-Z0-9._-], 3–512 characters. */
export function chromaCollectionName(botId: string): string {
  return `bot_${botId.replace(/-/g, '').toLowerCase()}`;
}

/** Splits `http(s)://host:port` into what the v3 client takes. */
export function chromaConnection(url: string): { host: string; port: number; ssl: boolean } {
  const parsed = new URL(url);
  const ssl = parsed.protocol === 'https:';
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : ssl ? 443 : 80, ssl };
}

/**
 * Vectors in a Chroma server, one collection per bot, so a query can only ever see its own bot's
 * records. Embeddings are always computed by us: collections carry no embedding function.
 */
export class ChromaVectorStore implements VectorStore {
  readonly name = 'chroma' as const;
  private readonly client: ChromaClient;
  private readonly batchSize: number;
  private readonly collections = new Map<string, Promise<Collection | undefined>>();

  constructor(url: string, options: ChromaVectorStoreOptions = {}) {
    this.client = new ChromaClient(chromaConnection(url));
    this.batchSize = options.batchSize ?? 500;
  }

  async upsert(botId: string, given: VectorRecord[]): Promise<void> {
    // One record per chunk (the last wins): Chroma rejects duplicate ids in one request.
    const records = [...new Map(given.map((r) => [r.chunkId, r])).values()];
    if (!records.length) return;
    const dims = records[0]?.embedding.length ?? 0;
    if (records.some((r) => r.embedding.length !== dims)) throw new RangeError('All embeddings of one upsert must have the same dimension');
    let collection = await this.writableCollection(botId, dims);
    if (collection.metadata?.dims !== dims) {
      // A Chroma collection holds one dimension. Vectors of another dimension came from another
      // embedding model and can never match this model's queries, so the new model replaces them.
      await this.deleteBot(botId);
      collection = await this.writableCollection(botId, dims);
    }
    for (let i = 0; i < records.length; i += this.batchSize) {
      const batch = records.slice(i, i + this.batchSize);
      const write = (c: Collection) =>
        c.upsert({
          ids: batch.map((r) => r.chunkId),
          embeddings: batch.map((r) => r.embedding),
          metadatas: batch.map((r) => ({ documentId: r.documentId })),
        });
      await this.retryingStale(botId, collection, write, dims);
    }
  }

  async query(botId: string, embedding: number[], k: number): Promise<VectorHit[]> {
    let collection = await this.collection(botId);
    if (collection && collection.metadata?.dims !== embedding.length) {
      // Another process may have replaced it for a new model since we cached it.
      this.collections.delete(botId);
      collection = await this.collection(botId);
    }
    // No collection, or one of another model's dimension: nothing comparable to rank.
    if (!collection || collection.metadata?.dims !== embedding.length) return [];
    const result = await this.retryingStale(botId, collection, (c) =>
      c.query({
        queryEmbeddings: [embedding],
        nResults: Math.max(1, Math.floor(k)),
        include: [IncludeEnum.distances, IncludeEnum.metadatas],
      }),
    );
    if (!result) return [];
    const ids = result.ids[0] ?? [];
    const distances = result.distances[0] ?? [];
    const metadatas = result.metadatas[0] ?? [];
    return ids.map((chunkId, i) => ({
      chunkId,
      documentId: String(metadatas[i]?.documentId ?? ''),
      // Cosine space: distance = 1 - cosine similarity.
      score: 1 - (distances[i] ?? 1),
    }));
  }

  async deleteChunks(botId: string, chunkIds: string[]): Promise<void> {
    if (!chunkIds.length) return;
    const collection = await this.collection(botId);
    if (collection) await this.retryingStale(botId, collection, (c) => c.delete({ ids: chunkIds }));
  }

  async deleteDocument(botId: string, documentId: string): Promise<void> {
    const collection = await this.collection(botId);
    if (collection) await this.retryingStale(botId, collection, (c) => c.delete({ where: { documentId } }));
  }

  async deleteBot(botId: string): Promise<void> {
    this.collections.delete(botId);
    try {
      await this.client.deleteCollection({ name: chromaCollectionName(botId) });
    } catch (err) {
      if (!(err instanceof ChromaNotFoundError)) throw err;
    }
  }

  async ping(): Promise<void> {
    await this.client.heartbeat();
  }

  async close(): Promise<void> {
    this.collections.clear();
  }

  private async writableCollection(botId: string, dims: number): Promise<Collection> {
    return (await this.collection(botId, dims)) as Collection;
  }

  /** The bot's collection (cached); created with `dims` when given, otherwise undefined if absent. */
  private async collection(botId: string, createWithDims?: number): Promise<Collection | undefined> {
    const cached = await this.collections.get(botId)?.catch(() => undefined);
    if (cached) return cached;
    const name = chromaCollectionName(botId);
    const pending =
      createWithDims === undefined
        ? this.client.getCollection({ name }).catch((err: unknown) => {
            if (err instanceof ChromaNotFoundError) return undefined;
            throw err;
          })
        : this.client.getOrCreateCollection({
            name,
            embeddingFunction: null,
            metadata: { dims: createWithDims },
            configuration: { hnsw: { space: 'cosine' } },
          });
    this.collections.set(botId, pending);
    const collection = await pending.catch((err: unknown) => {
      this.collections.delete(botId);
      throw err;
    });
    // Absence is not cached: another process may create the collection any moment.
    if (!collection) this.collections.delete(botId);
    return collection;
  }

  /**
   * Runs `operation`; if another process dropped (and maybe re-created) the collection since we
   * cached it, looks it up again once, re-creating it for writes (`createWithDims`). Resolves
   * undefined when the collection is gone and nothing is to be written.
   */
  private async retryingStale<T>(
    botId: string,
    collection: Collection,
    operation: (c: Collection) => Promise<T>,
    createWithDims?: number,
  ): Promise<T | undefined> {
    try {
      return await operation(collection);
    } catch (err) {
      if (!(err instanceof ChromaNotFoundError)) throw err;
      this.collections.delete(botId);
      const fresh = await this.collection(botId, createWithDims);
      return fresh ? operation(fresh) : undefined;
    }
  }
}
