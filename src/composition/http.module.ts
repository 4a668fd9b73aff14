import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { DEMO_EMAIL } from '../demo/seed-demo.js';
import { buildApp } from '../http/app.js';
import type { Logger } from '../observability/logger.js';
import type { AccountsModule } from './accounts.module.js';
import type { AnalyticsModule } from './analytics.module.js';
import type { BillingModule } from './billing.module.js';
import type { BotsModule } from './bots.module.js';
import type { ChannelsModule } from './channels.module.js';
import type { CoachingModule } from './coaching.module.js';
import type { ConversationsModule } from './conversations.module.js';
import type { EmailModule } from './email.module.js';
import type { EventsModule } from './events.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { KnowledgeModule } from './knowledge.module.js';
import type { ModuleLifecycle } from './module.types.js';
import type { PaymentsModule } from './payments.module.js';

/** The HTTP API over every feature; it never listens by itself (src/main.ts does). */
export interface HttpModule extends ModuleLifecycle {
  app: FastifyInstance;
}

export interface HttpModuleDeps {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  email: EmailModule;
  accounts: AccountsModule;
  billing: BillingModule;
  bots: BotsModule;
  events: EventsModule;
  knowledge: KnowledgeModule;
  channels: ChannelsModule;
  conversations: ConversationsModule;
  payments: PaymentsModule;
  coaching: CoachingModule;
  analytics: AnalyticsModule;
}

/** Builds the app; readiness asks the database, the queues, Redis and the vector store. */
export async function createHttpModule(deps: HttpModuleDeps): Promise<HttpModule> {
  const { config, logger, infrastructure, email, accounts, billing, bots, events, knowledge, channels, conversations, payments, coaching, analytics } = deps;
  const { database, queues, redis, metrics } = infrastructure;
  const app = await buildApp({
    config,
    logger,
    metrics,
    redis,
    landing: { demoBotId: () => accounts.creators.firstPublishedBotIdByEmail(DEMO_EMAIL) },
    auth: accounts.auth,
    apiKeys: accounts.apiKeys,
    accountEmail: accounts.accountEmail,
    email: email.http,
    bots: bots.service,
    retriever: knowledge.retriever,
    documents: knowledge.documents,
    sites: knowledge.sites,
    faqs: knowledge.faqs,
    channels: channels.setup,
    webPublications: channels.webPublications,
    visitorChat: conversations.visitorChat,
    telegramWebhookCredentials: { telegramCredentials: (botId) => channels.telegramCredentials.get(botId) },
    inbound: conversations.inbound,
    webChat: conversations.webChat,
    deliveries: conversations.deliveries,
    coaching: { programs: coaching.programs, admin: coaching.admin, habits: coaching.habits, broadcasts: coaching.broadcasts, tags: coaching.tags },
    inbox: conversations.inbox,
    events: { hub: events.hub, tickets: events.tickets, credentials: accounts.credentials },
    takeover: conversations.takeover,
    analytics: analytics.service,
    billing: { service: billing.service, premium: payments.premium, stripeEvents: payments.stripeEvents },
    readiness: [
      { name: 'database', check: async () => void (await database.pool.query('SELECT 1')) },
      { name: 'queue', check: () => queues.ping() },
      ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
      { name: 'vectorStore', check: () => knowledge.vectorStore.ping() },
    ],
  });
  // Built last, drained first: no request starts work once shutdown begins.
  return { app, drain: () => app.close() };
}
