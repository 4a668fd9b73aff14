/** Contracts between ingestion, storage and retrieval; each back end implements one of these. */

/** Text extracted from a source, with page numbers where the format has pages. */
export interface LoadedDocument {
  title?: string | undefined;
  /** One entry per page (PDF) or a single entry for formats without pages. */
  pages: Array<{ page?: number; text: string }>;
  /** Markdown-aware splitting applies when the extracted text is Markdown. */
  format: 'text' | 'markdown';
}

export interface LoadInput {
  bytes: Uint8Array;
  mediaType: string;
  filename?: string | undefined;
  sourceUrl?: string | undefined;
}

/** Turns bytes of one media type into text. Throws DocumentLoadError for unreadable input. */
export interface Loader {
  readonly mediaTypes: readonly string[];
  load(input: LoadInput): Promise<LoadedDocument>;
}

/** A piece of a document as stored and retrieved. */
export interface ChunkDraft {
  ordinal: number;
  page?: number;
  text: string;
}

export interface Splitter {
  split(document: LoadedDocument): Promise<ChunkDraft[]>;
}

/** Computes embeddings; `model` names what produced them so vectors of different models never mix. */
export interface Embedder {
  readonly model: string;
  /** Resolves false when no embedding model can be reached; documents are then stored lexical-only. */
  available(): Promise<boolean>;
  embed(texts: string[]): Promise<number[][]>;
}

export interface VectorRecord {
  chunkId: string;
  documentId: string;
  embedding: number[];
}

export interface VectorHit {
  chunkId: string;
  documentId: string;
  /** Cosine similarity, higher is closer. */
  score: number;
}

/** A live chunk of a document, as retrieval shows it. */
export interface ChunkPassage {
  chunkId: string;
  documentId: string;
  title: string;
  text: string;
  page: number | null;
}

/** A live chunk found by its embedding. */
export interface VectorPassage extends ChunkPassage {
  /** Cosine similarity, higher is closer. */
  score: number;
}

/**
 * Where embeddings live. Every operation is scoped to one bot; a query never sees another bot's
 * vectors, because the store filters by bot before ranking.
 */
export interface VectorStore {
  readonly name: 'pgvector' | 'chroma';
  upsert(botId: string, records: VectorRecord[]): Promise<void>;
  query(botId: string, embedding: number[], k: number): Promise<VectorHit[]>;
  /**
   * Offered by stores that live beside the chunks (pgvector): the `k` nearest vectors, of which only
   * those whose chunk is still live come back, with its passage, best first; documents embedded by
   * another model than `embeddingModel` are left out. Retrieval then needs no second lookup; other
   * stores answer `query` and retrieval reads the passages from the database.
   */
  queryPassages?(botId: string, embedding: number[], k: number, embeddingModel: string | undefined): Promise<VectorPassage[]>;
  deleteChunks(botId: string, chunkIds: string[]): Promise<void>;
  deleteDocument(botId: string, documentId: string): Promise<void>;
  deleteBot(botId: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A passage returned by retrieval, ready to be shown or quoted. */
export interface RetrievedPassage {
  chunkId: string;
  documentId: string;
  title: string;
  text: string;
  page?: number;
  /** Fused relevance score; higher is better. */
  score: number;
}

export interface RetrieveOptions {
  k: number;
}

/** Hybrid retrieval over one bot's knowledge base; the conversation engine uses the same one. */
export interface Retriever {
  retrieve(botId: string, query: string, options: RetrieveOptions): Promise<RetrievedPassage[]>;
}

/** The source could not be turned into text; the message is shown to the creator as-is. */
export class DocumentLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentLoadError';
  }
}
