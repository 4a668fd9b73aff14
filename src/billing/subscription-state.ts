/**
 * Applies Stripe events to our record of one payer's subscription. Stripe delivers events at
 * least once and in no particular order, so the record never trusts arrival order: each
 * subscription and each checkout is a register that keeps the snapshot that ranks highest by the
 * object's own state and timestamps, and the view is derived from the registers. The same set of
 * events therefore gives the same record in any order, and a duplicate changes nothing.
 */
import { ZodError } from 'zod';
import { decodeClientReference, referenceFromMetadata, sameReference, type BillingReference } from './billing-reference.js';
import {
  readCheckoutSession,
  readInvoice,
  readSubscription,
  stripeEventSchema,
  type CheckoutMode,
  type SubscriptionFacts,
  type SubscriptionStatus,
} from './stripe-objects.js';

export type { SubscriptionStatus } from './stripe-objects.js';
export type RecordStatus = SubscriptionStatus | 'none';

/** A subscription as Stripe described it at `observedAt` (event `created`, or fetch time). */
export interface SubscriptionSnapshot extends SubscriptionFacts {
  /** Event id (or `fetch:<time>`) the snapshot came from; the last tie-break. */
  sourceId: string;
  observedAt: number;
}

/** The latest payment outcome of a subscription's invoices. */
export interface InvoiceOutcome {
  invoiceId: string;
  invoiceCreated: number;
  outcome: 'paid' | 'failed';
  attemptCount: number;
  customerId: string | null;
  amountDue: number | null;
  currency: string | null;
  nextPaymentAttempt: number | null;
  hostedInvoiceUrl: string | null;
  sourceId: string;
  observedAt: number;
}

/** Everything known about one Stripe subscription; either part may arrive first. */
export interface SubscriptionEntry {
  id: string;
  snapshot: SubscriptionSnapshot | null;
  invoice: InvoiceOutcome | null;
}

/** A completed Checkout Session. */
export interface CheckoutEntry {
  id: string;
  mode: CheckoutMode;
  customerId: string | null;
  subscriptionId: string | null;
  paid: boolean;
  /** When it was first seen paid (Unix seconds). */
  paidAt: number | null;
  sourceId: string;
  observedAt: number;
}

/** The state the rest of the platform reads; derived, never edited directly. Times are Unix seconds. */
export interface SubscriptionView {
  status: RecordStatus;
  subscriptionId: string | null;
  customerId: string | null;
  priceId: string | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  endedAt: number | null;
  /** First one-time (payment mode) purchase: a lifetime unlock for a contact. */
  paidOnceAt: number | null;
}

export interface SubscriptionRecord {
  /** The creator or contact paying; learnt from the first event that names it when unknown. */
  reference: BillingReference | null;
  /** By subscription id, ascending. Ended subscriptions stay, so late events about them stay ignored. */
  subscriptions: SubscriptionEntry[];
  /** By session id, ascending. */
  checkouts: CheckoutEntry[];
  view: SubscriptionView;
}

/** Something a person should hear about (email, chat message), raised once per change. */
export type BillingDomainEvent =
  | {
      type: 'payment_failed';
      reference: BillingReference | null;
      customerId: string | null;
      subscriptionId: string;
      invoiceId: string;
      amountDue: number | null;
      currency: string | null;
      attemptCount: number;
      nextPaymentAttempt: number | null;
      hostedInvoiceUrl: string | null;
      /** End of the current period as last reported; under the default past-due policy access lasts until then. */
      currentPeriodEnd: number | null;
    }
  | {
      type: 'subscription_ended';
      reference: BillingReference | null;
      customerId: string | null;
      subscriptionId: string;
      priceId: string | null;
      endedAt: number | null;
    }
  | {
      type: 'contact_unlocked';
      reference: Extract<BillingReference, { kind: 'contact' }>;
      checkoutSessionId: string;
      mode: CheckoutMode;
      customerId: string | null;
      subscriptionId: string | null;
    };

export type IgnoredReason =
  | 'duplicate'
  | 'stale'
  | 'unhandled_event_type'
  | 'not_a_subscription_invoice'
  | 'reference_mismatch'
  | 'malformed';

export interface ApplyResult {
  record: SubscriptionRecord;
  changed: boolean;
  events: BillingDomainEvent[];
  /** Why nothing changed, when nothing did. */
  ignored?: IgnoredReason;
  /** For `malformed`: what did not parse. */
  problem?: string;
}

const emptyView: SubscriptionView = {
  status: 'none',
  subscriptionId: null,
  customerId: null,
  priceId: null,
  currentPeriodStart: null,
  currentPeriodEnd: null,
  cancelAtPeriodEnd: false,
  endedAt: null,
  paidOnceAt: null,
};

/** A record for a payer with no Stripe history yet. */
export function emptySubscriptionRecord(reference: BillingReference | null = null): SubscriptionRecord {
  return { reference, subscriptions: [], checkouts: [], view: { ...emptyView } };
}

const terminalStatuses: ReadonlySet<RecordStatus> = new Set(['canceled', 'incomplete_expired']);
const liveStatuses: ReadonlySet<RecordStatus> = new Set(['trialing', 'active', 'past_due', 'unpaid', 'paused']);

// Within one subscription, snapshots observed in the same second and the same period are ordered by
// status; the tie favours the state that grants access (active last) over transient ones.
const statusRank: Record<SubscriptionStatus, number> = {
  incomplete: 0,
  trialing: 1,
  past_due: 2,
  unpaid: 3,
  paused: 4,
  active: 5,
  incomplete_expired: 6,
  canceled: 7,
};

type Key = ReadonlyArray<number | string>;

function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Order of snapshots of one subscription: ended beats everything (Stripe never revives one), then newer. */
function snapshotKey(s: SubscriptionSnapshot): Key {
  return [terminalStatuses.has(s.status) ? 1 : 0, s.observedAt, s.currentPeriodStart ?? 0, statusRank[s.status], s.sourceId];
}

/** Order of invoice outcomes of one subscription: newer invoice, then paid over failed, then later attempt. */
function invoiceKey(i: InvoiceOutcome): Key {
  return [i.invoiceCreated, i.invoiceId, i.outcome === 'paid' ? 1 : 0, i.attemptCount, i.observedAt, i.sourceId];
}

function checkoutKey(c: CheckoutEntry): Key {
  return [c.observedAt, c.sourceId];
}

function maxBy<T>(a: T | null, b: T | null, key: (v: T) => Key): T | null {
  if (!a) return b;
  if (!b) return a;
  return compareKeys(key(a), key(b)) >= 0 ? a : b;
}

function mergeCheckout(a: CheckoutEntry | undefined, b: CheckoutEntry): CheckoutEntry {
  if (!a) return b;
  const [later, earlier] = compareKeys(checkoutKey(a), checkoutKey(b)) >= 0 ? [a, b] : [b, a];
  const paidTimes = [a.paidAt, b.paidAt].filter((t): t is number => t !== null);
  return {
    ...later,
    customerId: later.customerId ?? earlier.customerId,
    subscriptionId: later.subscriptionId ?? earlier.subscriptionId,
    paid: a.paid || b.paid,
    paidAt: paidTimes.length ? Math.min(...paidTimes) : null,
  };
}

/**
 * A subscription's status, corrected by an invoice outcome newer than the snapshot: Stripe's own
 * `customer.subscription.updated` may lag (or be lost until retried) behind `invoice.*`.
 */
function effectiveStatus(entry: SubscriptionEntry): RecordStatus {
  const s = entry.snapshot;
  if (!s) return 'none';
  const i = entry.invoice;
  if (terminalStatuses.has(s.status) || !i || i.observedAt <= s.observedAt) return s.status;
  if (i.outcome === 'failed' && (s.status === 'active' || s.status === 'trialing')) return 'past_due';
  if (i.outcome === 'paid' && (s.status === 'past_due' || s.status === 'unpaid' || s.status === 'incomplete')) return 'active';
  return s.status;
}

function classRank(status: RecordStatus): number {
  if (liveStatuses.has(status)) return 2;
  if (status === 'canceled') return 1;
  return 0;
}

/** The subscription the payer "has": a live one over an ended one over one never started; then newest. */
function primaryEntry(entries: SubscriptionEntry[]): SubscriptionEntry | undefined {
  let best: { entry: SubscriptionEntry; key: Key } | undefined;
  for (const entry of entries) {
    if (!entry.snapshot) continue;
    const key: Key = [classRank(effectiveStatus(entry)), entry.snapshot.created, entry.id];
    if (!best || compareKeys(key, best.key) > 0) best = { entry, key };
  }
  return best?.entry;
}

function deriveView(subscriptions: SubscriptionEntry[], checkouts: CheckoutEntry[]): SubscriptionView {
  const primary = primaryEntry(subscriptions);
  const latestCheckout = [...checkouts].sort((a, b) => compareKeys(checkoutKey(b), checkoutKey(a)));
  const customerId =
    primary?.snapshot?.customerId ??
    latestCheckout.find((c) => c.customerId)?.customerId ??
    subscriptions.find((e) => e.snapshot?.customerId)?.snapshot?.customerId ??
    subscriptions.find((e) => e.invoice?.customerId)?.invoice?.customerId ??
    null;
  const paidOnce = checkouts.filter((c) => c.mode === 'payment' && c.paidAt !== null).map((c) => c.paidAt!);
  const paidOnceAt = paidOnce.length ? Math.min(...paidOnce) : null;
  const s = primary?.snapshot;
  if (!primary || !s) return { ...emptyView, customerId, paidOnceAt };
  const status = effectiveStatus(primary);
  return {
    status,
    subscriptionId: primary.id,
    customerId,
    priceId: s.priceId,
    currentPeriodStart: s.currentPeriodStart,
    currentPeriodEnd: s.currentPeriodEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    endedAt: status === 'canceled' ? (s.endedAt ?? s.observedAt) : null,
    paidOnceAt,
  };
}

/** JSON with sorted keys, so equal records compare equal whatever order their fields were built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  return [...list.filter((x) => x.id !== item.id), item].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

interface Change {
  reference?: BillingReference | null;
  subscription?: SubscriptionEntry;
  checkout?: CheckoutEntry;
}

/** Builds the next record from a change and works out which domain events the change raises. */
function commit(before: SubscriptionRecord, change: Change, touched: { subscriptionId?: string; checkoutId?: string }): ApplyResult {
  let reference = before.reference;
  if (change.reference) {
    if (reference && !sameReference(reference, change.reference)) return { record: before, changed: false, events: [], ignored: 'reference_mismatch' };
    reference = reference ?? change.reference;
  }
  const subscriptions = change.subscription ? upsert(before.subscriptions, change.subscription) : before.subscriptions;
  const checkouts = change.checkout ? upsert(before.checkouts, change.checkout) : before.checkouts;
  const record: SubscriptionRecord = { reference, subscriptions, checkouts, view: deriveView(subscriptions, checkouts) };
  if (canonical(record) === canonical(before)) return { record: before, changed: false, events: [], ignored: 'duplicate' };

  const events: BillingDomainEvent[] = [];
  if (touched.subscriptionId) {
    const old = before.subscriptions.find((e) => e.id === touched.subscriptionId);
    const now = subscriptions.find((e) => e.id === touched.subscriptionId);
    const invoice = now?.invoice;
    if (
      now &&
      invoice?.outcome === 'failed' &&
      canonical(invoice) !== canonical(old?.invoice ?? null) &&
      !terminalStatuses.has(now.snapshot?.status ?? 'none')
    ) {
      events.push({
        type: 'payment_failed',
        reference,
        customerId: invoice.customerId ?? record.view.customerId,
        subscriptionId: now.id,
        invoiceId: invoice.invoiceId,
        amountDue: invoice.amountDue,
        currency: invoice.currency,
        attemptCount: invoice.attemptCount,
        nextPaymentAttempt: invoice.nextPaymentAttempt,
        hostedInvoiceUrl: invoice.hostedInvoiceUrl,
        currentPeriodEnd: now.snapshot?.currentPeriodEnd ?? null,
      });
    }
  }
  if (before.view.status !== 'canceled' && record.view.status === 'canceled' && record.view.subscriptionId) {
    events.push({
      type: 'subscription_ended',
      reference,
      customerId: record.view.customerId,
      subscriptionId: record.view.subscriptionId,
      priceId: record.view.priceId,
      endedAt: record.view.endedAt,
    });
  }
  if (touched.checkoutId && reference?.kind === 'contact') {
    const wasPaid = before.checkouts.find((c) => c.id === touched.checkoutId)?.paid ?? false;
    const now = checkouts.find((c) => c.id === touched.checkoutId);
    if (now?.paid && !wasPaid) {
      events.push({
        type: 'contact_unlocked',
        reference,
        checkoutSessionId: now.id,
        mode: now.mode,
        customerId: now.customerId,
        subscriptionId: now.subscriptionId,
      });
    }
  }
  return { record, changed: true, events };
}

function unchanged(record: SubscriptionRecord, ignored: IgnoredReason, problem?: string): ApplyResult {
  return { record, changed: false, events: [], ignored, ...(problem ? { problem } : {}) };
}

function applySnapshot(record: SubscriptionRecord, snapshot: SubscriptionSnapshot): ApplyResult {
  const entry = record.subscriptions.find((e) => e.id === snapshot.id) ?? { id: snapshot.id, snapshot: null, invoice: null };
  const winner = maxBy(entry.snapshot, snapshot, snapshotKey);
  if (winner !== snapshot) return unchanged(record, entry.snapshot?.sourceId === snapshot.sourceId ? 'duplicate' : 'stale');
  return commit(record, { reference: referenceFromMetadata(snapshot.metadata), subscription: { ...entry, snapshot } }, { subscriptionId: snapshot.id });
}

/**
 * Applies a Subscription object fetched from Stripe (e.g. after `checkout.session.completed`),
 * ordered against events by `observedAt` (Unix seconds).
 */
export function applySubscriptionObject(record: SubscriptionRecord, object: unknown, observed: { observedAt: number; sourceId?: string }): ApplyResult {
  let facts: SubscriptionFacts;
  try {
    facts = readSubscription(object);
  } catch (err) {
    if (err instanceof ZodError) return unchanged(record, 'malformed', err.message);
    throw err;
  }
  return applySnapshot(record, { ...facts, sourceId: observed.sourceId ?? `fetch:${observed.observedAt}`, observedAt: observed.observedAt });
}

/**
 * Applies one Stripe event (any API version) to the record. Pure: returns the next record, whether
 * it changed, and the domain events to notify about; never throws for a well-signed but odd event.
 */
export function applyStripeEvent(record: SubscriptionRecord, event: unknown): ApplyResult {
  const parsed = stripeEventSchema.safeParse(event);
  if (!parsed.success) return unchanged(record, 'malformed', parsed.error.message);
  const { id: sourceId, type, created: observedAt } = parsed.data;
  const object: unknown = parsed.data.data.object;
  try {
    if (type.startsWith('customer.subscription.')) {
      const facts = readSubscription(object);
      // A deletion is final whatever status the payload shows.
      const snapshot: SubscriptionSnapshot =
        type === 'customer.subscription.deleted'
          ? { ...facts, status: 'canceled', endedAt: facts.endedAt ?? observedAt, sourceId, observedAt }
          : { ...facts, sourceId, observedAt };
      return applySnapshot(record, snapshot);
    }
    if (type === 'invoice.paid' || type === 'invoice.payment_succeeded' || type === 'invoice.payment_failed') {
      const invoice = readInvoice(object);
      if (!invoice.subscriptionId) return unchanged(record, 'not_a_subscription_invoice');
      const outcome: InvoiceOutcome = {
        invoiceId: invoice.id,
        invoiceCreated: invoice.created,
        outcome: type === 'invoice.payment_failed' ? 'failed' : 'paid',
        attemptCount: invoice.attemptCount,
        customerId: invoice.customerId,
        amountDue: invoice.amountDue,
        currency: invoice.currency,
        nextPaymentAttempt: invoice.nextPaymentAttempt,
        hostedInvoiceUrl: invoice.hostedInvoiceUrl,
        sourceId,
        observedAt,
      };
      const entry = record.subscriptions.find((e) => e.id === invoice.subscriptionId) ?? { id: invoice.subscriptionId, snapshot: null, invoice: null };
      const winner = maxBy(entry.invoice, outcome, invoiceKey);
      if (winner !== outcome) return unchanged(record, entry.invoice?.sourceId === sourceId ? 'duplicate' : 'stale');
      return commit(record, { reference: referenceFromMetadata(invoice.metadata), subscription: { ...entry, invoice: outcome } }, { subscriptionId: entry.id });
    }
    if (type === 'checkout.session.completed' || type === 'checkout.session.async_payment_succeeded') {
      const session = readCheckoutSession(object);
      const paid = session.paymentStatus === 'paid' || session.paymentStatus === 'no_payment_required';
      const incoming: CheckoutEntry = {
        id: session.id,
        mode: session.mode,
        customerId: session.customerId,
        subscriptionId: session.subscriptionId,
        paid,
        paidAt: paid ? observedAt : null,
        sourceId,
        observedAt,
      };
      const existing = record.checkouts.find((c) => c.id === session.id);
      const merged = mergeCheckout(existing, incoming);
      const reference = referenceFromMetadata(session.metadata) ?? decodeClientReference(session.clientReferenceId);
      return commit(record, { reference, checkout: merged }, { checkoutId: session.id });
    }
  } catch (err) {
    if (err instanceof ZodError) return unchanged(record, 'malformed', err.message);
    throw err;
  }
  return unchanged(record, 'unhandled_event_type');
}

/** Identifiers in an event that locate its record: look up by subscription, then customer, then reference. */
export interface StripeEventKeys {
  subscriptionId: string | null;
  customerId: string | null;
  reference: BillingReference | null;
}

/** Pulls the lookup keys out of an event, so a repository can find (or create) the record it applies to. */
export function stripeEventKeys(event: unknown): StripeEventKeys {
  const none: StripeEventKeys = { subscriptionId: null, customerId: null, reference: null };
  const parsed = stripeEventSchema.safeParse(event);
  if (!parsed.success) return none;
  const { type } = parsed.data;
  const object: unknown = parsed.data.data.object;
  try {
    if (type.startsWith('customer.subscription.')) {
      const s = readSubscription(object);
      return { subscriptionId: s.id, customerId: s.customerId, reference: referenceFromMetadata(s.metadata) };
    }
    if (type.startsWith('invoice.')) {
      const i = readInvoice(object);
      return { subscriptionId: i.subscriptionId, customerId: i.customerId, reference: referenceFromMetadata(i.metadata) };
    }
    if (type.startsWith('checkout.session.')) {
      const c = readCheckoutSession(object);
      return { subscriptionId: c.subscriptionId, customerId: c.customerId, reference: referenceFromMetadata(c.metadata) ?? decodeClientReference(c.clientReferenceId) };
    }
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
  }
  return none;
}

/**
 * How long a subscriber whose renewal payment failed keeps access. Stripe advances the period when
 * it tries to renew, so while past due `currentPeriodStart` is when the failed payment fell due:
 * `until_period_end` keeps access through Stripe's retries (the unpaid period), `grace_days` for
 * that many days after the payment fell due, `revoke` not at all.
 */
export type PastDuePolicy = { mode: 'until_period_end' } | { mode: 'grace_days'; days: number } | { mode: 'revoke' };

export interface Access {
  granted: boolean;
  /** When access lapses without a further payment (Unix seconds); null when not granted or unknown. */
  until: number | null;
}

const DAY = 86_400;

/**
 * Whether the record's subscription grants its paid plan at `now` (Unix seconds). Active and
 * trialing grant access; past_due per `policy` (default: until the period ends); anything else
 * does not.
 */
export function subscriptionAccess(view: SubscriptionView, now: number, policy: PastDuePolicy = { mode: 'until_period_end' }): Access {
  const end = view.currentPeriodEnd;
  if (view.status === 'active' || view.status === 'trialing') {
    // Set to cancel at period end: the paid time is over even if the deletion event is still on its way.
    if (view.cancelAtPeriodEnd && end !== null && now >= end) return { granted: false, until: null };
    return { granted: true, until: end };
  }
  if (view.status === 'past_due') {
    if (policy.mode === 'revoke') return { granted: false, until: null };
    const until = policy.mode === 'grace_days' ? (view.currentPeriodStart === null ? null : view.currentPeriodStart + policy.days * DAY) : end;
    return until !== null && now < until ? { granted: true, until } : { granted: false, until: null };
  }
  return { granted: false, until: null };
}
