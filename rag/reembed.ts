import { EmbedderError } from './embedders/ollama.embedder.js';
import type { Embedder, VectorRecord, VectorStore } from './types.js';

/** A document's re-embedding as its store records it. */
export interface ReembedTarget {
  /** The model the document is searched by now. */
  embeddingModel: string | null;
  /** The model it is being re-embedded with; null when none. */
  reembedModel: string | null;
  /** Chunks (in ordinal order) that already have the new model's vectors. */
  reembedDone: number;
  /** Changes whenever the document's chunks are replaced (re-ingestion). */
  version: string;
}

/** Persistence port of re-embedding (src/db/reembed.repository.ts implements it). */
export interface ReembedDocumentStore {
  /** Null when the document has been deleted. */
  findForReembed(botId: string, documentId: string): Promise<ReembedTarget | null>;
  /** The document's live chunks, in ordinal order. */
  chunkTexts(botId: string, documentId: string): Promise<Array<{ id: string; text: string }>>;
  /**
   * Records that the first `done` chunks have `model`'s vectors. False when the document moved on
   * (deleted, re-ingested, or now wanting another model): the work is abandoned.
   */
  recordProgress(botId: string, documentId: string, model: string, version: string, done: number): Promise<boolean>;
  /**
   * Makes `model` the one the document is searched by, if it is still re-embedded with it and its
   * chunks are those of `version`; the model it was searched by before is kept as retired until
   * `clearRetired`. Returns that model, or null when nothing switched.
   */
  switchModel(botId: string, documentId: string, model: string, version: string): Promise<{ previousModel: string | null } | null>;
  /** Forgets the retired model once its vectors are deleted. */
  clearRetired(botId: string, documentId: string, model: string): Promise<void>;
}

export interface ReembedPorts {
  documents: ReembedDocumentStore;
  embedderFor(model: string): Embedder;
  vectors: VectorStore;
  /** Texts per embedding request; progress is recorded per batch. */
  batchSize: number;
  /** Told in the tick of the switch, so caches of the models a bot is searched by are dropped then. */
  onIndexChanged?: (botId: string) => void;
  /** Receives failures of best-effort clean-up (the old model's vectors), which never fail the job. */
  onCleanupError?: (err: unknown, context: string) => void;
}

export type ReembedResult =
  | { outcome: 'switched'; chunks: number }
  /** The document no longer wants this model (or no longer exists); nothing of this run is kept. */
  | { outcome: 'stale' };

/**
 * Re-embeds one document's chunks with `model` beside its current vectors. Retrieval keeps reading
 * the document by its old model until every chunk has the new model's vector; then the document's
 * active model switches in one statement and the old vectors are deleted. Progress is recorded per
 * batch, so a run that stops resumes where it was; upserts are keyed by chunk and model, so a batch
 * done twice leaves one vector per chunk.
 *
 * Why a per-document active model rather than each vector's own tag alone: a document whose new
 * vectors are half written must not be searched by either half, and the question's embedding of
 * each model only ranks against vectors of that model. So each document is searched by exactly one
 * model at a time (documents.embedding_model), and a bot in transition is searched with each model
 * still active for some of its documents.
 */
export async function reembedDocument(ref: { botId: string; documentId: string; model: string }, ports: ReembedPorts): Promise<ReembedResult> {
  const { documents, vectors } = ports;
  const target = await documents.findForReembed(ref.botId, ref.documentId);
  if (!target || target.reembedModel !== ref.model) return { outcome: 'stale' };
  const embedder = ports.embedderFor(ref.model);
  if (!(await embedder.available())) throw new EmbedderError(`The embedding model ${ref.model} is not available`);

  const chunks = await documents.chunkTexts(ref.botId, ref.documentId);
  const abandon = async (): Promise<ReembedResult> => {
    // Unless another run of this job got there first and the document is searched by these very vectors.
    const now = await documents.findForReembed(ref.botId, ref.documentId);
    if (now?.embeddingModel === ref.model && now.version === target.version) return { outcome: 'stale' };
    await vectors
      .deleteChunks(
        ref.botId,
        chunks.map((c) => c.id),
        [ref.model],
      )
      .catch((err: unknown) => ports.onCleanupError?.(err, 'removing vectors of an abandoned re-embedding'));
    return { outcome: 'stale' };
  };

  for (let start = Math.min(target.reembedDone, chunks.length); start < chunks.length; start += ports.batchSize) {
    const batch = chunks.slice(start, start + ports.batchSize);
    const embeddings = await embedder.embed(batch.map((c) => c.text));
    const records: VectorRecord[] = batch.map((c, i) => ({ chunkId: c.id, documentId: ref.documentId, model: ref.model, embedding: embeddings[i]! }));
    await vectors.upsert(ref.botId, records);
    if (!(await documents.recordProgress(ref.botId, ref.documentId, ref.model, target.version, start + batch.length))) return abandon();
  }

  const switched = await documents.switchModel(ref.botId, ref.documentId, ref.model, target.version);
  if (!switched) return abandon();
  ports.onIndexChanged?.(ref.botId);
  if (switched.previousModel && switched.previousModel !== ref.model) {
    // Left retired if this fails (or the worker stops first): the next start deletes them.
    await vectors
      .deleteDocument(ref.botId, ref.documentId, switched.previousModel)
      .then(() => documents.clearRetired(ref.botId, ref.documentId, switched.previousModel!))
      .catch((err: unknown) => ports.onCleanupError?.(err, 'removing vectors of the previous embedding model'));
  }
  return { outcome: 'switched', chunks: chunks.length };
}
