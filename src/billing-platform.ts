import type pg from 'pg';
import { BillingService, type BillingUrls } from './billing/billing.service.js';
import { InvalidPlansError, parsePlans, purchasablePlans, type Plan } from './billing/plans.js';
import type { BillingNotifier, BotPremiumStore, CreatorDirectory, PaymentGateway } from './billing/ports.js';
import { PremiumService } from './billing/premium.service.js';
import { ReplyGateService } from './billing/reply-gate.service.js';
import { StripeEventService } from './billing/stripe-events.service.js';
import { ConfigError, type Config } from './config.js';
import { NoticeService } from './conversation/notice.service.js';
import type { ContactStore, OutboundLedger, SenderDirectory } from './conversation/turn.ports.js';
import { BillingRepository } from './db/billing.repository.js';
import { BotPremiumRepository } from './db/bot-premium.repository.js';
import { NoticeRepository } from './db/notice.repository.js';
import { UsageRepository } from './db/usage.repository.js';
import type { JobQueues } from './jobs/queues.js';
import type { Logger } from './observability/logger.js';
import { DisabledPaymentGateway } from './payments/disabled.gateway.js';
import { StripeGateway } from './payments/stripe.gateway.js';
import { createStripeEventQueue, createStripeEventsProcessor, startStripeEventSweep } from '../workers/stripe-events.worker.js';

const STRIPE_EVENTS_CONCURRENCY = 4;

/** Billing, assembled: what the composition root (src/platform.ts) wires in. */
export interface BillingPlatform {
  plans: readonly Plan[];
  /** Creators' plans, checkout and portal; the quota checks bots and documents call. */
  service: BillingService;
  /** Bots' end-user premium settings. */
  premium: PremiumService;
  /** The Stripe webhook's two halves (store; apply in the worker). */
  stripeEvents: StripeEventService;
  /** The converse pipeline's and web chat's check before any model call. */
  replyGate: ReplyGateService;
  /** Starts the `stripe-events` worker and its sweep in this process. */
  startWorkers(): void;
  stop(): Promise<void>;
}

export interface BillingPlatformDeps {
  config: Config;
  pool: pg.Pool;
  /** Whether per-turn statements may be prepared per connection (PostgreSQL, not the embedded database). */
  prepared: boolean;
  queues: JobQueues;
  logger: Logger;
  creators: CreatorDirectory;
  /** Ownership check for premium settings: resolves for the creator's bot, throws NotFoundError otherwise. */
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  /** Emails about creators' payments (src/email). */
  notifier: BillingNotifier;
  /** What time it is for billing; tests move it (e.g. past a checkout's expiry). */
  clock?: (() => Date) | undefined;
  /** How a contact is told in the chat that their payment unlocked the bot. */
  chat: { senders: SenderDirectory; contacts: Pick<ContactStore, 'isBlocked' | 'setBlocked'>; ledger: Pick<OutboundLedger, 'markSending' | 'markSent' | 'markFailed'> };
}

/** PLANS_JSON, read once; a broken list stops start-up naming the variable and every problem. */
function loadPlans(config: Config): Plan[] {
  try {
    return parsePlans(config.PLANS_JSON, 'PLANS_JSON');
  } catch (err) {
    if (err instanceof InvalidPlansError) throw new ConfigError(err.issues.map((issue) => `PLANS_JSON ${issue}`));
    throw err;
  }
}

/** Stripe's return addresses: configured, or the platform's own pages under PUBLIC_URL. */
function billingUrls(config: Config): BillingUrls {
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  return {
    success: config.BILLING_SUCCESS_URL ?? `${base}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
    cancel: config.BILLING_CANCEL_URL ?? `${base}/billing/cancelled`,
    portalReturn: config.BILLING_RETURN_URL ?? `${base}/billing/return`,
    contactSuccess: `${base}/billing/done`,
    contactCancel: `${base}/billing/cancelled`,
  };
}

/** Plans, Stripe (or its absence), the stores and services of billing, and the `stripe-events` worker. */
export function createBillingPlatform(deps: BillingPlatformDeps): BillingPlatform {
  const { config, pool, queues, logger } = deps;
  const plans = loadPlans(config);
  const secretKey = config.STRIPE_SECRET_KEY;
  const paymentsEnabled = secretKey !== undefined;
  const gateway: PaymentGateway = secretKey
    ? new StripeGateway({ secretKey, webhookSecret: config.STRIPE_WEBHOOK_SECRET, apiBase: config.STRIPE_API_BASE })
    : new DisabledPaymentGateway();
  if (paymentsEnabled && !config.STRIPE_WEBHOOK_SECRET) logger.warn('STRIPE_WEBHOOK_SECRET is unset: every Stripe webhook will be rejected');
  if (!paymentsEnabled && purchasablePlans(plans).length) logger.warn('PLANS_JSON names Stripe prices but STRIPE_SECRET_KEY is unset: only the free plan is available');

  const urls = billingUrls(config);
  // The reply gate keeps plans and premium settings for a few seconds; what this process changes
  // reaches it at once through these two hooks (other processes' changes within its TTL).
  const records = new BillingRepository(pool, {
    onRecordChanged: (reference) => {
      if (reference.kind === 'creator') replyGate.subscriptionChanged(reference.creatorId);
    },
  });
  const usage = new UsageRepository(pool, { prepared: deps.prepared });
  const premiumRepository = new BotPremiumRepository(pool);
  const premiumStore: BotPremiumStore = {
    find: (botId) => premiumRepository.find(botId),
    save: async (botId, settings) => {
      await premiumRepository.save(botId, settings);
      replyGate.premiumChanged(botId);
    },
    remove: async (botId) => {
      const removed = await premiumRepository.remove(botId);
      replyGate.premiumChanged(botId);
      return removed;
    },
  };
  const service = new BillingService({ plans, gateway, paymentsEnabled, records, checkouts: records, usage, creators: deps.creators, urls, clock: deps.clock });
  const premium = new PremiumService({ bots: deps.bots, store: premiumStore, paymentsEnabled });
  const notices = new NoticeService({ store: new NoticeRepository(pool), ...deps.chat });
  const queue = createStripeEventQueue(queues);
  const stripeEvents = new StripeEventService({
    gateway,
    events: records,
    checkouts: records,
    queue,
    plans,
    creators: deps.creators,
    notifier: deps.notifier,
    messenger: {
      notify: async (botId, contactId, text, dedupeKey) => {
        const outcome = await notices.send(botId, contactId, { text }, dedupeKey);
        if (outcome === 'undeliverable') logger.info({ botId, contactId, dedupeKey }, 'billing: the contact could not be told in the chat');
      },
    },
    urls,
    onEnqueueFailed: (err, eventId) => logger.warn({ err, eventId }, 'stripe-events: enqueue failed after the event was stored; the sweep will queue it'),
  });
  const replyGate = new ReplyGateService({
    billing: service,
    usage,
    premium: premiumRepository,
    records,
    gateway,
    onDegraded: (what, err) => logger.warn({ err }, `billing: ${what}`),
  });

  let sweep: { stop(): Promise<void> } | undefined;
  return {
    plans,
    service,
    premium,
    stripeEvents,
    replyGate,
    startWorkers() {
      queues.work('stripe-events', createStripeEventsProcessor({ events: stripeEvents, logger }), { concurrency: STRIPE_EVENTS_CONCURRENCY });
      sweep = startStripeEventSweep({ events: stripeEvents, intervalMs: config.RECONCILE_INTERVAL_MS, graceMs: config.RECONCILE_GRACE_MS, logger });
    },
    async stop() {
      await sweep?.stop();
    },
  };
}
