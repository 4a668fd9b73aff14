import { createHash, randomUUID } from 'node:crypto';
import { detectMediaType } from './loaders/media-type.js';
import { textSearchConfig } from './text-search-config.js';
import {
  DocumentLoadError,
  type ChunkDraft,
  type Embedder,
  type IngestDocumentStore,
  type IngestTarget,
  type LoadedDocument,
  type LoadInput,
  type RetrievalMode,
  type Splitter,
  type VectorRecord,
  type VectorStore,
} from './types.js';

/** Reads sources into text: files by content and type, web addresses by fetching them first. */
export interface SourceReader {
  load(input: LoadInput): Promise<LoadedDocument>;
  fetch(url: string): Promise<LoadInput>;
}

/** What ingestion reports to Prometheus; the platform's Metrics fit this shape. */
export interface IngestMetrics {
  ingestPages: { inc(value?: number): void };
  ingestChunks: { inc(value?: number): void };
  ingestDuration: { observe(labels: { stage: string }, seconds: number): void };
}

export interface IngestPorts {
  documents: IngestDocumentStore;
  sources: SourceReader;
  splitter: Splitter;
  /** The deployment's embedder (OLLAMA_EMBED_MODEL). */
  embedder: Embedder;
  /** The embedder of a bot that chose another model in its settings. */
  embedderFor?(model: string): Embedder;
  vectors: VectorStore;
  /** Texts per embedding request; progress advances per batch. */
  embedBatchSize: number;
  metrics?: IngestMetrics;
  /** Called with 0..1 as the stages advance. */
  onProgress?: (progress: number) => Promise<void> | void;
  /** Receives failures of best-effort clean-up (stale vectors), which never fail the ingestion. */
  onCleanupError?: (err: unknown, context: string) => void;
  /**
   * Told in the same tick as the commit that makes the document ready, before anyone can read it so:
   * caches of what the bot can be searched by (e.g. its first vectors) are dropped then, not later.
   */
  onIndexChanged?: (botId: string) => void;
}

export type IngestResult =
  | { outcome: 'ready'; chunks: number; pages: number | null; retrievalMode: RetrievalMode }
  | { outcome: 'unchanged' }
  /** The document was deleted before or during ingestion; nothing was kept. */
  | { outcome: 'gone' };

/** SHA-256 of the source bytes, hex. */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Share of the progress bar each stage ends at; embedding dominates whenever it runs.
const PROGRESS = { loaded: 0.1, split: 0.15, embedded: 0.9, stored: 1 };

async function timed<T>(metrics: IngestMetrics | undefined, stage: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    metrics?.ingestDuration.observe({ stage }, (performance.now() - started) / 1000);
  }
}

async function readSource(target: IngestTarget, ports: IngestPorts): Promise<LoadInput> {
  if (target.sourceKind === 'url') {
    if (!target.sourceUrl) throw new DocumentLoadError('The document has no web address to fetch');
    // A site sync keeps the page it fetched; reading those bytes spares the site a second request.
    const fetched = await ports.documents.readSource(target.botId, target.id);
    if (fetched) return { bytes: fetched, mediaType: target.mediaType ?? '', sourceUrl: target.sourceUrl };
    return ports.sources.fetch(target.sourceUrl);
  }
  const bytes = await ports.documents.readSource(target.botId, target.id);
  if (!bytes) throw new DocumentLoadError('The uploaded file is no longer stored; upload it again');
  return { bytes, mediaType: target.mediaType ?? '', filename: target.filename ?? undefined };
}

function isDefaultTitle(target: IngestTarget): boolean {
  return target.title === target.filename || target.title === target.sourceUrl;
}

/**
 * Load → split → embed → store one document. Unchanged sources cost nothing; changed ones replace
 * their chunks atomically: vectors for new chunk ids are written first, the chunk rows swap in one
 * transaction, then the old ids' vectors are dropped. Readers join vectors to live chunks, so at no
 * point do they see a mix. On failure the old chunks stay and this attempt's vectors are removed;
 * the error propagates (DocumentLoadError when the source itself is unreadable).
 */
export async function ingestDocument(ref: { botId: string; documentId: string }, ports: IngestPorts): Promise<IngestResult> {
  const { documents, metrics } = ports;
  const progress = async (value: number) => ports.onProgress?.(Math.min(1, Math.max(0, value)));
  const target = await documents.findForIngest(ref.botId, ref.documentId);
  if (!target) return { outcome: 'gone' };

  const source = await timed(metrics, 'fetch', () => readSource(target, ports));
  const hash = contentHash(source.bytes);
  const embedder = target.botEmbeddingModel && target.botEmbeddingModel !== ports.embedder.model && ports.embedderFor ? ports.embedderFor(target.botEmbeddingModel) : ports.embedder;
  const embedderAvailable = await embedder.available();
  // Same bytes: nothing to redo, unless vectors can now be added (or come from another model).
  // An embedder that is down never downgrades a hybrid document to lexical.
  const vectorsCurrent = embedderAvailable ? target.embeddingModel === embedder.model : true;
  if (hash === target.ingestedHash && vectorsCurrent) {
    await documents.markUnchanged(target.botId, target.id);
    return { outcome: 'unchanged' };
  }

  const loaded = await timed(metrics, 'load', () => ports.sources.load(source));
  await progress(PROGRESS.loaded);
  const drafts = await timed(metrics, 'split', () => ports.splitter.split(loaded));
  if (!drafts.length) throw new DocumentLoadError('The document contains no text to index');
  await progress(PROGRESS.split);

  const chunks = drafts.map((d: ChunkDraft) => ({ id: randomUUID(), ordinal: d.ordinal, page: d.page ?? null, location: d.location ?? null, text: d.text }));
  const written: string[] = [];
  const removeWritten = async () => {
    if (!written.length) return;
    await ports.vectors.deleteChunks(target.botId, written, [embedder.model]).catch((err: unknown) => ports.onCleanupError?.(err, 'removing vectors of a failed attempt'));
  };

  try {
    if (embedderAvailable) {
      await timed(metrics, 'embed', async () => {
        for (let start = 0; start < chunks.length; start += ports.embedBatchSize) {
          const batch = chunks.slice(start, start + ports.embedBatchSize);
          const embeddings = await embedder.embed(batch.map((c) => c.text));
          const records: VectorRecord[] = batch.map((c, i) => ({ chunkId: c.id, documentId: target.id, model: embedder.model, embedding: embeddings[i]! }));
          // Recorded before the write so a half-applied upsert is cleaned up too.
          written.push(...batch.map((c) => c.id));
          await ports.vectors.upsert(target.botId, records);
          await progress(PROGRESS.split + ((PROGRESS.embedded - PROGRESS.split) * (start + batch.length)) / chunks.length);
        }
      });
    } else {
      await progress(PROGRESS.embedded);
    }

    const pageNumbers = loaded.pages.filter((p) => p.page !== undefined).length;
    const retrievalMode = embedderAvailable ? 'hybrid' : 'lexical';
    const swapped = await timed(metrics, 'store', () =>
      documents.replaceChunks({
        botId: target.botId,
        documentId: target.id,
        chunks,
        tsConfig: textSearchConfig(target.botLanguage),
        contentHash: hash,
        sizeBytes: source.bytes.length,
        mediaType: detectMediaType(source.bytes, source.mediaType, source.filename) ?? source.mediaType,
        pageCount: pageNumbers || null,
        retrievalMode,
        embeddingModel: embedderAvailable ? embedder.model : null,
        faqs: loaded.faqs ?? [],
        ...(loaded.title && isDefaultTitle(target) ? { title: loaded.title.slice(0, 500) } : {}),
      }),
    );
    if (!swapped) {
      await removeWritten();
      return { outcome: 'gone' };
    }
    ports.onIndexChanged?.(target.botId);
    if (swapped.previousChunkIds.length) {
      // The old chunks may hold vectors of their model, of this one, and of a re-embedding under way.
      const models = [...new Set([target.embeddingModel, target.reembedModel, embedder.model].filter((m): m is string => m !== null))];
      await ports.vectors
        .deleteChunks(target.botId, swapped.previousChunkIds, models)
        .catch((err: unknown) => ports.onCleanupError?.(err, 'removing vectors of replaced chunks'));
    }
    await progress(PROGRESS.stored);
    metrics?.ingestPages.inc(loaded.pages.length);
    metrics?.ingestChunks.inc(chunks.length);
    return { outcome: 'ready', chunks: chunks.length, pages: pageNumbers || null, retrievalMode };
  } catch (err) {
    await removeWritten();
    throw err;
  }
}
