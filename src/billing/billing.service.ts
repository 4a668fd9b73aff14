import { createHash } from 'node:crypto';
import { ValidationError } from '../errors/app.errors.js';
import { encodeClientReference, referenceMetadata } from './billing-reference.js';
import { BillingDisabledError, NoBillingAccountError, PlanNotPurchasableError, SubscriptionExistsError } from './billing.errors.js';
import { assertAllowed, canAddDocument, canCreateBot, canStoreBytes, currentPlan, formatBytes, usagePeriod, type UsagePeriod } from './entitlements.js';
import { findPlan, freePlan, type Plan, type PlanLimits } from './plans.js';
import type { CheckoutSessionRef, CheckoutStore, CreatorDirectory, PayerRecordStore, PaymentGateway, StoredCheckout, UsageStore } from './ports.js';
import { subscriptionAccess, type PastDuePolicy, type RecordStatus, type SubscriptionView } from './subscription-state.js';

/** Where Stripe sends people back to. */
export interface BillingUrls {
  /** After a creator's checkout succeeded; may contain Stripe's `{CHECKOUT_SESSION_ID}`. */
  success: string;
  /** After a creator left the checkout without paying. */
  cancel: string;
  /** Where the billing portal's "return" link goes, and the link in billing emails. */
  portalReturn: string;
  /** After a contact paid to unlock a bot, and when they gave up. */
  contactSuccess: string;
  contactCancel: string;
}

export interface BillingServiceDeps {
  plans: readonly Plan[];
  gateway: PaymentGateway;
  /** False without Stripe keys: only the free plan exists and nothing can be bought. */
  paymentsEnabled: boolean;
  records: PayerRecordStore;
  /** Each creator's last Checkout Session, reused while it is open. */
  checkouts: CheckoutStore;
  usage: Pick<UsageStore, 'counts' | 'repliesIn'>;
  creators: CreatorDirectory;
  urls: BillingUrls;
  pastDuePolicy?: PastDuePolicy;
  clock?: (() => Date) | undefined;
}

/** A creator's plan as of now, with the subscription behind it and the period quotas count in. */
export interface CreatorAccount {
  plan: Plan;
  view: SubscriptionView | null;
  /** Whether a paid subscription currently grants its plan. */
  subscribed: boolean;
  period: UsagePeriod;
}

export interface BillingOverview {
  plan: Plan;
  status: RecordStatus;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  usage: { period: UsagePeriod; bots: number; documents: number; storageBytes: number; contacts: number; repliesThisPeriod: number };
  plans: Array<Plan & { purchasable: boolean }>;
  paymentsEnabled: boolean;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const fromSeconds = (value: number | null) => (value === null ? null : new Date(value * 1000));

// A stored session closer than this to its expiry is replaced: the creator needs time to pay.
const CHECKOUT_REUSE_MARGIN_MS = 30 * 60_000;

/**
 * The idempotency key of a new checkout. It names the session it replaces (none at first), so two
 * clicks that both find none — or both find the same ended one — collapse into one new session,
 * and a session that ended is never replayed for the next attempt.
 */
function checkoutKey(parts: string[], replaces: string | undefined): string {
  return `checkout_${createHash('sha256').update([...parts, replaces ?? '-'].join('|')).digest('hex').slice(0, 40)}`;
}

/** Whether the creator's last session still serves a checkout for `plan` at `now`. */
function reusable(last: StoredCheckout, plan: Plan, now: Date): boolean {
  return (
    !last.ended &&
    last.planId === plan.id &&
    last.priceId === plan.stripePriceId &&
    last.expiresAt.getTime() - now.getTime() > CHECKOUT_REUSE_MARGIN_MS
  );
}

/** A plan's limits in words, e.g. ["1 bot", "20 documents", "50 MB of storage", …]. */
export function describeLimits(limits: PlanLimits): string[] {
  const count = (n: number | null, one: string, many: string) => (n === null ? `unlimited ${many}` : `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`);
  return [
    count(limits.bots, 'bot', 'bots'),
    count(limits.documents, 'document', 'documents'),
    limits.storageBytes === null ? 'unlimited storage' : `${formatBytes(limits.storageBytes)} of storage`,
    limits.repliesPerMonth === null ? 'unlimited replies' : `${count(limits.repliesPerMonth, 'reply', 'replies')} a month`,
    count(limits.contacts, 'contact', 'contacts'),
  ];
}

/**
 * Creators' plans: which plan a creator is on (from their Stripe subscription), what they use of
 * it, the checks that stop work beyond it, and the Stripe Checkout and portal links to change it.
 */
export class BillingService {
  private readonly now: () => Date;

  constructor(private readonly deps: BillingServiceDeps) {
    this.now = deps.clock ?? (() => new Date());
  }

  get plans(): readonly Plan[] {
    return this.deps.plans;
  }

  get urls(): BillingUrls {
    return this.deps.urls;
  }

  /** The creator's current plan and usage period. */
  async account(creatorId: string): Promise<CreatorAccount> {
    return this.accountFor((await this.deps.records.creatorRecord(creatorId))?.view ?? null);
  }

  /** The plan and usage period a subscription view grants now (null: never subscribed). */
  accountFor(view: SubscriptionView | null): CreatorAccount {
    const now = this.now();
    const plan = currentPlan(this.deps.plans, view, seconds(now), this.deps.pastDuePolicy);
    const subscribed = view !== null && subscriptionAccess(view, seconds(now), this.deps.pastDuePolicy).granted;
    const start = fromSeconds(view?.currentPeriodStart ?? null);
    const end = fromSeconds(view?.currentPeriodEnd ?? null);
    // Paid plans count replies per billing period (reset with each invoice), free ones per calendar month.
    const period = usagePeriod(now, subscribed && start && end ? { currentPeriodStart: start, currentPeriodEnd: end } : null);
    return { plan, view, subscribed, period };
  }

  /** Plan, subscription status and usage, for `GET /v1/billing`. */
  async overview(creatorId: string): Promise<BillingOverview> {
    const account = await this.account(creatorId);
    const [counts, replies] = await Promise.all([this.deps.usage.counts(creatorId), this.deps.usage.repliesIn(creatorId, account.period.start)]);
    return {
      plan: account.plan,
      status: account.view?.status ?? 'none',
      currentPeriodEnd: fromSeconds(account.view?.currentPeriodEnd ?? null),
      cancelAtPeriodEnd: account.view?.cancelAtPeriodEnd ?? false,
      usage: { period: account.period, ...counts, repliesThisPeriod: replies },
      plans: this.deps.plans.map((plan) => ({ ...plan, purchasable: this.deps.paymentsEnabled && plan.stripePriceId !== undefined })),
      paymentsEnabled: this.deps.paymentsEnabled,
    };
  }

  /**
   * Starts a Stripe Checkout for a subscription to `planId`; returns where to send the creator.
   * Asked again while that session is open (a double click, a second tab, a retry an hour later),
   * it returns the same session, so the creator cannot end up paying twice.
   */
  async startCheckout(creatorId: string, planId: string): Promise<CheckoutSessionRef> {
    const plan = findPlan(this.deps.plans, planId);
    if (!plan) {
      const known = this.deps.plans.map((p) => p.id);
      throw new ValidationError(`plan: no plan "${planId}"; choose one of ${known.join(', ')}`, { plans: known });
    }
    if (!this.deps.paymentsEnabled) throw new BillingDisabledError();
    if (plan.id === freePlan(this.deps.plans).id) {
      throw new PlanNotPurchasableError(`${plan.name} is the free plan; to return to it, cancel your subscription in the billing portal.`, plan.id);
    }
    if (!plan.stripePriceId) throw new PlanNotPurchasableError(`The ${plan.name} plan has no Stripe price configured, so it cannot be bought yet.`, plan.id);
    const account = await this.account(creatorId);
    if (account.subscribed && account.view) throw new SubscriptionExistsError(account.plan.name, account.view.status);
    const now = this.now();
    const last = await this.deps.checkouts.lastCheckout(creatorId);
    if (last && reusable(last, plan, now)) return { id: last.sessionId, url: last.url };
    const creator = await this.deps.creators.findById(creatorId);
    const reference = { kind: 'creator', creatorId } as const;
    const customerId = account.view?.customerId ?? undefined;
    const session = await this.deps.gateway.createCheckoutSession({
      mode: 'subscription',
      priceId: plan.stripePriceId,
      ...(customerId ? { customerId } : creator ? { customerEmail: creator.email } : {}),
      clientReferenceId: encodeClientReference(reference),
      metadata: referenceMetadata(reference),
      successUrl: this.deps.urls.success,
      cancelUrl: this.deps.urls.cancel,
      idempotencyKey: checkoutKey([creatorId, plan.id, plan.stripePriceId, customerId ?? '-'], last?.sessionId),
    });
    await this.deps.checkouts.saveCheckout(creatorId, { sessionId: session.id, url: session.url, planId: plan.id, priceId: plan.stripePriceId, expiresAt: session.expiresAt });
    return { id: session.id, url: session.url };
  }

  /** A Stripe billing portal link for the creator's customer (cards, invoices, plan changes, cancellation). */
  async openPortal(creatorId: string): Promise<{ url: string }> {
    if (!this.deps.paymentsEnabled) throw new BillingDisabledError();
    const customerId = (await this.deps.records.creatorRecord(creatorId))?.view.customerId;
    if (!customerId) throw new NoBillingAccountError();
    return this.deps.gateway.createPortalSession({ customerId, returnUrl: this.deps.urls.portalReturn });
  }

  /** PLAN_LIMIT_BOTS (402) when the creator's plan has no room for another bot. */
  async assertCanCreateBot(creatorId: string): Promise<void> {
    const [{ plan }, counts] = await Promise.all([this.account(creatorId), this.deps.usage.counts(creatorId)]);
    assertAllowed(canCreateBot(plan, counts));
  }

  /** PLAN_LIMIT_DOCUMENTS / PLAN_LIMIT_STORAGE (402) when another document of `incomingBytes` does not fit the plan. */
  async assertCanAddDocument(creatorId: string, incomingBytes: number): Promise<void> {
    const [{ plan }, counts] = await Promise.all([this.account(creatorId), this.deps.usage.counts(creatorId)]);
    assertAllowed(canAddDocument(plan, counts));
    if (incomingBytes > 0) assertAllowed(canStoreBytes(plan, counts, incomingBytes));
  }
}
