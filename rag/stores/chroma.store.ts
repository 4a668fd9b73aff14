import { createHash } from 'node:crypto';
import { ChromaClient, ChromaNotFoundError, IncludeEnum, type Collection } from 'chromadb';
import type { VectorHit, VectorRecord, VectorStore } from '../types.js';

export interface ChromaVectorStoreOptions {
  /** Records per upsert request. */
  batchSize?: number;
}

/**
 * `bot_<uuid without dashes>_<16 hex of the model name's SHA-256>`: one collection per bot and
 * embedding model (Chroma names allow only [a-zA-Z0-9._-], 3–512 characters). Without a model: the
 * bot's single collection of earlier versions, which is still read and cleaned but never written.
 */
export function chromaCollectionName(botId: string, model?: string): string {
  const bot = `bot_${botId.replace(/-/g, '').toLowerCase()}`;
  return model === undefined ? bot : `${bot}_${createHash('sha256').update(model).digest('hex').slice(0, 16)}`;
}

/** Splits `http(s)://host:port` into what the v3 client takes. */
export function chromaConnection(url: string): { host: string; port: number; ssl: boolean } {
  const parsed = new URL(url);
  const ssl = parsed.protocol === 'https:';
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : ssl ? 443 : 80, ssl };
}

// Collections listed per request when looking for all of a bot's collections.
const LIST_PAGE = 1000;

/**
 * Vectors in a Chroma server, one collection per bot and embedding model, so a query can only ever
 * see its own bot's records of one model, and models of different dimensions live side by side
 * while a bot switches between them. Embeddings are always computed by us: collections carry no
 * embedding function.
 */
export class ChromaVectorStore implements VectorStore {
  readonly name = 'chroma' as const;
  private readonly client: ChromaClient;
  private readonly batchSize: number;
  /** By collection name. */
  private readonly collections = new Map<string, Promise<Collection | undefined>>();
  /** Bots known to have no collection of earlier versions: none is ever created again. */
  private readonly withoutLegacy = new Set<string>();

  constructor(url: string, options: ChromaVectorStoreOptions = {}) {
    this.client = new ChromaClient(chromaConnection(url));
    this.batchSize = options.batchSize ?? 500;
  }

  async upsert(botId: string, given: VectorRecord[]): Promise<void> {
    // One record per chunk and model (the last wins): Chroma rejects duplicate ids in one request.
    const byModel = new Map<string, Map<string, VectorRecord>>();
    for (const record of given) {
      if (!byModel.has(record.model)) byModel.set(record.model, new Map());
      byModel.get(record.model)?.set(record.chunkId, record);
    }
    for (const [model, unique] of byModel) await this.upsertModel(botId, model, [...unique.values()]);
  }

  private async upsertModel(botId: string, model: string, records: VectorRecord[]): Promise<void> {
    const dims = records[0]?.embedding.length ?? 0;
    if (records.some((r) => r.embedding.length !== dims)) throw new RangeError('All embeddings of one model must have the same dimension');
    const name = chromaCollectionName(botId, model);
    let collection = await this.writableCollection(name, dims);
    if (collection.metadata?.dims !== dims) {
      // A Chroma collection holds one dimension; a model that changed its dimension (pulled anew)
      // made vectors that can never match its new queries, so the new ones replace them.
      await this.dropCollection(name);
      collection = await this.writableCollection(name, dims);
    }
    for (let i = 0; i < records.length; i += this.batchSize) {
      const batch = records.slice(i, i + this.batchSize);
      const write = (c: Collection) =>
        c.upsert({
          ids: batch.map((r) => r.chunkId),
          embeddings: batch.map((r) => r.embedding),
          metadatas: batch.map((r) => ({ documentId: r.documentId })),
        });
      await this.retryingStale(name, collection, write, dims);
    }
  }

  async query(botId: string, embedding: number[], k: number, model: string): Promise<VectorHit[]> {
    const limit = Math.max(1, Math.floor(k));
    // Vectors written before collections were per model sit in the bot's old collection; retrieval
    // keeps only chunks of documents searched by `model`, so they are read beside the model's own.
    const found = await Promise.all([this.queryCollection(chromaCollectionName(botId, model), embedding, limit), this.queryLegacy(botId, embedding, limit)]);
    return found
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }

  private async queryLegacy(botId: string, embedding: number[], limit: number): Promise<VectorHit[]> {
    if (this.withoutLegacy.has(botId)) return [];
    const name = chromaCollectionName(botId);
    if (!(await this.collection(name))) {
      this.withoutLegacy.add(botId);
      return [];
    }
    return this.queryCollection(name, embedding, limit);
  }

  private async queryCollection(name: string, embedding: number[], limit: number): Promise<VectorHit[]> {
    let collection = await this.collection(name);
    if (collection && collection.metadata?.dims !== embedding.length) {
      // Another process may have replaced it since we cached it.
      this.collections.delete(name);
      collection = await this.collection(name);
    }
    // No collection, or one of another dimension: nothing comparable to rank.
    if (!collection || collection.metadata?.dims !== embedding.length) return [];
    const result = await this.retryingStale(name, collection, (c) =>
      c.query({
        queryEmbeddings: [embedding],
        nResults: limit,
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

  async deleteChunks(botId: string, chunkIds: string[], models?: string[]): Promise<void> {
    if (!chunkIds.length) return;
    for (const name of await this.namesOf(botId, models)) {
      const collection = await this.collection(name);
      if (collection) await this.retryingStale(name, collection, (c) => c.delete({ ids: chunkIds }));
    }
  }

  async deleteDocument(botId: string, documentId: string, model?: string): Promise<void> {
    for (const name of await this.namesOf(botId, model === undefined ? undefined : [model])) {
      const collection = await this.collection(name);
      if (collection) await this.retryingStale(name, collection, (c) => c.delete({ where: { documentId } }));
    }
  }

  async deleteBot(botId: string): Promise<void> {
    for (const name of await this.namesOf(botId)) await this.dropCollection(name);
    this.withoutLegacy.add(botId);
  }

  async ping(): Promise<void> {
    await this.client.heartbeat();
  }

  async close(): Promise<void> {
    this.collections.clear();
  }

  /**
   * The collections to clean for `models` (with the bot's old single collection, while it exists),
   * or every collection of the bot, found by listing, when the models are not known.
   */
  private async namesOf(botId: string, models?: string[]): Promise<string[]> {
    const legacy = chromaCollectionName(botId);
    if (models) {
      const named = models.map((m) => chromaCollectionName(botId, m));
      if (this.withoutLegacy.has(botId)) return named;
      if (!(await this.collection(legacy))) {
        this.withoutLegacy.add(botId);
        return named;
      }
      return [...named, legacy];
    }
    const names: string[] = [];
    for (let offset = 0; ; offset += LIST_PAGE) {
      const page = await this.client.listCollections({ limit: LIST_PAGE, offset });
      names.push(...page.map((c) => c.name).filter((name) => name === legacy || name.startsWith(`${legacy}_`)));
      if (page.length < LIST_PAGE) break;
    }
    if (!names.includes(legacy)) this.withoutLegacy.add(botId);
    return names;
  }

  private async dropCollection(name: string): Promise<void> {
    this.collections.delete(name);
    try {
      await this.client.deleteCollection({ name });
    } catch (err) {
      if (!(err instanceof ChromaNotFoundError)) throw err;
    }
  }

  private async writableCollection(name: string, dims: number): Promise<Collection> {
    return (await this.collection(name, dims)) as Collection;
  }

  /** The collection (cached); created with `dims` when given, otherwise undefined if absent. */
  private async collection(name: string, createWithDims?: number): Promise<Collection | undefined> {
    const cached = await this.collections.get(name)?.catch(() => undefined);
    if (cached) return cached;
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
    this.collections.set(name, pending);
    const collection = await pending.catch((err: unknown) => {
      this.collections.delete(name);
      throw err;
    });
    // Absence is not cached: another process may create the collection any moment.
    if (!collection) this.collections.delete(name);
    return collection;
  }

  /**
   * Runs `operation`; if another process dropped (and maybe re-created) the collection since we
   * cached it, looks it up again once, re-creating it for writes (`createWithDims`). Resolves
   * undefined when the collection is gone and nothing is to be written.
   */
  private async retryingStale<T>(name: string, collection: Collection, operation: (c: Collection) => Promise<T>, createWithDims?: number): Promise<T | undefined> {
    try {
      return await operation(collection);
    } catch (err) {
      if (!(err instanceof ChromaNotFoundError)) throw err;
      this.collections.delete(name);
      const fresh = await this.collection(name, createWithDims);
      return fresh ? operation(fresh) : undefined;
    }
  }
}
