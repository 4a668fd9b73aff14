/** Contracts between ingestion, storage and retrieval; each back end implements one of these. */
import type { LocationKind } from '../src/text/location-label.js';

/**
 * Where in its source a passage sits, for citations: a page (PDF), a slide, a time in seconds
 * from the start of a video or recording (subtitles), a spreadsheet row (`section` naming its sheet),
 * an e-book chapter by its number in reading order, or an export's file by its number in path order.
 */
export interface SourceLocation {
  kind: LocationKind;
  value: number;
  /** A workbook row's sheet, a chapter's title, an export file's folder path; absent for a CSV's rows and for other kinds. */
  section?: string;
}

/** A question and the creator's answer to it, found in a document (an FAQ sheet). */
export interface FaqDraft {
  question: string;
  answer: string;
  location?: SourceLocation;
}

/** Text extracted from a source, with page numbers (or another location) where the format has them. */
export interface LoadedDocument {
  title?: string | undefined;
  /**
   * One entry per page (PDF), per passage of a transcript (located by `location`, at its first cue),
   * or a single entry for formats without locations. `page` is kept for pages; `location` names the others.
   */
  pages: Array<{
    page?: number;
    location?: SourceLocation;
    /**
     * The part of the source the entry is (an e-book's chapter, a file's folder path in an export),
     * written above every chunk cut from it, so a passage found alone still says where it comes from.
     */
    section?: string;
    text: string;
  }>;
  /** Markdown-aware splitting applies when the extracted text is Markdown. */
  format: 'text' | 'markdown';
  /** Question/answer pairs, for a document that is an FAQ sheet. */
  faqs?: FaqDraft[];
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
  /** Set for locations other than pages (slides, times); a chunk never spans two of them. */
  location?: SourceLocation;
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
  /** The embedding model that produced the vector; a chunk holds one vector per model. */
  model: string;
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
  /** The page, slide or time the chunk sits at; null when its source has no locations. */
  location: SourceLocation | null;
}

/** A live chunk found by its embedding. */
export interface VectorPassage extends ChunkPassage {
  /** Cosine similarity, higher is closer. */
  score: number;
}

/**
 * Where embeddings live. Every operation is scoped to one bot; a query never sees another bot's
 * vectors, because the store filters by bot before ranking. Vectors are kept per embedding model
 * (a chunk has one per model), so a document can be re-embedded by a new model beside its old vectors.
 */
export interface VectorStore {
  readonly name: 'pgvector' | 'chroma';
  upsert(botId: string, records: VectorRecord[]): Promise<void>;
  /** The `k` nearest vectors made by `model`. */
  query(botId: string, embedding: number[], k: number, model: string): Promise<VectorHit[]>;
  /**
   * Offered by stores that live beside the chunks (pgvector): the `k` nearest vectors of `model`, of
   * which only those whose chunk is still live and whose document is searched by `model` (its
   * embedding_model) come back, with its passage, best first. Retrieval then needs no second lookup;
   * other stores answer `query` and retrieval reads the passages from the database.
   */
  queryPassages?(botId: string, embedding: number[], k: number, model: string): Promise<VectorPassage[]>;
  /** Removes the chunks' vectors of every model, or only of `models` when given (a hint that spares a search). */
  deleteChunks(botId: string, chunkIds: string[], models?: string[]): Promise<void>;
  /** Removes the document's vectors of every model, or only those of `model`. */
  deleteDocument(botId: string, documentId: string, model?: string): Promise<void>;
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
  /** The page, slide or time the passage sits at, when its source has locations. */
  location?: SourceLocation;
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

/** How a document's chunks can be found: by vector and full text, or by full text alone (no embedder). */
export type RetrievalMode = 'hybrid' | 'lexical';

/** What retrieval needs to know about a bot before searching it. */
export interface BotSearchProfile {
  language: string;
  /**
   * The embedding models the bot's documents are searched by (each document's active model). Two
   * while documents are being switched to a new model; the question is embedded by each.
   */
  vectorModels: string[];
}

/**
 * The full-text side of retrieval and the lookups around it (src/db/chunk-search.repository.ts).
 * Every method is scoped to one bot and only ever sees its live chunks (a document's last successful ingestion).
 */
export interface ChunkSearch {
  /** Null when the bot does not exist. */
  profile(botId: string): Promise<BotSearchProfile | null>;
  /**
   * Chunks matching any of `words` (stemmed and stop words dropped with text-search `config`),
   * best first by BM25 over the bot's own collection statistics.
   */
  lexical(botId: string, config: string, words: string, limit: number): Promise<ChunkPassage[]>;
  /**
   * The given chunks that are still live, in no particular order; documents searched by another model
   * than `embeddingModel` are left out. Used for vector stores that cannot join the chunks themselves
   * (VectorStore.queryPassages).
   */
  passages(botId: string, chunkIds: string[], embeddingModel: string | undefined): Promise<ChunkPassage[]>;
}

/** A bot's FAQ pair sharing words with a question, with its question's terms (stemmed, stop words dropped). */
export interface FaqCandidate {
  id: string;
  documentId: string | null;
  question: string;
  answer: string;
  terms: string[];
}

/** What scoring a question against a bot's FAQ questions needs: the candidates and how rare each term is. */
export interface FaqCandidates {
  /** The question's terms in the same configuration as the pairs'. */
  queryTerms: string[];
  /** The bot's pairs in all. */
  pairCount: number;
  /** Per term of the question and the candidates: how many of the bot's FAQ questions hold it. */
  documentFrequency: Map<string, number>;
  candidates: FaqCandidate[];
}

/** Full-text lookups over one bot's FAQ pairs (src/db/faq.repository.ts). */
export interface FaqSearch {
  /** The pairs whose question shares the most terms with `question` (at most `limit`), in text-search `config`. */
  candidates(botId: string, config: string, question: string, limit: number): Promise<FaqCandidates>;
}

/** A passage added as it is, without a source to read (e.g. from a LangChain vector store). */
export interface PassageDraft {
  /** Given ids (UUIDs) replace the bot's chunks of the same ids; otherwise new ones are made. */
  id?: string;
  /** Passages of one title make one document of the bot. */
  title: string;
  text: string;
  page?: number;
  location?: SourceLocation;
}

/**
 * Adds and removes single passages of one bot (src/db/passage.repository.ts). Added passages become
 * ready documents at once, searchable by full text like any ingested chunk.
 */
export interface PassageWriter {
  /**
   * Stores the passages in one transaction; `embeddingModel` is the model their vectors come from
   * (null: full text only). Resolves to their ids in order, or null when the bot does not exist.
   */
  addPassages(botId: string, passages: PassageDraft[], embeddingModel: string | null): Promise<Array<{ chunkId: string; documentId: string }> | null>;
  /** Removes those of the chunks that are the bot's (and documents left empty); resolves to the ids removed. */
  removePassages(botId: string, chunkIds: string[]): Promise<string[]>;
}

/** The document as ingestion needs it: where its bytes come from and what its chunks were built from. */
export interface IngestTarget {
  id: string;
  botId: string;
  /** The bot's language; it picks the full-text search configuration. */
  botLanguage: string;
  title: string;
  sourceKind: 'upload' | 'url';
  sourceUrl: string | null;
  filename: string | null;
  mediaType: string | null;
  /** Hash of the source the current chunks were built from; null before the first success. */
  ingestedHash: string | null;
  retrievalMode: RetrievalMode | null;
  embeddingModel: string | null;
  /** The model the bot asks for in its settings; null: the deployment's (OLLAMA_EMBED_MODEL). */
  botEmbeddingModel: string | null;
  /** The model the document is being re-embedded with, if any; its vectors go with the old chunks. */
  reembedModel: string | null;
}

/** Everything that replaces a document's chunks, committed in one transaction. */
export interface ChunkReplacement {
  botId: string;
  documentId: string;
  chunks: Array<{ id: string; ordinal: number; page: number | null; location: SourceLocation | null; text: string }>;
  tsConfig: string;
  contentHash: string;
  sizeBytes: number;
  mediaType: string;
  pageCount: number | null;
  retrievalMode: RetrievalMode;
  embeddingModel: string | null;
  /** Set when the source named itself and the creator gave no title of their own. */
  title?: string;
  /** The document's FAQ pairs, replacing those it had (absent or empty: it has none any more). */
  faqs?: FaqDraft[];
}

/** Persistence port of the pipeline (src/db/document.repository.ts implements it). */
export interface IngestDocumentStore {
  /** The document (scoped to its bot), or null when it has been deleted. */
  findForIngest(botId: string, documentId: string): Promise<IngestTarget | null>;
  /** The uploaded bytes, or null when none are stored. */
  readSource(botId: string, documentId: string): Promise<Uint8Array | null>;
  setProgress(botId: string, documentId: string, progress: number): Promise<void>;
  /** The source has not changed since its chunks were built: ready again, nothing else touched. */
  markUnchanged(botId: string, documentId: string): Promise<void>;
  /**
   * In one transaction: deletes the document's chunks, inserts `chunks`, marks it ready. Returns the
   * deleted chunk ids, or null when the document no longer exists (nothing is written then).
   */
  replaceChunks(replacement: ChunkReplacement): Promise<{ previousChunkIds: string[] } | null>;
}

/** The source could not be turned into text; the message is shown to the creator as-is. */
export class DocumentLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentLoadError';
  }
}
