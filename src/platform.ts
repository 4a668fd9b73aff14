import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { buildApp } from './http/app.js';
import { ApiKeyService } from './accounts/api-key.service.js';
import { AuthService } from './accounts/auth.service.js';
import { BotService } from './bots/bot.service.js';
import { ApiKeyRepository } from './db/api-key.repository.js';
import { BotRepository } from './db/bot.repository.js';
import { CreatorRepository } from './db/creator.repository.js';
import { RefreshTokenRepository } from './db/refresh-token.repository.js';
import { SecretBox } from './security/secret-box.js';
import { ChunkSearchRepository } from './db/chunk-search.repository.js';
import { OllamaEmbedder } from '../rag/embedders/ollama.embedder.js';
import { HybridRetriever } from '../rag/retrieve.js';
import { ChromaVectorStore } from '../rag/stores/chroma.store.js';
import { PgVectorStore } from '../rag/stores/pgvector.store.js';
import type { Embedder, Retriever, VectorStore } from '../rag/types.js';
import { DocumentRepository } from './db/document.repository.js';
import { DocumentService } from './knowledge/document.service.js';
import { LoaderSandbox } from '../rag/loaders/loader.sandbox.js';
import { UrlLoader } from '../rag/loaders/url.loader.js';
import { createIngestFailureListener, createIngestProcessor, type IngestWorkerDeps } from '../workers/ingest.worker.js';
import { createJobQueues, queueNames, type JobQueues } from './jobs/queues.js';
import { connectTelegramBot, disconnectTelegramBot } from '../channels/telegram/telegram.client.js';
import { generateWebhookSecret } from '../channels/telegram/telegram.webhook.js';
import { ChannelSetupService, type TelegramCredentials } from './conversation/channel-setup.service.js';
import { ConversationEngine } from './conversation/engine.js';
import { InboundService } from './conversation/inbound.service.js';
import { ReconcileService } from './conversation/reconcile.service.js';
import { TurnService } from './conversation/turn.service.js';
import { WebChatService } from './conversation/web-chat.service.js';
import { ContactRepository } from './db/contact.repository.js';
import { ConversationLockRepository } from './db/conversation-lock.repository.js';
import { InProcessConversationLocks } from './db/in-process-conversation-locks.js';
import { ConversationBotRepository, ConversationRepository } from './db/conversation.repository.js';
import { InboundRepository } from './db/inbound.repository.js';
import { PerBotCache } from './cache/per-bot.cache.js';
import { OutboundRepository } from './db/outbound.repository.js';
import { TurnRepository } from './db/turn.repository.js';
import { outgoingFetch } from './http-client/outgoing-fetch.js';
import { createLlm } from './llm/llm-provider.js';
import { DeliveryService } from './conversation/delivery.service.js';
import { DeliveryRepository } from './db/delivery.repository.js';
import { MediaRepository } from './db/media.repository.js';
import { LocalDiskStorage } from './media/adapters/local-disk.storage.js';
import { S3Storage } from './media/adapters/s3.storage.js';
import type { MediaStorage } from './media/media.ports.js';
import { MediaService } from './media/media.service.js';
import { converseJobId, createConverseProcessor, createTurnQueue } from '../workers/converse.worker.js';
import { ChannelSenders, TelegramSenderCache, WhatsAppSenderCache } from '../workers/channel-senders.js';
import { WhatsAppClient } from '../channels/whatsapp/whatsapp.client.js';
import { WhatsAppPacer } from '../channels/whatsapp/whatsapp.pacing.js';
import { startReconciler } from '../workers/reconciler.js';
import type { Logger } from './observability/logger.js';
import { createEmailPlatform, type EmailPlatform } from './email-platform.js';
import { createBillingPlatform, type BillingPlatform } from './billing-platform.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createUsageLimits } from './usage-limits-platform.js';

/** The assembled platform: the only place adapters meet services. */
export interface Platform {
  config: Config;
  database: Database;
  queues: JobQueues;
  metrics: Metrics;
  redis?: Redis | undefined;
  /** Bots and their sealed channel credentials (for channel set-up and webhooks). */
  bots: BotService;
  /** Where embeddings live (VECTOR_STORE), shared by ingestion and retrieval. */
  vectorStore: VectorStore;
  embedder: Embedder;
  retriever: Retriever;
  /** Knowledge-base documents (uploads, web addresses) and their ingestion. */
  documents: DocumentService;
  auth: AuthService;
  apiKeys: ApiKeyService;
  /** Transactional email: send queue, notifications (incl. the BillingNotifier), digests. */
  email: EmailPlatform;
  /** Plans, Stripe subscriptions, end-user premium and the reply quota. */
  billing: BillingPlatform;
  /** Whether any creator has signed up (the first-run demo seeds only an empty platform). */
  hasCreators(): Promise<boolean>;
  app: FastifyInstance;
  /** Starts the queue workers of this process. */
  startWorkers(): void;
  /** Drains workers, closes the app and every connection. */
  close(): Promise<void>;
}

/** Warns when Redis may evict queue keys or lose them on restart (DESIGN.md, "Running it"). */
async function checkRedisDurability(redis: Redis, logger: Logger) {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      logger.warn({ policy }, 'Redis maxmemory-policy should be noeviction: evicted keys lose queued jobs');
    }
    const [, aof] = (await redis.config('GET', 'appendonly')) as [string, string];
    if (aof !== 'yes') logger.warn('Redis runs without AOF; queued jobs are lost if it restarts');
  } catch {
    // CONFIG may be disabled on managed Redis; nothing to check then.
  }
}

/**
 * Opens the database (migrating it), the queues and the stores, and builds services and the app.
 * `options.clock` stands in for the wall clock where billing reads it (tests move time with it).
 */
export async function createPlatform(config: Config, logger: Logger, options: { clock?: () => Date } = {}): Promise<Platform> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolMax: config.DATABASE_POOL_MAX });
  const applied = await migrate(database.pool);
  if (applied.length) logger.info({ applied }, 'database migrated');

  const queues = createJobQueues({
    redisUrl: config.REDIS_URL,
    databaseUrl: database.url,
    prefix: config.QUEUE_PREFIX,
    onError: (err, source) => logger.warn({ err: err.message, source }, 'queue connection error; retrying'),
  });
  await queues.ready();
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  if (redis) await checkRedisDurability(redis, logger);

  const metrics = createMetrics(async () =>
    Object.fromEntries(await Promise.all(queueNames.map(async (name) => [name, await queues.counts(name)] as const))),
  );

  const creators = new CreatorRepository(database.pool);
  // Read on every authenticated request, kept a few seconds; a logout or reset in this process clears it at once.
  const tokenVersions = new PerBotCache((creatorId) => creators.tokenVersion(creatorId), { ttlMs: 5_000 });
  // `mail.notifications` is the BillingNotifier (src/billing/ports.ts).
  const mail = createEmailPlatform({ config, pool: database.pool, queues, logger, creators, onSessionsEnded: (creatorId) => tokenVersions.invalidate(creatorId) });
  const auth = new AuthService({
    creators,
    refreshTokens: new RefreshTokenRepository(database.pool),
    refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    tokenVersions,
    onSignup: mail.onSignup,
  });
  const apiKeys = new ApiKeyService(new ApiKeyRepository(database.pool));
  // Stores outside PostgreSQL's cascades (the vector store) clean up through `onBotDeleted`.
  // Plans are checked where the work happens; `billing` is assembled below, before any request runs.
  const bots = new BotService({
    bots: new BotRepository(database.pool),
    secretBox: new SecretBox(config.ENCRYPTION_KEY),
    quota: { assertCanCreateBot: (creatorId) => billing.service.assertCanCreateBot(creatorId) },
    caps: { contextTokens: config.MAX_CONTEXT_TOKENS, answerTokens: config.MAX_ANSWER_TOKENS },
  });

  // The embedded database has one session behind every connection: no statement can be prepared per connection.
  const prepared = database.kind === 'postgres';
  const vectorStore: VectorStore =
    config.VECTOR_STORE === 'chroma'
      ? new ChromaVectorStore(config.CHROMA_URL)
      : // HNSW inserts are slow in WASM; embedded PGlite searches exactly (DESIGN.md, "Running it").
        new PgVectorStore(database.pool, { hnsw: database.kind !== 'pglite' });
  bots.addBotDeletedListener((botId) => vectorStore.deleteBot(botId));
  // One choice of HTTP client for every SDK that calls out: Ollama (chat and embeddings), Telegram, WhatsApp.
  const makeFetch = outgoingFetch(config.HTTP_CLIENT);
  const sdkFetch = makeFetch();
  const embedder = new OllamaEmbedder({ host: config.OLLAMA_HOST, model: config.OLLAMA_EMBED_MODEL, batchSize: config.EMBED_BATCH_SIZE, fetch: makeFetch });
  const retriever = new HybridRetriever(new ChunkSearchRepository(database.pool, { prepared }), vectorStore, embedder, {
    onVectorSearchFailed: (err) => logger.warn({ err }, 'vector search failed; answering from full-text search alone'),
  });

  const documentRepository = new DocumentRepository(database.pool);
  const documents = new DocumentService({
    documents: documentRepository,
    bots,
    queue: { enqueue: (job, jobId) => queues.enqueue('ingest', job, { jobId }) },
    vectors: vectorStore,
    embedder,
    onCleanupError: (err, context) => logger.warn({ err }, `documents: ${context} failed`),
    quota: { assertCanAddDocument: (creatorId, bytes) => billing.service.assertCanAddDocument(creatorId, bytes) },
  });

  // Conversations: webhook → inbound row → `converse` queue → engine → outbound ledger → channel.
  const conversationBots = new ConversationBotRepository(database.pool);
  const inboundRepository = new InboundRepository(database.pool, { prepared });
  // Every Telegram webhook and every reply needs the bot's credentials: decrypted once and kept a
  // few seconds, dropped at once when the channel changes in this process (another process's change
  // shows within the TTL; Telegram redelivers what it refused meanwhile).
  const telegramCredentials = new PerBotCache((botId) => bots.getChannelCredentials<TelegramCredentials>(botId, 'telegram'), { ttlMs: 5_000 });
  bots.addBotDeletedListener(async (botId) => {
    telegramCredentials.invalidate(botId);
    conversationBots.invalidate(botId);
  });
  const turnQueue = createTurnQueue(queues);
  const contacts = new ContactRepository(database.pool);
  const senders = new ChannelSenders({
    telegram: new TelegramSenderCache({
      token: async (botId) => (await telegramCredentials.get(botId))?.token ?? null,
      apiRoot: config.TELEGRAM_API_ROOT,
      throttle: config.TELEGRAM_THROTTLE,
      fetch: sdkFetch,
    }),
    whatsapp: new WhatsAppSenderCache({
      credentials: (botId) => channels.whatsappCredentials(botId),
      lastInboundAt: (botId, waId) => contacts.lastInboundAt(botId, 'whatsapp', waId),
      graphUrl: config.WHATSAPP_GRAPH_URL,
      fetch: sdkFetch,
      pacer: new WhatsAppPacer({ messagesPerSecond: config.WHATSAPP_MESSAGES_PER_SECOND, recipientGapMs: config.WHATSAPP_RECIPIENT_GAP_MS }),
    }),
  });
  const channels = new ChannelSetupService({
    bots,
    telegram: {
      connect: (token, webhookUrl, secretToken) => connectTelegramBot(token, { apiRoot: config.TELEGRAM_API_ROOT, webhookUrl, secretToken, fetch: sdkFetch }),
      disconnect: (token) => disconnectTelegramBot(token, { apiRoot: config.TELEGRAM_API_ROOT, fetch: sdkFetch }),
      newSecret: generateWebhookSecret,
    },
    whatsapp: {
      verify: (phoneNumberId, accessToken) => new WhatsAppClient({ accessToken, graphUrl: config.WHATSAPP_GRAPH_URL, fetch: sdkFetch }).phoneNumber(phoneNumberId),
    },
    publicUrl: config.PUBLIC_URL,
    onChanged: (botId) => {
      senders.invalidate(botId);
      telegramCredentials.invalidate(botId);
    },
    onDisconnectFailed: (err, botId) => logger.warn({ err, botId }, 'telegram: webhook could not be removed; credentials deleted anyway'),
  });
  bots.addBotDeletedListener(async (botId) => channels.forgetWhatsApp(botId));
  const inbound = new InboundService({
    bots: conversationBots,
    store: inboundRepository,
    queue: turnQueue,
    onEnqueueFailed: (err, inboundId) => logger.warn({ err, inboundId }, 'converse: enqueue failed after commit; the reconciler will pick it up'),
  });
  // One engine, memory and ledger for both ways a turn is answered: the converse worker and web
  // chat (inside the API request).
  const memory = new ConversationRepository(database.pool, { prepared });
  const turnStore = new TurnRepository(database.pool, { prepared });
  const ledger = new OutboundRepository(database.pool, { prepared });
  const llm = createLlm({ provider: config.LLM_PROVIDER, host: config.OLLAMA_HOST, defaultModel: config.OLLAMA_CHAT_MODEL, ollama: { fetch: makeFetch } });
  // Usage limits first, then the plans' gate (assembled below, before any turn runs).
  const limits = createUsageLimits({
    config,
    pool: database.pool,
    prepared,
    redis,
    metrics,
    next: { check: (turn) => billing.replyGate.check(turn), recordReply: (turnId) => billing.replyGate.recordReply(turnId) },
  });
  const engine = new ConversationEngine({ llm, knowledge: retriever, memory }, {
    ...limits.engine,
    onDegraded: (what, err) => logger.warn({ err }, `conversation: ${what}`),
  });
  // On PostgreSQL, one connection per turn holding its locks: the worker's turns plus up to 16 web
  // turns (the pool connects lazily, so a process only opens what its role uses). The embedded
  // database is one session serving one process: its locks are kept in memory.
  const conversationLocks =
    database.kind === 'pglite'
      ? new InProcessConversationLocks(database.pool)
      : new ConversationLockRepository(database.url, config.CONVERSE_CONCURRENCY + 16, { prepared });
  const billing = createBillingPlatform({
    config,
    pool: database.pool,
    prepared,
    queues,
    logger,
    creators,
    bots,
    notifier: mail.notifications,
    chat: { senders, contacts, ledger },
    clock: options.clock,
  });
  const webChat = new WebChatService({
    locks: conversationLocks,
    perCreatorLimit: config.CONVERSE_PER_CREATOR,
    bots,
    directory: conversationBots,
    inbound: inboundRepository,
    turns: turnStore,
    ledger,
    engine,
    replyGate: limits.replyGate,
  });
  const deliveries = new DeliveryService({ store: new DeliveryRepository(database.pool), bots });
  let stopReconciler: (() => Promise<void>) | undefined;
  let closeMedia: (() => void) | undefined;
  let closeReaders: (() => Promise<void>) | undefined;

  const app = await buildApp({
    config,
    logger,
    metrics,
    redis,
    auth,
    apiKeys,
    accountEmail: mail.accountEmail,
    email: mail.http,
    bots,
    retriever,
    documents,
    channels,
    telegramWebhookCredentials: { telegramCredentials: (botId) => telegramCredentials.get(botId) },
    inbound,
    webChat,
    deliveries,
    billing: { service: billing.service, premium: billing.premium, stripeEvents: billing.stripeEvents },
    readiness: [
      { name: 'database', check: async () => void (await database.pool.query('SELECT 1')) },
      { name: 'queue', check: () => queues.ping() },
      ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
      { name: 'vectorStore', check: () => vectorStore.ping() },
    ],
  });

  return {
    config,
    database,
    queues,
    metrics,
    redis,
    bots,
    vectorStore,
    embedder,
    retriever,
    documents,
    auth,
    apiKeys,
    email: mail,
    billing,
    hasCreators: () => creators.any(),
    app,
    startWorkers() {
      // Uploads and files users send are read in child processes with their own limits, away from the
      // event loop that answers webhooks.
      const loaders = new LoaderSandbox({
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
      closeReaders = () => loaders.close();
      const urls = new UrlLoader(loaders, {
        timeoutMs: config.URL_FETCH_TIMEOUT_MS,
        maxBytes: config.URL_FETCH_MAX_BYTES,
        allowPrivate: config.URL_FETCH_ALLOW_PRIVATE,
      });
      const ingestDeps: IngestWorkerDeps = {
        documents: documentRepository,
        sources: { load: (input) => loaders.load(input), fetch: (url) => urls.fetch(url) },
        splitter: loaders,
        embedder,
        vectors: vectorStore,
        embedBatchSize: config.EMBED_BATCH_SIZE,
        metrics,
        logger,
        onFailed: mail.onDocumentFailed,
        // A bot's first embedded document changes how it is searched; the retriever learns it at once.
        onIndexChanged: (botId) => retriever.forgetBot(botId),
      };
      const ingest = createIngestProcessor(ingestDeps);
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
      });

      // Files users send live under DATA_DIR/media; documents are read by the same reading processes.
      const mediaStorage: MediaStorage =
        config.MEDIA_STORAGE === 's3'
          ? new S3Storage({
              bucket: config.S3_BUCKET!,
              region: config.S3_REGION,
              forcePathStyle: config.S3_FORCE_PATH_STYLE ?? config.S3_ENDPOINT !== undefined,
              endpoint: config.S3_ENDPOINT,
              accessKeyId: config.S3_ACCESS_KEY_ID,
              secretAccessKey: config.S3_SECRET_ACCESS_KEY,
              prefix: config.S3_PREFIX,
            })
          : new LocalDiskStorage(path.join(config.dataDir, 'media'));
      bots.addBotDeletedListener((botId) => mediaStorage.deletePrefix(`${botId}/`));
      closeMedia = () => mediaStorage.close?.();
      const files = new MediaService({
        records: new MediaRepository(database.pool),
        storage: mediaStorage,
        maxBytes: config.MEDIA_MAX_BYTES,
        readText: async ({ bytes, mimeType, fileName }) => {
          const loaded = await loaders.load({ bytes, mediaType: mimeType, ...(fileName ? { filename: fileName } : {}) });
          return loaded.pages.map((p) => p.text).join('\n\n');
        },
      });
      const turns = new TurnService({
        engine,
        memory,
        bots: conversationBots,
        turns: turnStore,
        ledger,
        contacts,
        locks: conversationLocks,
        senders,
        perCreatorLimit: config.CONVERSE_PER_CREATOR,
        files,
        replyGate: limits.replyGate,
        onDegraded: (what, err) => logger.info({ err }, `conversation: ${what}`),
      });
      const jobState = (inboundId: string) => queues.jobState('converse', converseJobId(inboundId));
      queues.work('converse', createConverseProcessor({ turns, jobState, busyRetryMs: 250, logger }), {
        concurrency: config.CONVERSE_CONCURRENCY,
        lockDurationMs: config.CONVERSE_LOCK_DURATION_MS,
        stalledIntervalMs: config.CONVERSE_STALLED_INTERVAL_MS,
      });
      const reconciler = startReconciler({
        service: new ReconcileService({ inbound: inboundRepository, queue: turnQueue, graceMs: config.RECONCILE_GRACE_MS }),
        workers: queues,
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger,
      });
      stopReconciler = () => reconciler.stop();
      mail.startWorkers();
      billing.startWorkers();
    },
    async close() {
      await app.close();
      await stopReconciler?.();
      closeMedia?.();
      await mail.stop();
      await billing.stop();
      await queues.close();
      // After the workers have drained: a read still under way fails with the sandbox closed.
      await closeReaders?.();
      await conversationLocks.close();
      redis?.disconnect();
      await vectorStore.close();
      await database.close();
    },
  };
}
