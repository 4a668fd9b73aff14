import { contentHash } from '../../rag/ingest.js';
import { detectMediaType } from '../../rag/loaders/media-type.js';
import type { Embedder, VectorStore } from '../../rag/types.js';
import { NotFoundError, UnavailableError, ValidationError } from '../errors/app.errors.js';
import { UnsupportedMediaTypeError } from './document.errors.js';
import type { DocumentStore, StoredDocument } from './document.types.js';

/** Hands a document to the ingestion worker; a second call with the same job id is a no-op. */
export interface IngestQueue {
  enqueue(job: { documentId: string; botId: string }, jobId: string): Promise<void>;
}

export interface DocumentServiceOptions {
  documents: DocumentStore;
  /** Ownership check: resolves for the creator's bot, throws NotFoundError otherwise. */
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  queue: IngestQueue;
  vectors: Pick<VectorStore, 'deleteDocument'>;
  /** Decides whether re-ingesting unchanged content can still add vectors. */
  embedder: Pick<Embedder, 'available' | 'model'>;
  /** Keeps the bot's documents added by web address in sync (a per-bot schedule); absent: they are fetched once. */
  urlSync?: { schedule(botId: string): Promise<void> };
  /** Receives failures of best-effort clean-up that must not fail the request. */
  onCleanupError?: (err: unknown, context: string) => void;
  /** The creator's plan: throws (402) when another document of `incomingBytes` does not fit it. */
  quota?: { assertCanAddDocument(creatorId: string, incomingBytes: number): Promise<void> };
}

export interface UploadInput {
  bytes: Uint8Array;
  filename?: string | undefined;
  mediaType?: string | undefined;
  title?: string | undefined;
}

/** A document as the API shows it: no hashes, nothing internal. */
export type DocumentSummary = Omit<StoredDocument, 'contentHash' | 'ingestedHash' | 'botId'>;

const TITLE_MAX = 500;

function summary(document: StoredDocument): DocumentSummary {
  const { contentHash: _hash, ingestedHash: _ingested, botId: _bot, ...rest } = document;
  return { ...rest, sizeBytes: rest.sizeBytes === null ? null : Number(rest.sizeBytes) };
}

/** Job ids may not contain ':'; the hash prefix makes a new upload of other bytes a new job. */
function jobId(document: StoredDocument, generation?: Date): string {
  const key = document.contentHash ? document.contentHash.slice(0, 16) : document.sourceKind;
  return `ingest_${document.id}_${key}${generation ? `_${generation.getTime().toString(36)}` : ''}`;
}

function cleanTitle(title: string | undefined): string | undefined {
  const trimmed = title?.replace(/\s+/g, ' ').trim();
  return trimmed ? trimmed.slice(0, TITLE_MAX) : undefined;
}

/**
 * A bot's knowledge base: uploads and web addresses become documents that the ingestion worker
 * turns into searchable chunks. Every call is scoped to the creator's own bot.
 */
export class DocumentService {
  constructor(private readonly options: DocumentServiceOptions) {}

  /** Stores an uploaded file and queues its ingestion. */
  async upload(creatorId: string, botId: string, input: UploadInput): Promise<DocumentSummary> {
    await this.options.bots.get(creatorId, botId);
    if (!input.bytes.length) throw new ValidationError('The file is empty');
    const mediaType = detectMediaType(input.bytes, input.mediaType, input.filename);
    if (!mediaType) throw new UnsupportedMediaTypeError(input.mediaType);
    await this.options.quota?.assertCanAddDocument(creatorId, input.bytes.length);
    const filename = input.filename?.trim() || null;
    const document = await this.options.documents.createUpload(creatorId, botId, {
      title: cleanTitle(input.title) ?? cleanTitle(filename ?? undefined) ?? 'Untitled document',
      filename,
      mediaType,
      bytes: input.bytes,
      contentHash: contentHash(input.bytes),
    });
    if (!document) throw new NotFoundError('Bot');
    await this.enqueueNew(document);
    return summary(document);
  }

  /** Records a web address to fetch and queues its ingestion. */
  async addUrl(creatorId: string, botId: string, input: { url: string; title?: string | undefined }): Promise<DocumentSummary> {
    await this.options.bots.get(creatorId, botId);
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new ValidationError('url: not a valid web address');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError('url: only http and https addresses can be added');
    const sourceUrl = url.toString();
    // Its size is known only once fetched; the document count is checked now.
    await this.options.quota?.assertCanAddDocument(creatorId, 0);
    const document = await this.options.documents.createUrl(creatorId, botId, { title: cleanTitle(input.title) ?? sourceUrl, sourceUrl });
    if (!document) throw new NotFoundError('Bot');
    await this.enqueueNew(document);
    // The document is in and its first fetch queued; a missing schedule only delays its next sync.
    await this.options.urlSync?.schedule(botId).catch((err: unknown) => this.options.onCleanupError?.(err, 'scheduling the sync of web addresses'));
    return summary(document);
  }

  /** The bot's documents, oldest first. */
  async list(creatorId: string, botId: string): Promise<DocumentSummary[]> {
    await this.options.bots.get(creatorId, botId);
    return (await this.options.documents.list(creatorId, botId)).map(summary);
  }

  async get(creatorId: string, botId: string, documentId: string): Promise<DocumentSummary> {
    return summary(await this.find(creatorId, botId, documentId));
  }

  /** Removes the document, its chunks and its vectors. */
  async delete(creatorId: string, botId: string, documentId: string): Promise<void> {
    const current = await this.find(creatorId, botId, documentId);
    if (!(await this.options.documents.delete(creatorId, botId, documentId))) throw new NotFoundError('Document');
    // After the rows: retrieval joins vectors to live chunks, so leftovers are invisible if this fails.
    // Vectors exist for the model it is searched by and the one it may be re-embedded with.
    for (const model of new Set([current.embeddingModel, current.reembedModel])) {
      if (model === null) continue;
      await this.options.vectors
        .deleteDocument(botId, documentId, model)
        .catch((err: unknown) => this.options.onCleanupError?.(err, 'removing vectors of a deleted document'));
    }
  }

  /**
   * Runs ingestion again: web addresses are fetched anew, uploads re-read from their stored bytes.
   * An upload already built from its current bytes (with vectors where an embedder can make them)
   * needs no work and is returned as it is.
   */
  async reingest(creatorId: string, botId: string, documentId: string): Promise<DocumentSummary> {
    const current = await this.find(creatorId, botId, documentId);
    if (current.status === 'processing') return summary(current);
    if (current.sourceKind === 'upload' && current.status === 'ready' && current.contentHash === current.ingestedHash) {
      const canAddVectors = current.embeddingModel !== this.options.embedder.model && (await this.options.embedder.available());
      if (!canAddVectors) return summary(current);
    }
    const requeued = await this.options.documents.requeue(creatorId, botId, documentId);
    if (!requeued) throw new NotFoundError('Document');
    try {
      await this.options.queue.enqueue({ documentId, botId }, jobId(requeued, requeued.updatedAt));
    } catch {
      await this.options.documents.markFailed(botId, documentId, 'Re-ingestion could not be queued; try again in a moment');
      throw new UnavailableError('The ingestion queue is unavailable; try again in a moment');
    }
    return summary(requeued);
  }

  private async find(creatorId: string, botId: string, documentId: string): Promise<StoredDocument> {
    await this.options.bots.get(creatorId, botId);
    const document = await this.options.documents.find(creatorId, botId, documentId);
    if (!document) throw new NotFoundError('Document');
    return document;
  }

  private async enqueueNew(document: StoredDocument): Promise<void> {
    try {
      await this.options.queue.enqueue({ documentId: document.id, botId: document.botId }, jobId(document));
    } catch {
      // Persist-before-acknowledge works both ways: without a job the row would wait forever.
      await this.options.documents.remove(document.botId, document.id);
      throw new UnavailableError('The ingestion queue is unavailable; try again in a moment');
    }
  }
}
