import type { BotPremiumStore } from '../billing/ports.js';
import { PremiumService } from '../billing/premium.service.js';
import { StripeEventService } from '../billing/stripe-events.service.js';
import type { Config } from '../config.js';
import { NoticeService } from '../conversation/notice.service.js';
import type { ContactStore, OutboundLedger, SenderDirectory } from '../conversation/turn.ports.js';
import { BillingRepository } from '../db/billing.repository.js';
import { BotPremiumRepository } from '../db/bot-premium.repository.js';
import { NoticeRepository } from '../db/notice.repository.js';
import type { Logger } from '../observability/logger.js';
import { createStripeEventQueue, createStripeEventsProcessor, startStripeEventSweep } from '../../workers/stripe-events.worker.js';
import type { AccountsModule } from './accounts.module.js';
import type { BillingModule } from './billing.module.js';
import type { BotsModule } from './bots.module.js';
import type { EmailModule } from './email.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

const STRIPE_EVENTS_CONCURRENCY = 4;

/** What people pay for and what Stripe reports back: end-user premium and the `stripe-events` worker. */
export interface PaymentsModule extends ModuleLifecycle {
  /** Bots' end-user premium settings. */
  premium: PremiumService;
  /** The Stripe webhook's two halves (store; apply in the worker). */
  stripeEvents: StripeEventService;
  /** Starts the `stripe-events` worker and its sweep in this process. */
  startWorkers(): void;
}

export interface PaymentsModuleDeps {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  accounts: Pick<AccountsModule, 'creators'>;
  /** Emails about creators' payments. */
  email: Pick<EmailModule, 'notifications'>;
  billing: BillingModule;
  bots: BotsModule;
  /** How a contact is told in the chat that their payment unlocked the bot. */
  chat: { senders: SenderDirectory; contacts: Pick<ContactStore, 'isBlocked' | 'setBlocked'>; ledger: Pick<OutboundLedger, 'markSending' | 'markSent' | 'markFailed'> };
}

/** Premium settings, the stored Stripe events and how they are applied, and the notices they send. */
export function createPaymentsModule({ config, logger, infrastructure, accounts, email, billing, bots, chat }: PaymentsModuleDeps): PaymentsModule {
  const { pool } = infrastructure.database;
  const { queues } = infrastructure;
  const { replyGate } = billing;
  // The reply gate keeps plans and premium settings for a few seconds; what this process changes
  // reaches it at once through these hooks (other processes' changes within its TTL).
  const records = new BillingRepository(pool, {
    onRecordChanged: (reference) => {
      if (reference.kind === 'creator') replyGate.subscriptionChanged(reference.creatorId);
    },
  });
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
  const premium = new PremiumService({ bots: bots.service, store: premiumStore, paymentsEnabled: billing.paymentsEnabled });
  const notices = new NoticeService({ store: new NoticeRepository(pool), ...chat });
  const stripeEvents = new StripeEventService({
    gateway: billing.gateway,
    events: records,
    checkouts: records,
    queue: createStripeEventQueue(queues),
    plans: billing.plans,
    creators: accounts.creators,
    notifier: email.notifications,
    messenger: {
      notify: async (botId, contactId, text, dedupeKey) => {
        const outcome = await notices.send(botId, contactId, { text }, dedupeKey);
        if (outcome === 'undeliverable') logger.info({ botId, contactId, dedupeKey }, 'billing: the contact could not be told in the chat');
      },
    },
    urls: billing.urls,
    onEnqueueFailed: (err, eventId) => logger.warn({ err, eventId }, 'stripe-events: enqueue failed after the event was stored; the sweep will queue it'),
  });

  let sweep: { stop(): Promise<void> } | undefined;
  return {
    premium,
    stripeEvents,
    startWorkers() {
      queues.work('stripe-events', createStripeEventsProcessor({ events: stripeEvents, logger }), { concurrency: STRIPE_EVENTS_CONCURRENCY });
      sweep = startStripeEventSweep({ events: stripeEvents, intervalMs: config.RECONCILE_INTERVAL_MS, graceMs: config.RECONCILE_GRACE_MS, logger });
    },
    async drain() {
      await sweep?.stop();
    },
  };
}
