import { OllamaEmbedder } from '../../rag/embedders/ollama.embedder.js';
import { FaqMatcher } from '../../rag/faq-match.js';
import { LoaderSandbox } from '../../rag/loaders/loader.sandbox.js';
import { FETCH_USER_AGENT, safeFetch } from '../../rag/loaders/safe-fetch.js';
import { UrlLoader } from '../../rag/loaders/url.loader.js';
import { HybridRetriever } from '../../rag/retrieve.js';
import { ChromaVectorStore } from '../../rag/stores/chroma.store.js';
import { PgVectorStore } from '../../rag/stores/pgvector.store.js';
import type { Embedder, Retriever, VectorStore } from '../../rag/types.js';
import { createCrawlProcessor } from '../../workers/crawl.worker.js';
import type { IngestResult } from '../../rag/ingest.js';
import { createIngestFailureListener, createIngestProcessor, type IngestWorkerDeps } from '../../workers/ingest.worker.js';
import { createReembedProcessor } from '../../workers/reembed.worker.js';
import { ReembedRepository } from '../db/reembed.repository.js';
import { ReembedService } from '../knowledge/reembed.service.js';
import type { Config } from '../config.js';
import { ChunkSearchRepository } from '../db/chunk-search.repository.js';
import { DocumentRepository } from '../db/document.repository.js';
import { FaqRepository } from '../db/faq.repository.js';
import { SiteRepository } from '../db/site.repository.js';
import { DocumentService } from '../knowledge/document.service.js';
import { FaqService } from '../knowledge/faq.service.js';
import { SiteService } from '../knowledge/site.service.js';
import type { Logger } from '../observability/logger.js';
import type { BillingModule } from './billing.module.js';
import type { BotsModule } from './bots.module.js';
import type { EmailModule } from './email.module.js';
import type { EventsModule } from './events.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

// How often an idle ingest worker looks for uploads on the embedded database.
const EMBEDDED_INGEST_POLL_MS = 500;
// Sites crawled at once per worker process (each spaces its own requests), and how long a crawl run may
// go without a sign of life before another run takes its site over.
const CRAWL_CONCURRENCY = 2;
const CRAWL_LOCK_DURATION_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Creators' material: documents, their ingestion, the vector store and retrieval. */
export interface KnowledgeModule extends ModuleLifecycle {
  /** Where embeddings live (VECTOR_STORE), shared by ingestion and retrieval. */
  vectorStore: VectorStore;
  embedder: Embedder;
  retriever: Retriever;
  /** Knowledge-base documents (uploads, web addresses) and their ingestion. */
  documents: DocumentService;
  /** Websites: one document per page, crawled and synced by the `crawl` worker. */
  sites: SiteService;
  /** The bots' FAQ pairs, written by hand or read from FAQ sheets. */
  faqs: FaqService;
  /** Finds the FAQ pair a user's question asks (the engine's FaqPort). */
  faqMatcher: FaqMatcher;
  /** Re-embeds documents whose bot wants another embedding model than they were embedded by. */
  reembed: ReembedService;
  /**
   * Child processes, with their own limits, that read uploads and the files users send, away from
   * the event loop that answers webhooks. They start on the first read, so only workers spawn them.
   */
  readers: LoaderSandbox;
  /** Starts the `ingest` and `crawl` workers in this process. */
  startWorkers(): void;
}

export interface KnowledgeModuleDeps {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  /** Adding a document is checked against the creator's plan. */
  billing: Pick<BillingModule, 'service'>;
  bots: BotsModule;
  /** Tells the creator when a document could not be ingested. */
  email: Pick<EmailModule, 'onDocumentFailed'>;
  /** Ingestion progress is published to the creators' live events. */
  events?: Pick<EventsModule, 'publisher'>;
}

/** Builds the vector store, embedder, retriever and documents; the `ingest` worker reads through the reading processes. */
export function createKnowledgeModule({ config, logger, infrastructure, billing, bots, email, events }: KnowledgeModuleDeps): KnowledgeModule {
  const { database, queues, metrics, prepared } = infrastructure;
  const vectorStore: VectorStore =
    config.VECTOR_STORE === 'chroma'
      ? new ChromaVectorStore(config.CHROMA_URL)
      : // HNSW inserts are slow in WASM; embedded PGlite searches exactly (DESIGN.md, "Running it").
        new PgVectorStore(database.pool, { hnsw: database.kind !== 'pglite' });
  // The vector store is outside PostgreSQL's cascades.
  bots.service.addBotDeletedListener((botId) => vectorStore.deleteBot(botId));
  const ollamaEmbedder = (model: string) => new OllamaEmbedder({ host: config.OLLAMA_HOST, model, batchSize: config.EMBED_BATCH_SIZE, fetch: infrastructure.makeFetch });
  const embedder = ollamaEmbedder(config.OLLAMA_EMBED_MODEL);
  // Other models: bots that chose their own, and documents still searched by a previous one.
  const otherEmbedders = new Map<string, Embedder>();
  const embedderFor = (model: string): Embedder => {
    if (model === embedder.model) return embedder;
    let found = otherEmbedders.get(model);
    if (!found) otherEmbedders.set(model, (found = ollamaEmbedder(model)));
    return found;
  };
  const retriever = new HybridRetriever(new ChunkSearchRepository(database.pool, { prepared, k1: config.RETRIEVAL_BM25_K1, b: config.RETRIEVAL_BM25_B }), vectorStore, embedder, {
    onVectorSearchFailed: (err) => logger.warn({ err }, 'vector search failed; answering from full-text search alone'),
    embedderFor,
  });

  const reembedRepository = new ReembedRepository(database.pool, events ? { events: events.publisher } : {});
  const reembed = new ReembedService({
    store: reembedRepository,
    // Many attempts far apart: the new model may still be being pulled; old vectors serve meanwhile.
    queue: { ensure: (job, jobId) => queues.ensure('reembed', job, { jobId, attempts: 10, backoff: { type: 'exponential', delay: 5_000 } }) },
    vectors: vectorStore,
    defaultModel: config.OLLAMA_EMBED_MODEL,
    onCleanupError: (err, context) => logger.warn({ err }, `reembed: ${context} failed`),
  });
  bots.service.addEmbeddingModelListener(async (botId) => {
    // The setting is saved either way; whatever is not queued now is at the next start.
    const planned = await reembed.reconcile(botId).catch((err: unknown) => logger.warn({ err, botId }, 'reembed: could not queue the re-embedding'));
    if (planned?.documents) logger.info({ botId, ...planned }, `re-embedding ${planned.documents} document${planned.documents === 1 ? '' : 's'} of a bot in the background`);
  });

  const documentRepository = new DocumentRepository(database.pool, events ? { events: events.publisher } : {});
  const documents = new DocumentService({
    documents: documentRepository,
    bots: bots.service,
    queue: { enqueue: (job, jobId) => queues.enqueue('ingest', job, { jobId }) },
    vectors: vectorStore,
    embedder,
    onCleanupError: (err, context) => logger.warn({ err }, `documents: ${context} failed`),
    quota: billing.service,
    ...(config.SITE_SYNC_INTERVAL_HOURS > 0
      ? { urlSync: { schedule: (botId: string) => queues.schedule('crawl', `urls_${botId}`, config.SITE_SYNC_INTERVAL_HOURS * HOUR_MS, { botId, singleUrls: true }) } }
      : {}),
  });

  const siteRepository = new SiteRepository(database.pool);
  // So are the queues' sync schedules; one left behind finds nothing to sync and removes itself.
  bots.service.addBotDeletedListener(async (botId) => {
    const schedules = [`urls_${botId}`, ...(await siteRepository.siteIds(botId)).map((siteId) => `sync_${siteId}`)];
    for (const schedule of schedules) {
      await queues.unschedule('crawl', schedule).catch((err: unknown) => logger.warn({ err, botId, schedule }, 'sites: removing a sync schedule failed'));
    }
  });
  const sites = new SiteService({
    sites: siteRepository,
    bots: bots.service,
    queue: {
      syncNow: async (job) => void (await queues.ensure('crawl', job, { jobId: `crawl_${job.siteId}` })),
      schedule: (job, hours) =>
        hours > 0 ? queues.schedule('crawl', `sync_${job.siteId}`, hours * HOUR_MS, job) : queues.unschedule('crawl', `sync_${job.siteId}`),
      unschedule: (siteId) => queues.unschedule('crawl', `sync_${siteId}`),
    },
    vectors: vectorStore,
    maxPages: config.CRAWL_MAX_PAGES,
    defaultSyncIntervalHours: config.SITE_SYNC_INTERVAL_HOURS,
    onCleanupError: (err, context) => logger.warn({ err }, `sites: ${context} failed`),
    quota: billing.service,
  });

  const faqRepository = new FaqRepository(database.pool);
  const faqs = new FaqService({ store: faqRepository, bots: bots.service });
  const faqMatcher = new FaqMatcher(faqRepository);

  const readers = new LoaderSandbox({
    limits: {
      maxPages: config.INGEST_MAX_PAGES,
      maxParagraphs: config.INGEST_MAX_PARAGRAPHS,
      maxTextChars: config.INGEST_MAX_TEXT_CHARS,
      maxDecompressedBytes: config.INGEST_MAX_DECOMPRESSED_BYTES,
    },
    split: { chunkSize: config.CHUNK_SIZE, chunkOverlap: config.CHUNK_OVERLAP },
    timeoutMs: config.INGEST_PARSE_TIMEOUT_MS,
    maxHeapMb: config.INGEST_PARSE_MAX_HEAP_MB,
    processes: config.INGEST_PARSE_PROCESSES,
  });

  return {
    vectorStore,
    embedder,
    retriever,
    documents,
    sites,
    faqs,
    faqMatcher,
    reembed,
    readers,
    startWorkers() {
      const fetchOptions = {
        timeoutMs: config.URL_FETCH_TIMEOUT_MS,
        maxBytes: config.URL_FETCH_MAX_BYTES,
        allowPrivate: config.URL_FETCH_ALLOW_PRIVATE,
        allowedRanges: config.URL_FETCH_ALLOWED_RANGES,
      };
      const urls = new UrlLoader(readers, fetchOptions);
      const ingestDeps: IngestWorkerDeps = {
        documents: documentRepository,
        sources: { load: (input) => readers.load(input), fetch: (url) => urls.fetch(url) },
        splitter: readers,
        embedder,
        embedderFor,
        vectors: vectorStore,
        embedBatchSize: config.EMBED_BATCH_SIZE,
        metrics,
        logger,
        onFailed: email.onDocumentFailed,
        // A bot's first embedded document changes how it is searched; the retriever learns it at once.
        onIndexChanged: (botId) => retriever.forgetBot(botId),
      };
      const ingestOne = createIngestProcessor(ingestDeps);
      const ingest: typeof ingestOne = async (job, token) => {
        const result = await ingestOne(job, token);
        // The bot's model may have changed while this document was embedded with the one before.
        if ((result as IngestResult).outcome === 'ready') {
          await reembed.reconcile(job.data.botId, job.data.documentId).catch((err: unknown) => logger.warn({ err, ...job.data }, 'reembed: could not check the model'));
        }
        return result;
      };
      const ingestFailed = createIngestFailureListener(ingestDeps);
      // Reading and splitting run in reading processes, so the lock is renewed on time however long a
      // document takes.
      queues.work('ingest', ingest, {
        concurrency: config.INGEST_CONCURRENCY,
        lockDurationMs: config.INGEST_LOCK_DURATION_MS,
        stalledIntervalMs: config.INGEST_STALLED_INTERVAL_MS,
        // A run taken over twice reaches the processor a third time, which sets it aside with its reason.
        maxStalledCount: 2,
        onFailed: (job, err) => void ingestFailed(job, err),
        // The creator watches the upload: on the embedded database no notification wakes the worker.
        ...(infrastructure.database.kind === 'pglite' ? { idlePollMs: EMBEDDED_INGEST_POLL_MS } : {}),
      });
      queues.work(
        'crawl',
        createCrawlProcessor({
          sites: siteRepository,
          fetch: (url, { conditional, beforeEachRequest }) => safeFetch(url, { ...fetchOptions, beforeEachRequest }, conditional),
          ingest: async (botId, documentId, hash) => void (await queues.ensure('ingest', { documentId, botId }, { jobId: `ingest_${documentId}_${hash.slice(0, 16)}` })),
          removeVectors: async (botId, documentIds) => {
            for (const documentId of documentIds) {
              await vectorStore.deleteDocument(botId, documentId).catch((err: unknown) => logger.warn({ err, documentId }, 'crawl: removing vectors of a removed page failed'));
            }
          },
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          politenessMs: config.CRAWL_DELAY_MS,
          maxDelayMs: config.CRAWL_MAX_DELAY_MS,
          userAgent: FETCH_USER_AGENT,
          staleMs: 2 * CRAWL_LOCK_DURATION_MS,
          unschedule: (siteId) => queues.unschedule('crawl', `sync_${siteId}`),
          logger,
        }),
        {
          concurrency: CRAWL_CONCURRENCY,
          lockDurationMs: CRAWL_LOCK_DURATION_MS,
          // A sync asked for on the embedded database is picked up without a notification too.
          ...(infrastructure.database.kind === 'pglite' ? { idlePollMs: EMBEDDED_INGEST_POLL_MS } : {}),
        },
      );
      queues.work(
        'reembed',
        createReembedProcessor({
          documents: reembedRepository,
          embedderFor,
          vectors: vectorStore,
          batchSize: config.EMBED_BATCH_SIZE,
          logger,
          onIndexChanged: (botId) => retriever.forgetBot(botId),
        }),
        {
          concurrency: 1,
          // As for ingestion: a worker that died mid-document is noticed this soon, and its run resumes.
          lockDurationMs: config.INGEST_LOCK_DURATION_MS,
          stalledIntervalMs: config.INGEST_STALLED_INTERVAL_MS,
          ...(infrastructure.database.kind === 'pglite' ? { idlePollMs: EMBEDDED_INGEST_POLL_MS } : {}),
        },
      );
      // In the background: start-up never waits for the check, let alone the re-embedding.
      void reembed.reconcile().then(
        ({ documents: count, models }) => {
          if (count) {
            logger.info({ documents: count, models }, `embedding model changed: re-embedding ${count} document${count === 1 ? '' : 's'} with ${models.join(', ')} in the background`);
          }
        },
        (err: unknown) => logger.warn({ err }, 'reembed: could not check documents against the embedding model'),
      );
    },
    async stop() {
      // After the workers have drained: a read still under way fails with the sandbox closed.
      await readers.close();
      await vectorStore.close();
    },
  };
}
