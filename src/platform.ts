import type { FastifyInstance } from 'fastify';
import { createAccountsModule, type AccountsModule } from './composition/accounts.module.js';
import { createAnalyticsModule, type AnalyticsModule } from './composition/analytics.module.js';
import { createBillingModule, type BillingModule } from './composition/billing.module.js';
import { createBotsModule, type BotsModule } from './composition/bots.module.js';
import { createChannelsModule, type ChannelsModule } from './composition/channels.module.js';
import { createCoachingModule, type CoachingModule } from './composition/coaching.module.js';
import { createConversationsModule, type ConversationsModule } from './composition/conversations.module.js';
import { createEmailModule, type EmailModule } from './composition/email.module.js';
import { createEventsModule, type EventsModule } from './composition/events.module.js';
import { createHttpModule } from './composition/http.module.js';
import { createInfrastructureModule, type InfrastructureModule } from './composition/infrastructure.module.js';
import { createKnowledgeModule, type KnowledgeModule } from './composition/knowledge.module.js';
import { createMediaModule, type MediaModule } from './composition/media.module.js';
import type { ModuleLifecycle } from './composition/module.types.js';
import { createPaymentsModule, type PaymentsModule } from './composition/payments.module.js';
import type { Config } from './config.js';
import type { Logger } from './observability/logger.js';
import type { DemoSeedDeps } from './demo/seed-demo.js';

/** The assembled platform: one module per feature (src/composition/), the app, and the process's lifecycle. */
export interface Platform {
  config: Config;
  /** The database, queues, Redis and metrics. */
  infrastructure: InfrastructureModule;
  /** Transactional email: send queue, notifications (incl. the BillingNotifier), digests. */
  email: EmailModule;
  /** Creators, sessions, API keys. */
  accounts: AccountsModule;
  /** Plans, the quota checks and the reply gate. */
  billing: BillingModule;
  /** Bots and their sealed channel credentials. */
  bots: BotsModule;
  /** Creators' live events of their bots: publishing from every process, the streams of this one. */
  events: EventsModule;
  /** Documents, their ingestion, the vector store and retrieval. */
  knowledge: KnowledgeModule;
  /** Telegram and WhatsApp set-up, credentials and senders. */
  channels: ChannelsModule;
  /** Files users send. */
  media: MediaModule;
  /** Reminders, programs and every message the bot sends of its own accord. */
  coaching: CoachingModule;
  /** Inbound messages, the engine, web chat, the `converse` worker and the reconciler. */
  conversations: ConversationsModule;
  /** End-user premium and what Stripe reports back. */
  payments: PaymentsModule;
  /** Creators' per-day figures of their bots. */
  analytics: AnalyticsModule;
  app: FastifyInstance;
  /** Starts the queue workers of this process. */
  startWorkers(): void;
  /** Closes the app, drains the workers and closes every connection, the database last. */
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it) and the queues, and builds each feature on the ones it needs.
 * `options.clock` stands in for the wall clock where billing, coaching and WhatsApp's window read it (tests move time with it).
 */
export async function createPlatform(config: Config, logger: Logger, options: { clock?: () => Date } = {}): Promise<Platform> {
  const infrastructure = await createInfrastructureModule({ config, logger });
  const email = createEmailModule({ config, logger, infrastructure });
  const accounts = createAccountsModule({ config, logger, infrastructure, email });
  const billing = createBillingModule({ config, logger, infrastructure, accounts, clock: options.clock });
  const bots = createBotsModule({ config, infrastructure, billing });
  const events = createEventsModule({ config, logger, infrastructure, bots, accounts, clock: options.clock });
  const knowledge = createKnowledgeModule({ config, logger, infrastructure, billing, bots, email, events });
  const channels = createChannelsModule({ config, logger, infrastructure, bots, clock: options.clock });
  const media = createMediaModule({ config, infrastructure, bots, knowledge });
  const coaching = createCoachingModule({ config, logger, infrastructure, bots, channels, events, clock: options.clock });
  const conversations = createConversationsModule({ config, logger, infrastructure, bots, knowledge, billing, channels, media, coaching, email, events, clock: options.clock });
  const payments = createPaymentsModule({
    config,
    logger,
    infrastructure,
    accounts,
    email,
    billing,
    bots,
    chat: { senders: channels.senders, contacts: conversations.contacts, ledger: conversations.ledger },
  });
  const analytics = createAnalyticsModule({ infrastructure, bots });
  const http = await createHttpModule({ config, logger, infrastructure, email, accounts, billing, bots, events, knowledge, channels, conversations, payments, coaching, analytics });

  // Build order; shutdown walks it backwards, twice: first everything stops taking work (the app
  // first, the queue workers last), then everything lets go of what it holds (the database last).
  const modules: readonly ModuleLifecycle[] = [infrastructure, email, accounts, billing, bots, events, knowledge, channels, media, coaching, conversations, payments, analytics, http];
  return {
    config,
    infrastructure,
    email,
    accounts,
    billing,
    bots,
    events,
    knowledge,
    channels,
    media,
    coaching,
    conversations,
    payments,
    analytics,
    app: http.app,
    startWorkers() {
      for (const module of modules) module.startWorkers?.();
    },
    async close() {
      const backwards = modules.toReversed();
      for (const module of backwards) await module.drain?.();
      for (const module of backwards) await module.stop?.();
    },
  };
}

/** What the first-run demo (src/demo/seed-demo.ts) needs from the platform. */
export function demoSeedDeps(platform: Platform, io: Pick<DemoSeedDeps, 'logger' | 'print'>): DemoSeedDeps {
  return {
    hasCreators: () => platform.accounts.hasCreators(),
    auth: platform.accounts.auth,
    apiKeys: platform.accounts.apiKeys,
    bots: platform.bots.service,
    documents: platform.knowledge.documents,
    webChat: platform.channels.webPublications,
    ...io,
  };
}
