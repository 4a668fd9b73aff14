import { converseJobId, createConverseProcessor, createTurnQueue } from '../../workers/converse.worker.js';
import { startReconciler } from '../../workers/reconciler.js';
import { startPeriodic } from '../../workers/periodic.js';
import { ProactiveCreatorMessages } from '../coaching/creator-messages.js';
import type { Config } from '../config.js';
import { DeliveryService } from '../conversation/delivery.service.js';
import { ConversationEngine } from '../conversation/engine.js';
import { InboundService } from '../conversation/inbound.service.js';
import { InboxService } from '../conversation/inbox.service.js';
import { ReconcileService } from '../conversation/reconcile.service.js';
import { HandoffService, TakeoverService } from '../conversation/takeover.service.js';
import { TurnService } from '../conversation/turn.service.js';
import { VisitorChatService } from '../conversation/visitor-chat.service.js';
import { WebChatService } from '../conversation/web-chat.service.js';
import { webExternalId, webInbound, webMessageId } from '../../channels/web/web.inbound.js';
import { ContactRepository } from '../db/contact.repository.js';
import { ConversationLockRepository } from '../db/conversation-lock.repository.js';
import { ConversationBotRepository, ConversationRepository } from '../db/conversation.repository.js';
import { DeliveryRepository } from '../db/delivery.repository.js';
import { InboundRepository } from '../db/inbound.repository.js';
import { InboxRepository } from '../db/inbox.repository.js';
import { InProcessConversationLocks } from '../db/in-process-conversation-locks.js';
import { OutboundRepository } from '../db/outbound.repository.js';
import { TakeoverRepository } from '../db/takeover.repository.js';
import { TurnRepository } from '../db/turn.repository.js';
import { createLlm } from '../llm/llm-provider.js';
import type { Logger } from '../observability/logger.js';
import type { BillingModule } from './billing.module.js';
import type { BotsModule } from './bots.module.js';
import type { ChannelsModule } from './channels.module.js';
import type { CoachingModule } from './coaching.module.js';
import type { EventsModule } from './events.module.js';
import type { EmailModule } from './email.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { KnowledgeModule } from './knowledge.module.js';
import type { MediaModule } from './media.module.js';
import type { ModuleLifecycle } from './module.types.js';
import { createUsageLimits } from './usage-limits.module.js';

const EMBEDDED_TURN_POLL_MS = 150;
// A creator's message that failed in passing is tried again by the proactive worker this much later.
const CREATOR_MESSAGE_RETRY_MS = 30_000;

/** Conversations: webhook → inbound row → `converse` queue → engine → outbound ledger → channel. */
export interface ConversationsModule extends ModuleLifecycle {
  inbound: InboundService;
  webChat: WebChatService;
  /** Visitors of published bots: anonymous sessions, their history and the daily caps. */
  visitorChat: VisitorChatService;
  deliveries: DeliveryService;
  /** The creators' inbox: conversations and transcripts, read-only. */
  inbox: InboxService;
  /** Human takeover: the creator answers a conversation themselves. */
  takeover: TakeoverService;
  contacts: ContactRepository;
  /** Every reply, keyed by the turn it answers. */
  ledger: OutboundRepository;
  /** Starts the `converse` worker and the reconciler in this process. */
  startWorkers(): void;
}

export interface ConversationsModuleDeps {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  bots: BotsModule;
  knowledge: Pick<KnowledgeModule, 'retriever' | 'faqMatcher'>;
  /** The plans' gate, asked once a turn is within the usage limits. */
  billing: Pick<BillingModule, 'replyGate'>;
  channels: Pick<ChannelsModule, 'senders' | 'webPublications' | 'webChatStore' | 'replyBus'>;
  media: MediaModule;
  /** Reminders, opt-out and programs, consulted before the coach answers a turn; the proactive path the creator's own messages take. */
  coaching: Pick<CoachingModule, 'turns' | 'proactive'>;
  /** Tells the creator when a contact asks for a person. */
  email: Pick<EmailModule, 'notifications'>;
  /** Messages, replies and ledger changes are published to the creators' live events. */
  events?: Pick<EventsModule, 'publisher'>;
  /** The wall clock of the idle takeover release (tests move it). */
  clock?: (() => Date) | undefined;
}

/** One engine, memory and ledger, one queue and one worker for the turns of every channel. */
export function createConversationsModule({
  config,
  logger,
  infrastructure,
  bots,
  knowledge,
  billing,
  channels,
  media,
  coaching,
  email,
  events,
  clock,
}: ConversationsModuleDeps): ConversationsModule {
  const { database, queues, prepared } = infrastructure;
  const { pool } = database;
  const publisher = events ? { events: events.publisher } : {};
  const conversationBots = new ConversationBotRepository(pool);
  bots.service.addBotDeletedListener(async (botId) => conversationBots.invalidate(botId));
  const inboundRepository = new InboundRepository(pool, { prepared });
  const turnQueue = createTurnQueue(queues);
  const contacts = new ContactRepository(pool);
  const inbound = new InboundService({
    bots: conversationBots,
    store: inboundRepository,
    queue: turnQueue,
    onEnqueueFailed: (err, inboundId) => logger.warn({ err, inboundId }, 'converse: enqueue failed after commit; the reconciler will pick it up'),
    ...publisher,
  });
  const memory = new ConversationRepository(pool, { prepared });
  const turnStore = new TurnRepository(pool, { prepared, ...publisher });
  const ledger = new OutboundRepository(pool, { prepared, ...publisher });
  const llm = createLlm({
    provider: config.LLM_PROVIDER,
    host: config.OLLAMA_HOST,
    hostConfigured: config.OLLAMA_HOST_SET,
    defaultModel: config.OLLAMA_CHAT_MODEL,
    ollama: { fetch: infrastructure.makeFetch },
  });
  // Usage limits first, then the plans' gate.
  const limits = createUsageLimits({ config, pool, prepared, redis: infrastructure.redis, metrics: infrastructure.metrics, next: billing.replyGate });
  const engine = new ConversationEngine({ llm, knowledge: knowledge.retriever, memory, faqs: knowledge.faqMatcher }, {
    ...limits.engine,
    onDegraded: (what, err) => logger.warn({ err }, `conversation: ${what}`),
  });
  // On PostgreSQL, one connection per turn holding its locks (connected lazily, so an API process
  // opens none). The embedded database is one session serving one process: its locks are kept in memory.
  const locks =
    database.kind === 'pglite'
      ? new InProcessConversationLocks(pool)
      : new ConversationLockRepository(database.url, config.CONVERSE_CONCURRENCY, { prepared });
  // Web chat messages take the converse queue like every channel's; the page's request follows the
  // turn through the reply bus, whichever process answers it.
  const webChat = new WebChatService({
    inbound,
    events: channels.replyBus,
    messages: channels.webChatStore,
    channel: { toInbound: webInbound, externalId: webExternalId, messageId: webMessageId },
  });
  const visitorChat = new VisitorChatService({
    publications: channels.webPublications,
    store: channels.webChatStore,
    webChat,
    limits: {
      visitorDailyMessages: config.WEB_CHAT_VISITOR_DAILY_MESSAGES,
      ipDailyMessages: config.WEB_CHAT_IP_DAILY_MESSAGES,
      botDailyMessages: config.WEB_CHAT_BOT_DAILY_MESSAGES,
      maxChars: config.WEB_CHAT_MAX_CHARS,
    },
    onRefused: (reason, botId) => logger.info({ botId, reason }, 'web chat: visitor message refused by an abuse limit'),
  });
  const deliveries = new DeliveryService({ store: new DeliveryRepository(pool, publisher), bots: bots.service, optOuts: coaching?.proactive });
  const inbox = new InboxService({ store: new InboxRepository(pool), bots: bots.service });
  const now = clock ?? (() => new Date());
  const takeoverStore = new TakeoverRepository(pool, publisher);
  const takeover = new TakeoverService({
    store: takeoverStore,
    bots: bots.service,
    messages: new ProactiveCreatorMessages({ proactive: coaching.proactive, clock: now, retryAfterMs: CREATOR_MESSAGE_RETRY_MS }),
    idleReleaseMs: config.TAKEOVER_IDLE_RELEASE_MINUTES * 60_000,
    clock: now,
    held: coaching.proactive,
    onDegraded: (what, err) => logger.warn({ err }, what),
    ...publisher,
  });
  const handoff = new HandoffService({ store: takeoverStore, notifier: email.notifications });

  let reconciler: { stop(): Promise<void> } | undefined;
  let idleRelease: { stop(): Promise<void> } | undefined;
  return {
    inbound,
    webChat,
    visitorChat,
    deliveries,
    inbox,
    takeover,
    contacts,
    ledger,
    startWorkers() {
      const turns = new TurnService({
        engine,
        memory,
        bots: conversationBots,
        turns: turnStore,
        ledger,
        contacts,
        locks,
        senders: channels.senders,
        perCreatorLimit: config.CONVERSE_PER_CREATOR,
        files: media.files,
        replyGate: limits.replyGate,
        interceptor: coaching.turns,
        handoff,
        onDegraded: (what, err) => logger.info({ err }, `conversation: ${what}`),
      });
      const jobState = (inboundId: string) => queues.jobState('converse', converseJobId(inboundId));
      queues.work('converse', createConverseProcessor({ turns, jobState, busyRetryMs: 250, logger }), {
        concurrency: config.CONVERSE_CONCURRENCY,
        lockDurationMs: config.CONVERSE_LOCK_DURATION_MS,
        stalledIntervalMs: config.CONVERSE_STALLED_INTERVAL_MS,
        // Someone waits for every turn (a web chat page, a Telegram user): on the embedded database,
        // where no notification wakes the worker, it looks for new turns often.
        ...(database.kind === 'pglite' ? { idlePollMs: EMBEDDED_TURN_POLL_MS } : {}),
      });
      reconciler = startReconciler({
        service: new ReconcileService({ inbound: inboundRepository, queue: turnQueue, graceMs: config.RECONCILE_GRACE_MS }),
        workers: queues,
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger,
      });
      // Takeovers the creator left idle go back to the bot.
      idleRelease = startPeriodic({
        name: 'takeover idle release',
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger,
        pass: async () => {
          const released = await takeover.releaseIdle();
          if (released > 0) logger.info({ released }, 'takeover: idle conversations handed back to the bot');
        },
      });
    },
    async drain() {
      await idleRelease?.stop();
      await reconciler?.stop();
    },
    async stop() {
      await locks.close();
    },
  };
}
