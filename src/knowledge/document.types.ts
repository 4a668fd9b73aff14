/** Knowledge-base documents as the service and its store see them. */

import type { RetrievalMode } from '../../rag/types.js';

export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed';

/** A document row; bytes live apart (document_blobs) and are read only by ingestion. */
export interface StoredDocument {
  id: string;
  botId: string;
  title: string;
  sourceKind: 'upload' | 'url';
  sourceUrl: string | null;
  filename: string | null;
  mediaType: string | null;
  sizeBytes: number | null;
  contentHash: string | null;
  ingestedHash: string | null;
  status: DocumentStatus;
  error: string | null;
  progress: number;
  chunkCount: number;
  pageCount: number | null;
  retrievalMode: RetrievalMode | null;
  embeddingModel: string | null;
  /** The embedding model the document is being switched to, if any, and its chunks embedded so far. */
  reembedModel: string | null;
  reembedDone: number;
  createdAt: Date;
  updatedAt: Date;
  ingestedAt: Date | null;
}

/** Persistence port of DocumentService (src/db/document.repository.ts); every call is scoped to creator and bot. */
export interface DocumentStore {
  /** Inserts the row (status queued) and its bytes together. */
  createUpload(
    creatorId: string,
    botId: string,
    input: { title: string; filename: string | null; mediaType: string; bytes: Uint8Array; contentHash: string },
  ): Promise<StoredDocument | null>;
  createUrl(creatorId: string, botId: string, input: { title: string; sourceUrl: string }): Promise<StoredDocument | null>;
  list(creatorId: string, botId: string): Promise<StoredDocument[]>;
  /** Null as well for an id that cannot be one of ours (not a UUID): the caller answers "not found". */
  find(creatorId: string, botId: string, documentId: string): Promise<StoredDocument | null>;
  /** Deletes the row; chunks and bytes go with it. */
  delete(creatorId: string, botId: string, documentId: string): Promise<boolean>;
  /** Undoes a creation whose ingestion job could not be queued. */
  remove(botId: string, documentId: string): Promise<void>;
  /** Records a failure the creator should see (e.g. the job could not be queued). */
  markFailed(botId: string, documentId: string, reason: string): Promise<void>;
  /** Back to `queued` for another ingestion run; null when the document does not exist. */
  requeue(creatorId: string, botId: string, documentId: string): Promise<StoredDocument | null>;
}
