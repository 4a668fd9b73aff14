import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Redis } from 'ioredis';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { platformBaseUrl, type Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiKeyService } from '../accounts/api-key.service.js';
import type { AuthService } from '../accounts/auth.service.js';
import type { BotService } from '../bots/bot.service.js';
import { openApiTransform } from './openapi-body.js';
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './errors.js';
import { authPlugin } from './plugins/auth.js';
import { storableInputPlugin } from './plugins/storable-input.js';
import { apiKeyRoutes } from './routes/api-keys.routes.js';
import { authRoutes } from './routes/auth.routes.js';
import { botRoutes } from './routes/bots.routes.js';
import { documentRoutes } from './routes/documents.routes.js';
import type { DocumentService } from '../knowledge/document.service.js';
import type { SiteService } from '../knowledge/site.service.js';
import { siteRoutes } from './routes/sites.routes.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { searchRoutes } from './routes/search.routes.js';
import type { Retriever } from '../../rag/types.js';
import type { ChannelSetupService } from '../conversation/channel-setup.service.js';
import type { InboundService } from '../conversation/inbound.service.js';
import { channelRoutes } from './routes/channels.routes.js';
import { telegramWebhookRoutes } from './routes/telegram-webhook.routes.js';
import { whatsappWebhookRoutes } from './routes/whatsapp-webhook.routes.js';
import { conversationRoutes } from './routes/conversations.routes.js';
import { eventRoutes, type EventRoutesOptions } from './routes/events.routes.js';
import { deliveryRoutes } from './routes/deliveries.routes.js';
import { habitRoutes } from './routes/habits.routes.js';
import { faqRoutes } from './routes/faqs.routes.js';
import { programRoutes } from './routes/programs.routes.js';
import type { HabitService } from '../coaching/habit.service.js';
import type { FaqService } from '../knowledge/faq.service.js';
import { broadcastRoutes } from './routes/broadcasts.routes.js';
import { contactRoutes } from './routes/contacts.routes.js';
import type { ContactTagService } from '../coaching/contact-tag.service.js';
import type { BroadcastService } from '../coaching/broadcast.service.js';
import type { ProgramService } from '../coaching/program.service.js';
import type { CoachingAdminService } from '../coaching/coaching-admin.service.js';
import { analyticsRoutes } from './routes/analytics.routes.js';
import type { AnalyticsService } from '../coaching/analytics.service.js';
import type { DeliveryService } from '../conversation/delivery.service.js';
import type { InboxService } from '../conversation/inbox.service.js';
import type { TakeoverService } from '../conversation/takeover.service.js';
import type { WebChatService } from '../conversation/web-chat.service.js';
import type { WebPublicationService } from '../conversation/web-publication.service.js';
import type { VisitorChatService } from '../conversation/visitor-chat.service.js';
import { chatRoutes } from './routes/chat.routes.js';
import { chatPageRoutes } from './routes/chat-page.routes.js';
import { publicChatRoutes } from './routes/public-chat.routes.js';
import { landingRoutes, type LandingRoutesOptions } from './routes/landing.routes.js';
import { docsRoutes } from './routes/docs.routes.js';
import { dashboardBuilt, dashboardRoutes } from './routes/dashboard.routes.js';
import type { BillingService } from '../billing/billing.service.js';
import type { PremiumService } from '../billing/premium.service.js';
import type { StripeEventService } from '../billing/stripe-events.service.js';
import { billingPageRoutes, billingRoutes } from './routes/billing.routes.js';
import { stripeWebhookRoutes } from './routes/stripe-webhook.routes.js';
import type { AccountEmailService } from '../accounts/account-email.service.js';
import type { SendGridWebhookVerifier } from '../email/adapters/sendgrid.webhook.js';
import type { OutboxReader } from '../email/delivery.ports.js';
import type { EmailFeedbackService } from '../email/email-feedback.service.js';
import { devOutboxRoutes } from './routes/dev-outbox.routes.js';
import { emailLinkRoutes } from './routes/email-links.routes.js';
import { sendGridWebhookRoutes } from './routes/sendgrid-webhook.routes.js';

/** Everything the HTTP layer needs, built by the composition root (src/main.ts) or a test. */
export interface AppDeps {
  config: Config;
  /** What the page at `/` links to. */
  landing: LandingRoutesOptions;
  logger: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Shares rate-limit counters across API processes when present. */
  redis?: Redis | undefined;
  auth: AuthService;
  apiKeys: ApiKeyService;
  /** Email verification and password reset. */
  accountEmail: AccountEmailService;
  /** Email: the development outbox (absent when SendGrid sends), the event webhook's verifier, feedback. */
  email: { outbox?: OutboxReader; webhookVerifier?: SendGridWebhookVerifier; feedback: EmailFeedbackService };
  bots: BotService;
  /** Hybrid retrieval over a bot's documents (the search endpoint; the same one the bot uses). */
  retriever: Retriever;
  /** The bots' knowledge bases: uploads, web addresses, ingestion status. */
  documents: DocumentService;
  /** Websites in the knowledge bases, crawled and kept in sync. */
  sites?: SiteService;
  /** The bots' FAQ pairs; without it their routes are absent. */
  faqs?: FaqService;
  /** Connecting bots to channels (Telegram token, webhook). */
  channels: ChannelSetupService;
  /** Telegram credentials for webhook verification, cached by the platform; read through `channels` when absent. */
  telegramWebhookCredentials?: Pick<ChannelSetupService, 'telegramCredentials'>;
  /** Where webhooks hand their normalised messages. */
  inbound: InboundService;
  /** Web chat: answers inside the request and streams the reply (SSE). */
  webChat: WebChatService;
  /** Publishing bots' public web chat. */
  webPublications: WebPublicationService;
  /** Visitors of published bots: sessions, history, caps. */
  visitorChat: VisitorChatService;
  /** Plans and Stripe: the creator's subscription, bots' end-user premium, the Stripe webhook. */
  billing: { service: BillingService; premium: PremiumService; stripeEvents: Pick<StripeEventService, 'receive'> };
  /** Channels' delivery reports and the outgoing messages creators can inspect. */
  deliveries: DeliveryService;
  /** Programs, contacts' time zones and proactive messages; without it those routes are absent. */
  coaching?: { programs: ProgramService; admin: CoachingAdminService; habits?: HabitService; broadcasts?: BroadcastService; tags?: ContactTagService };
  /** The creators' inbox: conversations and transcripts. */
  inbox: InboxService;
  /** Human takeover of conversations. */
  takeover: TakeoverService;
  /** Creators' per-day figures of their bots. */
  analytics: Pick<AnalyticsService, 'forBot'>;
  /** Creators' live events of their bots (SSE) and the tickets that open them; without it the routes are absent. */
  events?: Omit<EventRoutesOptions, 'bots'>;
}


// Every schema is zod. Without factories of its own, Fastify loads its default compilers (Ajv and
// fast-json-stringify: about half a second of start-up) that would never compile anything; its types
// describe Ajv's compilers, hence the cast.
const zodCompilers = { buildValidator: () => validatorCompiler, buildSerializer: () => serializerCompiler } as unknown as NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/** Builds the Fastify application without listening; tests drive it with `app.inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const trustProxy = deps.config.TRUST_PROXY;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify takes a hop count at run time, but its types do not: the same rule as a function.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    bodyLimit: 1024 * 1024,
    logController: new LogController({ disableRequestLogging: deps.config.NODE_ENV === 'test' }),
    frameworkErrors: frameworkErrorHandler,
    schemaController: { compilersFactory: zodCompilers },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);

  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Coaching assistant platform API', version: '0.1.0' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'JWT access token or API key' } },
      },
    },
    transform: openApiTransform,
  });
  await app.register(docsRoutes);

  await app.register(rateLimit, {
    global: true,
    max: deps.config.RATE_LIMIT_MAX,
    timeWindow: deps.config.RATE_LIMIT_WINDOW,
    ...(deps.redis ? { redis: deps.redis, nameSpace: `${deps.config.QUEUE_PREFIX}:rate-limit:` } : {}),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: { code: 'RATE_LIMITED', message: `Too many requests; retry in ${context.after}` },
    }),
  });

  // Probing unknown paths counts against the limit too.
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, notFoundHandler);

  // Before any route: `/v1` routes use `app.authenticate`.
  await app.register(authPlugin, {
    jwtSecret: deps.config.JWT_SECRET,
    accessTokenTtlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    apiKeys: deps.apiKeys,
    sessions: deps.auth,
  });

  await app.register(storableInputPlugin);

  await app.register(healthRoutes, { readiness: deps.readiness, metrics: deps.metrics, metricsToken: deps.config.METRICS_TOKEN });
  await app.register(authRoutes, { prefix: '/v1', auth: deps.auth, accountEmail: deps.accountEmail, rateLimitMax: deps.config.AUTH_RATE_LIMIT_MAX, ownOrigin: new URL(platformBaseUrl(deps.config)).origin });
  await app.register(apiKeyRoutes, { prefix: '/v1', apiKeys: deps.apiKeys });
  await app.register(botRoutes, { prefix: '/v1', bots: deps.bots });
  await app.register(documentRoutes, { prefix: '/v1', documents: deps.documents, uploadMaxBytes: deps.config.UPLOAD_MAX_BYTES, sites: deps.sites });
  if (deps.sites) await app.register(siteRoutes, { prefix: '/v1', sites: deps.sites });
  if (deps.faqs) await app.register(faqRoutes, { prefix: '/v1', faqs: deps.faqs });
  await app.register(searchRoutes, { prefix: '/v1', bots: deps.bots, retriever: deps.retriever });
  await app.register(channelRoutes, { prefix: '/v1', channels: deps.channels, webPublications: deps.webPublications });
  await app.register(deliveryRoutes, { prefix: '/v1', deliveries: deps.deliveries });
  if (deps.coaching) await app.register(programRoutes, { prefix: '/v1', programs: deps.coaching.programs, coaching: deps.coaching.admin });
  if (deps.coaching?.habits) await app.register(habitRoutes, { prefix: '/v1', habits: deps.coaching.habits });
  if (deps.coaching?.broadcasts) await app.register(broadcastRoutes, { prefix: '/v1', broadcasts: deps.coaching.broadcasts });
  if (deps.coaching?.tags) await app.register(contactRoutes, { prefix: '/v1', tags: deps.coaching.tags });
  await app.register(conversationRoutes, { prefix: '/v1', inbox: deps.inbox, takeover: deps.takeover });
  if (deps.events) await app.register(eventRoutes, { prefix: '/v1', bots: deps.bots, ...deps.events });
  await app.register(analyticsRoutes, { prefix: '/v1', analytics: deps.analytics });
  await app.register(chatRoutes, { prefix: '/v1', bots: deps.bots, webChat: deps.webChat });
  await app.register(chatPageRoutes);
  await app.register(publicChatRoutes, { publications: deps.webPublications, visitors: deps.visitorChat, maxChars: deps.config.WEB_CHAT_MAX_CHARS });
  await app.register(landingRoutes, deps.landing);
  await app.register(dashboardRoutes);
  await app.register(billingRoutes, { prefix: '/v1', billing: deps.billing.service, premium: deps.billing.premium });
  await app.register(billingPageRoutes);
  await app.register(devOutboxRoutes, { prefix: '/v1', outbox: deps.email.outbox });
  await app.register(emailLinkRoutes, { feedback: deps.email.feedback, dashboardBuilt: () => dashboardBuilt() });
  await app.register(sendGridWebhookRoutes, { verifier: deps.email.webhookVerifier, feedback: deps.email.feedback });
  // Webhooks live outside /v1: they authenticate by the channel's own secret, not a JWT.
  await app.register(telegramWebhookRoutes, { channels: deps.telegramWebhookCredentials ?? deps.channels, inbound: deps.inbound });
  await app.register(stripeWebhookRoutes, { events: deps.billing.stripeEvents });
  await app.register(whatsappWebhookRoutes, { channels: deps.channels, inbound: deps.inbound, deliveries: deps.deliveries });

  return app;
}
