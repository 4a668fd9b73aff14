import type { Config } from '../config.js';
import { BillingService, type BillingUrls } from '../billing/billing.service.js';
import { InvalidPlansError, parsePlans, purchasablePlans, type Plan } from '../billing/plans.js';
import type { PaymentGateway } from '../billing/ports.js';
import { ReplyGateService } from '../billing/reply-gate.service.js';
import { ConfigError, platformBaseUrl } from '../config.js';
import { BillingRepository } from '../db/billing.repository.js';
import { BotPremiumRepository } from '../db/bot-premium.repository.js';
import { UsageRepository } from '../db/usage.repository.js';
import type { Logger } from '../observability/logger.js';
import { DisabledPaymentGateway } from '../payments/disabled.gateway.js';
import { StripeGateway } from '../payments/stripe.gateway.js';
import type { AccountsModule } from './accounts.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Plans and what they allow: the quota checks bots and documents call, and the gate before every reply. */
export interface BillingModule extends ModuleLifecycle {
  plans: readonly Plan[];
  /** Stripe when STRIPE_SECRET_KEY is set, otherwise a gateway that refuses every purchase. */
  gateway: PaymentGateway;
  paymentsEnabled: boolean;
  urls: BillingUrls;
  /** Creators' plans, checkout and portal; the quota checks bots and documents call. */
  service: BillingService;
  /** The converse pipeline's and web chat's check before any model call. */
  replyGate: ReplyGateService;
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
  const base = platformBaseUrl(config);
  return {
    success: config.BILLING_SUCCESS_URL ?? `${base}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
    cancel: config.BILLING_CANCEL_URL ?? `${base}/billing/cancelled`,
    portalReturn: config.BILLING_RETURN_URL ?? `${base}/billing/return`,
    contactSuccess: `${base}/billing/done`,
    contactCancel: `${base}/billing/cancelled`,
  };
}

/**
 * Plans, the payment gateway, BillingService and the reply gate. What Stripe reports back (and
 * end-user premium) is src/composition/payments.module.ts, built once bots and channels exist.
 * `clock` is what time it is for billing; tests move it (e.g. past a checkout's expiry).
 */
export function createBillingModule({
  config,
  logger,
  infrastructure,
  accounts,
  clock,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  accounts: Pick<AccountsModule, 'creators'>;
  clock?: (() => Date) | undefined;
}): BillingModule {
  const { pool } = infrastructure.database;
  const plans = loadPlans(config);
  const secretKey = config.STRIPE_SECRET_KEY;
  const paymentsEnabled = secretKey !== undefined;
  const gateway: PaymentGateway = secretKey
    ? new StripeGateway({ secretKey, webhookSecret: config.STRIPE_WEBHOOK_SECRET, apiBase: config.STRIPE_API_BASE })
    : new DisabledPaymentGateway();
  if (paymentsEnabled && !config.STRIPE_WEBHOOK_SECRET) logger.warn('STRIPE_WEBHOOK_SECRET is unset: every Stripe webhook will be rejected');
  if (!paymentsEnabled && purchasablePlans(plans).length) logger.warn('PLANS_JSON names Stripe prices but STRIPE_SECRET_KEY is unset: only the free plan is available');

  const urls = billingUrls(config);
  const records = new BillingRepository(pool);
  const usage = new UsageRepository(pool, { prepared: infrastructure.prepared });
  const service = new BillingService({ plans, gateway, paymentsEnabled, records, checkouts: records, usage, creators: accounts.creators, urls, clock });
  const replyGate = new ReplyGateService({
    billing: service,
    usage,
    premium: new BotPremiumRepository(pool),
    records,
    gateway,
    onDegraded: (what, err) => logger.warn({ err }, `billing: ${what}`),
  });
  return { plans, gateway, paymentsEnabled, urls, service, replyGate };
}
