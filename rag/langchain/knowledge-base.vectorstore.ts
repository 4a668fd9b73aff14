import type { Document, DocumentInterface } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';
import type { ChunkPassage, ChunkSearch, PassageDraft, PassageWriter, SourceLocation, VectorStore as PassageVectorStore } from '../types.js';
import { EmbedderEmbeddings } from './embedder.embeddings.js';
import { passageDocument, type PassageMetadata } from './passage.document.js';

export interface KnowledgeBaseVectorStoreArgs {
  /** The bot whose knowledge base this is; every read and write stays inside it. */
  botId: string;
  /** Where the platform keeps vectors (pgvector or Chroma). */
  vectors: PassageVectorStore;
  /** Reads the live passages behind vectors. */
  passages: Pick<ChunkSearch, 'passages'>;
  /** Writes passages; without one the store is read-only. */
  writer?: PassageWriter;
  /**
   * The model the embeddings come from: passages of other models are left out of searches and
   * added passages are recorded with it. Taken from EmbedderEmbeddings when not given; required otherwise.
   */
  embeddingModel?: string;
}

/** The store searches one bot as a whole; LangChain filters are not taken. */
type NoFilter = never;

/**
 * One bot's vectors as a LangChain vector store, over the platform's own store (pgvector or Chroma).
 * Searches see only the bot's live passages embedded by the same model. Added documents become
 * passages of the bot (one document per `metadata.title`), so the bot's hybrid retrieval finds them
 * by full text and by vector alike.
 */
export class KnowledgeBaseVectorStore extends VectorStore {
  declare FilterType: NoFilter;
  readonly botId: string;
  readonly embeddingModel: string;
  private readonly vectors: PassageVectorStore;
  private readonly passages: Pick<ChunkSearch, 'passages'>;
  private readonly writer: PassageWriter | undefined;

  constructor(embeddings: EmbeddingsInterface, args: KnowledgeBaseVectorStoreArgs) {
    super(embeddings, args);
    this.botId = args.botId;
    this.vectors = args.vectors;
    this.passages = args.passages;
    this.writer = args.writer;
    const model = args.embeddingModel ?? (embeddings instanceof EmbedderEmbeddings ? embeddings.model : undefined);
    // Vectors are kept per model: one of another model's dimension and meaning must never be mixed in.
    if (!model) throw new Error('Name the embedding model the vectors come from (embeddingModel)');
    this.embeddingModel = model;
  }

  // Called by the base constructor, before this class's fields are set.
  _vectorstoreType(): string {
    return 'coachbot-knowledge-base';
  }

  /** The bot's existing knowledge base, searchable (and writable with a writer) as it is. */
  static async fromExistingIndex(embeddings: EmbeddingsInterface, args: KnowledgeBaseVectorStoreArgs): Promise<KnowledgeBaseVectorStore> {
    return new KnowledgeBaseVectorStore(embeddings, args);
  }

  /** Adds `docs` to the bot's knowledge base and returns the store over it. */
  static override async fromDocuments(docs: DocumentInterface[], embeddings: EmbeddingsInterface, args: KnowledgeBaseVectorStoreArgs): Promise<KnowledgeBaseVectorStore> {
    const store = new KnowledgeBaseVectorStore(embeddings, args);
    await store.addDocuments(docs);
    return store;
  }

  /** Adds one passage per text (metadata by index, or one for all) and returns the store over them. */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: KnowledgeBaseVectorStoreArgs,
  ): Promise<KnowledgeBaseVectorStore> {
    const docs = texts.map((pageContent, i) => ({
      pageContent,
      metadata: (Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {},
    })) as DocumentInterface[];
    return KnowledgeBaseVectorStore.fromDocuments(docs, embeddings, args);
  }

  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  /**
   * Stores the documents as passages of the bot (`metadata.title`, else "Added passages"; `page`
   * and `location` kept) and their vectors; resolves to their chunk ids. If the vectors cannot be
   * stored, the passages are removed again.
   */
  async addVectors(vectors: number[][], documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    if (!this.writer) throw new Error('This knowledge-base vector store was opened read-only (no passage writer)');
    if (vectors.length !== documents.length) throw new RangeError(`${vectors.length} vectors for ${documents.length} documents`);
    if (options?.ids && options.ids.length !== documents.length) throw new RangeError(`${options.ids.length} ids for ${documents.length} documents`);
    if (!documents.length) return [];
    const drafts = documents.map((doc, i) => draftOf(doc, options?.ids?.[i] ?? doc.id));
    const added = await this.writer.addPassages(this.botId, drafts, this.embeddingModel);
    if (!added) throw new Error(`Bot ${this.botId} does not exist`);
    try {
      await this.vectors.upsert(
        this.botId,
        added.map((ids, i) => ({ chunkId: ids.chunkId, documentId: ids.documentId, model: this.embeddingModel, embedding: vectors[i] as number[] })),
      );
    } catch (err) {
      await this.writer.removePassages(this.botId, added.map((a) => a.chunkId)).catch(() => undefined);
      throw err;
    }
    return added.map((a) => a.chunkId);
  }

  async similaritySearchVectorWithScore(query: number[], k: number, filter?: this['FilterType']): Promise<[Document<PassageMetadata>, number][]> {
    if (filter !== undefined) throw new Error('This store searches one bot as a whole and takes no filter');
    let found: Array<ChunkPassage & { score: number }>;
    if (this.vectors.queryPassages) {
      found = await this.vectors.queryPassages(this.botId, query, k, this.embeddingModel);
    } else {
      // Vectors may outlive their chunks briefly: only live passages of the same model count.
      const hits = await this.vectors.query(this.botId, query, k, this.embeddingModel);
      const live = new Map((await this.passages.passages(this.botId, hits.map((h) => h.chunkId), this.embeddingModel)).map((p) => [p.chunkId, p]));
      found = hits.flatMap((h) => {
        const passage = live.get(h.chunkId);
        return passage ? [{ ...passage, score: h.score }] : [];
      });
    }
    return found.map((p) => [passageDocument(this.botId, p), p.score]);
  }

  /** Removes the bot's passages of the given ids and their vectors; ids of other bots are ignored. */
  override async delete(params: { ids: string[] }): Promise<void> {
    if (!this.writer) throw new Error('This knowledge-base vector store was opened read-only (no passage writer)');
    const removed = await this.writer.removePassages(this.botId, params.ids);
    await this.vectors.deleteChunks(this.botId, removed);
  }
}

const LOCATION_KINDS = new Set(['page', 'slide', 'time', 'row', 'chapter', 'path']);

function locationOf(value: unknown): SourceLocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, value: at, section } = value as { kind?: unknown; value?: unknown; section?: unknown };
  if (typeof kind !== 'string' || !LOCATION_KINDS.has(kind) || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  return { kind: kind as SourceLocation['kind'], value: at, ...(typeof section === 'string' && section.trim() ? { section: section.trim() } : {}) };
}

function draftOf(doc: DocumentInterface, id: string | undefined): PassageDraft {
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>;
  const title = typeof metadata.title === 'string' && metadata.title.trim() ? metadata.title.trim() : 'Added passages';
  const page = typeof metadata.page === 'number' && Number.isInteger(metadata.page) ? metadata.page : undefined;
  const location = locationOf(metadata.location);
  return { title, text: doc.pageContent, ...(id ? { id } : {}), ...(page === undefined ? {} : { page }), ...(location ? { location } : {}) };
}
