import Stripe from 'stripe';
import { jsonFixture } from './fixtures.js';

/** The Stripe event types we have real envelopes for (stripe-ruby-mock, API version 2020-08-27). */
export const stripeFixtureTypes = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
] as const;

export type StripeFixtureType = (typeof stripeFixtureTypes)[number];

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  type: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  [key: string]: unknown;
}

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `patch` into `target` recursively; arrays and `null` replace, `undefined` deletes. */
function deepMerge(target: Json, patch: Json): Json {
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete target[key];
    else if (isPlainObject(value) && isPlainObject(target[key])) deepMerge(target[key] as Json, value);
    else target[key] = structuredClone(value);
  }
  return target;
}

export interface StripeEventChanges {
  /** Event id; the fixtures all share one, so give each event in a sequence its own. */
  id?: string;
  /** Event `created`, Unix seconds. */
  created?: number;
  /** Deep-merged into `data.object` (`undefined` removes a field). */
  object?: Json;
}

/** A fresh copy of the real fixture envelope for `type`, with changes applied. */
export function stripeEvent(type: StripeFixtureType, changes: StripeEventChanges = {}): StripeEvent {
  const event = structuredClone(jsonFixture<StripeEvent>(`stripe/stripe-ruby-mock__${type}.json`));
  if (changes.id !== undefined) event.id = changes.id;
  if (changes.created !== undefined) event.created = changes.created;
  if (changes.object) deepMerge(event.data.object, changes.object);
  return event;
}

/**
 * Rewrites a subscription or invoice event into the current API shape: the period moves from the
 * subscription onto its items (2025-03-31.basil), and an invoice's subscription moves under
 * `parent.subscription_details`.
 */
export function toCurrentShape(event: StripeEvent, apiVersion = '2026-10-28.endive'): StripeEvent {
  const copy = structuredClone(event);
  copy.api_version = apiVersion;
  const object = copy.data.object;
  if (object.object === 'subscription') {
    const items = (object.items as { data: Json[] }).data;
    for (const item of items) {
      item.current_period_start = object.current_period_start;
      item.current_period_end = object.current_period_end;
    }
    delete object.current_period_start;
    delete object.current_period_end;
    delete object.plan;
  }
  if (object.object === 'invoice') {
    const subscription = object.subscription ?? null;
    delete object.subscription;
    delete object.paid;
    object.parent = subscription
      ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription } }
      : null;
    for (const line of (object.lines as { data: Json[] }).data) {
      const lineSubscription = line.subscription ?? null;
      delete line.subscription;
      line.parent = lineSubscription
        ? { type: 'subscription_item_details', subscription_item_details: { subscription: lineSubscription, subscription_item: 'si_00000000000000', proration: false } }
        : null;
    }
  }
  return copy;
}

/** The JSON body Stripe would POST and its `Stripe-Signature` header, signed with `secret` at `timestamp` (Unix seconds). */
export function signStripeEvent(event: StripeEvent | string, secret: string, timestamp = Math.floor(Date.now() / 1000)): { payload: string; header: string } {
  const payload = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  return { payload, header };
}
