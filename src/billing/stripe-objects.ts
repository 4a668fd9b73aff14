/**
 * The parts of Stripe's objects that billing reads, parsed without the Stripe SDK. Webhook
 * payloads arrive in the API version of the endpoint, which may be years old or brand new, so
 * every reader accepts both shapes (e.g. `current_period_end` on the subscription before
 * 2025-03-31.basil, on its items after; `invoice.subscription` before, `invoice.parent` after).
 */
import { z } from 'zod';

/** A Stripe event envelope, as delivered to webhooks (any API version). */
export interface StripeEventEnvelope {
  id: string;
  object?: 'event';
  type: string;
  /** Unix seconds. */
  created: number;
  api_version?: string | null;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  [key: string]: unknown;
}

export const stripeEventSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int(),
  api_version: z.string().nullish(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

export type SubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'canceled'
  | 'unpaid'
  | 'paused';

const subscriptionStatuses: readonly SubscriptionStatus[] = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused'];

/** An expandable reference: Stripe sends an id, or the whole object when expanded. */
const ref = z.union([z.string(), z.looseObject({ id: z.string() })]).nullish().transform((v) => (v == null ? null : typeof v === 'string' ? v : v.id));
const metadata = z.record(z.string(), z.unknown()).nullish().transform((m) => {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(m ?? {})) if (typeof value === 'string') out[key] = value;
  return out;
});
const timestamp = z.number().int().nullish().transform((v) => v ?? null);
const price = z.looseObject({ id: z.string() }).nullish();

const subscriptionItemSchema = z.looseObject({
  price,
  plan: price,
  current_period_start: timestamp,
  current_period_end: timestamp,
});

const subscriptionSchema = z.looseObject({
  id: z.string().min(1),
  customer: ref,
  status: z.string(),
  created: z.number().int(),
  current_period_start: timestamp,
  current_period_end: timestamp,
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: timestamp,
  canceled_at: timestamp,
  ended_at: timestamp,
  metadata,
  items: z.looseObject({ data: z.array(subscriptionItemSchema) }).nullish(),
  plan: price,
});

/** What billing needs from a Stripe Subscription. Times are Unix seconds. */
export interface SubscriptionFacts {
  id: string;
  customerId: string | null;
  status: SubscriptionStatus;
  created: number;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  endedAt: number | null;
  priceId: string | null;
  metadata: Record<string, string>;
}

/** Reads a Subscription object in either shape; throws a ZodError when it is not one. */
export function readSubscription(object: unknown): SubscriptionFacts {
  const s = subscriptionSchema.parse(object);
  const items = s.items?.data ?? [];
  const starts = items.map((i) => i.current_period_start).filter((v): v is number => v !== null);
  const ends = items.map((i) => i.current_period_end).filter((v): v is number => v !== null);
  // A status added by a future API version grants nothing until we know what it means.
  const status = subscriptionStatuses.includes(s.status as SubscriptionStatus) ? (s.status as SubscriptionStatus) : 'incomplete';
  return {
    id: s.id,
    customerId: s.customer,
    status,
    created: s.created,
    // Newer API versions keep the period on each item; several items may differ, so the
    // subscription's period spans all of them.
    currentPeriodStart: s.current_period_start ?? (starts.length ? Math.min(...starts) : null),
    currentPeriodEnd: s.current_period_end ?? (ends.length ? Math.max(...ends) : null),
    cancelAtPeriodEnd: s.cancel_at_period_end ?? false,
    cancelAt: s.cancel_at,
    endedAt: s.ended_at,
    priceId: items[0]?.price?.id ?? items[0]?.plan?.id ?? s.plan?.id ?? null,
    metadata: s.metadata,
  };
}

const invoiceLineSchema = z.looseObject({
  subscription: ref,
  parent: z
    .looseObject({ subscription_item_details: z.looseObject({ subscription: ref }).nullish() })
    .nullish(),
  period: z.looseObject({ start: timestamp, end: timestamp }).nullish(),
});

const invoiceSchema = z.looseObject({
  id: z.string().min(1),
  customer: ref,
  subscription: ref,
  parent: z.looseObject({ subscription_details: z.looseObject({ subscription: ref, metadata }).nullish() }).nullish(),
  lines: z.looseObject({ data: z.array(invoiceLineSchema) }).nullish(),
  created: z.number().int(),
  status: z.string().nullish(),
  attempt_count: z.number().int().nullish(),
  amount_due: z.number().int().nullish(),
  currency: z.string().nullish(),
  next_payment_attempt: timestamp,
  hosted_invoice_url: z.string().nullish(),
  customer_email: z.string().nullish(),
  metadata,
});

/** What billing needs from a Stripe Invoice. Amounts are in the currency's minor unit. */
export interface InvoiceFacts {
  id: string;
  customerId: string | null;
  /** Null for one-off invoices that belong to no subscription. */
  subscriptionId: string | null;
  created: number;
  attemptCount: number;
  amountDue: number | null;
  currency: string | null;
  nextPaymentAttempt: number | null;
  hostedInvoiceUrl: string | null;
  customerEmail: string | null;
  /** End of the service period the invoice pays for, when it has subscription lines. */
  periodEnd: number | null;
  metadata: Record<string, string>;
}

/** Reads an Invoice object in either shape. */
export function readInvoice(object: unknown): InvoiceFacts {
  const i = invoiceSchema.parse(object);
  const lines = i.lines?.data ?? [];
  const lineSubscription = lines
    .map((line) => line.subscription ?? line.parent?.subscription_item_details?.subscription ?? null)
    .find((id) => id !== null);
  const subscriptionLines = lines.filter((line) => line.subscription ?? line.parent?.subscription_item_details?.subscription);
  const ends = subscriptionLines.map((line) => line.period?.end ?? null).filter((v): v is number => v !== null);
  return {
    id: i.id,
    customerId: i.customer,
    subscriptionId: i.subscription ?? i.parent?.subscription_details?.subscription ?? lineSubscription ?? null,
    created: i.created,
    attemptCount: i.attempt_count ?? 0,
    amountDue: i.amount_due ?? null,
    currency: i.currency ?? null,
    nextPaymentAttempt: i.next_payment_attempt,
    hostedInvoiceUrl: i.hosted_invoice_url ?? null,
    customerEmail: i.customer_email ?? null,
    periodEnd: ends.length ? Math.max(...ends) : null,
    metadata: { ...(i.parent?.subscription_details?.metadata ?? {}), ...i.metadata },
  };
}

const checkoutSessionSchema = z.looseObject({
  id: z.string().min(1),
  mode: z.string(),
  status: z.string().nullish(),
  payment_status: z.string().nullish(),
  customer: ref,
  subscription: ref,
  client_reference_id: z.string().nullish(),
  metadata,
  customer_email: z.string().nullish(),
  customer_details: z.looseObject({ email: z.string().nullish() }).nullish(),
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
});

export type CheckoutMode = 'payment' | 'subscription' | 'setup';

/** What billing needs from a Stripe Checkout Session. */
export interface CheckoutSessionFacts {
  id: string;
  mode: CheckoutMode;
  /** complete | expired | open */
  status: string | null;
  /** paid | unpaid | no_payment_required */
  paymentStatus: string | null;
  customerId: string | null;
  subscriptionId: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  customerEmail: string | null;
  amountTotal: number | null;
  currency: string | null;
}

/** Reads a Checkout Session object. */
export function readCheckoutSession(object: unknown): CheckoutSessionFacts {
  const c = checkoutSessionSchema.parse(object);
  const mode: CheckoutMode = c.mode === 'subscription' || c.mode === 'setup' ? c.mode : 'payment';
  return {
    id: c.id,
    mode,
    status: c.status ?? null,
    paymentStatus: c.payment_status ?? null,
    customerId: c.customer,
    subscriptionId: c.subscription,
    clientReferenceId: c.client_reference_id ?? null,
    metadata: c.metadata,
    customerEmail: c.customer_details?.email ?? c.customer_email ?? null,
    amountTotal: c.amount_total ?? null,
    currency: c.currency ?? null,
  };
}
