import { describe, expect, it } from 'vitest';
import { encodeClientReference, referenceMetadata } from '../../src/billing/billing-reference.js';
import {
  applyStripeEvent,
  applySubscriptionObject,
  emptySubscriptionRecord,
  stripeEventKeys,
  subscriptionAccess,
  type BillingDomainEvent,
  type SubscriptionRecord,
} from '../../src/billing/subscription-state.js';
import { stripeEvent, stripeFixtureTypes, toCurrentShape, type StripeEvent } from '../support/stripe-events.js';

const SUB = 'sub_000000000000000000000000';
const CUSTOMER = 'cus_00000000000000';
const PRICE = 'price_000000000000000000000000';
const START = 1_700_000_000;
const MONTH = 30 * 86_400;

/** Applies events in order, collecting every domain event raised. */
function replay(events: StripeEvent[], record: SubscriptionRecord = emptySubscriptionRecord()) {
  const raised: BillingDomainEvent[] = [];
  for (const event of events) {
    const result = applyStripeEvent(record, event);
    record = result.record;
    raised.push(...result.events);
  }
  return { record, raised };
}

/** One subscription's event, at a given time, with its own event id. */
function subscriptionEvent(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
  at: number,
  object: Record<string, unknown> = {},
  id = `evt_${type.split('.').pop()}_${at}`,
): StripeEvent {
  return stripeEvent(type, {
    id,
    created: at,
    object: {
      id: SUB,
      created: START,
      start_date: START,
      billing_cycle_anchor: START,
      current_period_start: START,
      current_period_end: START + MONTH,
      canceled_at: type === 'customer.subscription.deleted' ? at : null,
      ended_at: type === 'customer.subscription.deleted' ? at : null,
      ...object,
    },
  });
}

function invoiceEvent(type: 'invoice.paid' | 'invoice.payment_failed', at: number, object: Record<string, unknown> = {}, id = `evt_${type}_${at}`): StripeEvent {
  return stripeEvent(type, {
    id,
    created: at,
    object: { id: 'in_renewal', subscription: SUB, created: START + MONTH, billing_reason: 'subscription_cycle', ...object },
  });
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('subscription state: the real fixture envelopes', () => {
  it('applies every fixture event to an empty record', () => {
    for (const type of stripeFixtureTypes) {
      // The invoice fixtures are one-off invoices; a renewal invoice names its subscription.
      const event = type.startsWith('invoice.') ? stripeEvent(type, { object: { subscription: SUB } }) : stripeEvent(type);
      const result = applyStripeEvent(emptySubscriptionRecord(), event);
      expect(result.changed, type).toBe(true);
      expect(result.record.view.customerId, type).toBe(CUSTOMER);
    }
  });

  it('reads the subscription fixtures: status, plan price and period', () => {
    const created = applyStripeEvent(emptySubscriptionRecord(), stripeEvent('customer.subscription.created')).record.view;
    expect(created).toMatchObject({ status: 'active', subscriptionId: SUB, priceId: PRICE, currentPeriodStart: 1648320110, currentPeriodEnd: 1650998510, cancelAtPeriodEnd: false });

    const deleted = applyStripeEvent(emptySubscriptionRecord(), stripeEvent('customer.subscription.deleted'));
    expect(deleted.record.view).toMatchObject({ status: 'canceled', endedAt: 1648320097 });
    expect(deleted.events).toEqual([
      { type: 'subscription_ended', reference: null, customerId: CUSTOMER, subscriptionId: SUB, priceId: PRICE, endedAt: 1648320097 },
    ]);
  });

  it('records a paid one-time checkout as a lifetime purchase', () => {
    const result = applyStripeEvent(emptySubscriptionRecord(), stripeEvent('checkout.session.completed'));
    expect(result.record.view.paidOnceAt).toBe(1648319959);
    expect(result.record.checkouts).toHaveLength(1);
    // The fixture names no payer of ours, so nobody is told anything was unlocked.
    expect(result.events).toEqual([]);
  });

  it('leaves the subscription alone for one-off invoices, as in the fixtures', () => {
    for (const type of ['invoice.paid', 'invoice.payment_failed'] as const) {
      const result = applyStripeEvent(emptySubscriptionRecord(), stripeEvent(type));
      expect(result).toMatchObject({ changed: false, ignored: 'not_a_subscription_invoice', events: [] });
    }
  });
});

describe('subscription state: duplicates and order', () => {
  const lifecycle = [
    subscriptionEvent('customer.subscription.created', START, { status: 'active' }),
    invoiceEvent('invoice.payment_failed', START + MONTH + 10, { status: 'open', paid: false, attempt_count: 1, next_payment_attempt: START + MONTH + 3 * 86_400 }),
    subscriptionEvent('customer.subscription.updated', START + MONTH + 11, { status: 'past_due', current_period_start: START + MONTH, current_period_end: START + 2 * MONTH }),
    invoiceEvent('invoice.paid', START + MONTH + 3 * 86_400, { status: 'paid', attempt_count: 2, amount_paid: 2000, amount_remaining: 0 }),
    subscriptionEvent('customer.subscription.updated', START + MONTH + 3 * 86_400 + 1, { status: 'active', current_period_start: START + MONTH, current_period_end: START + 2 * MONTH }),
    subscriptionEvent('customer.subscription.deleted', START + MONTH + 20 * 86_400, { status: 'canceled', current_period_start: START + MONTH, current_period_end: START + 2 * MONTH }),
  ];

  it('changes nothing when any event is delivered again', () => {
    const { record } = replay(lifecycle);
    for (const event of lifecycle) {
      const again = applyStripeEvent(record, structuredClone(event));
      expect(again.changed).toBe(false);
      expect(again.events).toEqual([]);
      expect(again.record).toBe(record);
    }
    // Every event twice in a row: the same record and the same notifications as once.
    const doubled = replay(lifecycle.flatMap((e) => [e, structuredClone(e)]));
    const once = replay(lifecycle);
    expect(doubled.record).toEqual(once.record);
    expect(doubled.raised).toEqual(once.raised);
  });

  it('converges to the same record whatever order the events arrive in', () => {
    const inOrder = replay(lifecycle);
    expect(inOrder.raised.map((e) => e.type)).toEqual(['payment_failed', 'subscription_ended']);
    const expected = inOrder.record;
    expect(expected.view).toMatchObject({ status: 'canceled', subscriptionId: SUB, endedAt: START + MONTH + 20 * 86_400 });
    for (const order of permutations(lifecycle)) {
      const { record, raised } = replay(order);
      expect(record).toEqual(expected);
      // The creator hears once that the subscription ended, in every order.
      expect(raised.filter((e) => e.type === 'subscription_ended')).toHaveLength(1);
      expect(raised.filter((e) => e.type === 'payment_failed').length).toBeLessThanOrEqual(1);
    }
  });

  it('converges for created/updated/deleted alone, in all six orders', () => {
    const events = [
      subscriptionEvent('customer.subscription.created', START, { status: 'incomplete' }),
      subscriptionEvent('customer.subscription.updated', START + 5, { status: 'active' }),
      subscriptionEvent('customer.subscription.deleted', START + 99, { status: 'canceled' }),
    ];
    const finals = permutations(events).map((order) => replay(order));
    for (const { record, raised } of finals) {
      expect(record).toEqual(finals[0]!.record);
      expect(raised.map((e) => e.type)).toEqual(['subscription_ended']);
    }
  });

  it('ignores an update older than what is stored', () => {
    const newer = subscriptionEvent('customer.subscription.updated', START + 500, { status: 'active', cancel_at_period_end: true });
    const older = subscriptionEvent('customer.subscription.updated', START + 100, { status: 'active', cancel_at_period_end: false });
    const { record } = replay([newer]);
    const late = applyStripeEvent(record, older);
    expect(late).toMatchObject({ changed: false, ignored: 'stale' });
    expect(late.record.view.cancelAtPeriodEnd).toBe(true);
  });

  it('orders snapshots from the same second by their period, so a renewal is never undone', () => {
    const renewed = subscriptionEvent('customer.subscription.updated', START + MONTH, { current_period_start: START + MONTH, current_period_end: START + 2 * MONTH }, 'evt_a');
    const before = subscriptionEvent('customer.subscription.updated', START + MONTH, { current_period_start: START, current_period_end: START + MONTH }, 'evt_b');
    expect(replay([renewed, before]).record.view.currentPeriodEnd).toBe(START + 2 * MONTH);
    expect(replay([before, renewed]).record.view.currentPeriodEnd).toBe(START + 2 * MONTH);
  });

  it('keeps a deleted subscription ended even if a later-stamped update for it arrives', () => {
    const { record } = replay([subscriptionEvent('customer.subscription.deleted', START + 100)]);
    const zombie = applyStripeEvent(record, subscriptionEvent('customer.subscription.updated', START + 200, { status: 'active' }));
    expect(zombie).toMatchObject({ changed: false, ignored: 'stale' });
    expect(zombie.record.view.status).toBe('canceled');
  });

  it('moves to a newer subscription after a cancellation, and late news of the old one changes nothing', () => {
    const ended = replay([subscriptionEvent('customer.subscription.created', START), subscriptionEvent('customer.subscription.deleted', START + 100)]);
    const resubscribed = subscriptionEvent('customer.subscription.created', START + 1_000, {
      id: 'sub_NEW',
      created: START + 1_000,
      current_period_start: START + 1_000,
      current_period_end: START + 1_000 + MONTH,
    });
    const next = applyStripeEvent(ended.record, resubscribed);
    expect(next.record.view).toMatchObject({ status: 'active', subscriptionId: 'sub_NEW', currentPeriodEnd: START + 1_000 + MONTH });
    expect(next.events).toEqual([]);

    const lateOld = applyStripeEvent(next.record, subscriptionEvent('customer.subscription.updated', START + 50, { status: 'active' }));
    expect(lateOld.changed).toBe(false);
    expect(lateOld.record.view.subscriptionId).toBe('sub_NEW');
  });

  it('does not let a newer, never-paid subscription hide a live one', () => {
    const live = subscriptionEvent('customer.subscription.created', START, { status: 'active' });
    const abandoned = subscriptionEvent('customer.subscription.created', START + 10, { id: 'sub_B', created: START + 10, status: 'incomplete' });
    for (const order of [[live, abandoned], [abandoned, live]]) {
      expect(replay(order).record.view).toMatchObject({ status: 'active', subscriptionId: SUB });
    }
  });
});

describe('subscription state: old and new API shapes', () => {
  it('finds current_period_end on the subscription (2020-08-27) or on its items (current)', () => {
    const old = stripeEvent('customer.subscription.created');
    const current = toCurrentShape(old);
    expect((current.data.object as Record<string, unknown>).current_period_end).toBeUndefined();
    const fromOld = applyStripeEvent(emptySubscriptionRecord(), old).record.view;
    const fromCurrent = applyStripeEvent(emptySubscriptionRecord(), current).record.view;
    expect(fromCurrent).toEqual(fromOld);
    expect(fromCurrent.currentPeriodEnd).toBe(1650998510);
  });

  it('finds an invoice subscription at invoice.subscription (old) or invoice.parent (current)', () => {
    const base = replay([subscriptionEvent('customer.subscription.created', START)]).record;
    const old = invoiceEvent('invoice.payment_failed', START + MONTH + 10);
    const current = toCurrentShape(old);
    expect((current.data.object as Record<string, unknown>).subscription).toBeUndefined();
    const a = applyStripeEvent(base, old);
    const b = applyStripeEvent(base, current);
    expect(a.record.view.status).toBe('past_due');
    expect(b.record.view.status).toBe('past_due');
    expect(b.events.map((e) => e.type)).toEqual(['payment_failed']);
    expect(stripeEventKeys(current)).toEqual({ subscriptionId: SUB, customerId: CUSTOMER, reference: null });
  });

  it('orders a subscription fetched from Stripe against events by when it was observed', () => {
    const { record } = replay([subscriptionEvent('customer.subscription.updated', START + 100, { status: 'past_due' })]);
    const fetched = toCurrentShape(subscriptionEvent('customer.subscription.updated', 0, { status: 'active' })).data.object;
    expect(applySubscriptionObject(record, fetched, { observedAt: START + 50 })).toMatchObject({ changed: false, ignored: 'stale' });
    const fresh = applySubscriptionObject(record, fetched, { observedAt: START + 200 });
    expect(fresh.record.view.status).toBe('active');
  });
});

describe('subscription state: payments', () => {
  const created = subscriptionEvent('customer.subscription.created', START, { status: 'active' });
  const failed = invoiceEvent('invoice.payment_failed', START + MONTH + 10, {
    status: 'open',
    attempt_count: 1,
    amount_due: 2000,
    currency: 'usd',
    next_payment_attempt: START + MONTH + 3 * 86_400,
  });
  const paid = invoiceEvent('invoice.paid', START + MONTH + 3 * 86_400, { status: 'paid', attempt_count: 2 });

  it('marks a failed renewal past due, raises payment_failed once, and keeps access until the period ends', () => {
    const first = replay([created, failed]);
    expect(first.record.view.status).toBe('past_due');
    expect(first.raised).toEqual([
      {
        type: 'payment_failed',
        reference: null,
        customerId: CUSTOMER,
        subscriptionId: SUB,
        invoiceId: 'in_renewal',
        amountDue: 2000,
        currency: 'usd',
        attemptCount: 1,
        nextPaymentAttempt: START + MONTH + 3 * 86_400,
        hostedInvoiceUrl: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//),
        currentPeriodEnd: START + MONTH,
      },
    ]);
    expect(subscriptionAccess(first.record.view, START + MONTH - 1).granted).toBe(true);
    expect(subscriptionAccess(first.record.view, START + MONTH, { mode: 'revoke' }).granted).toBe(false);
  });

  it('is active again once the retry is paid, without another notification', () => {
    const { record, raised } = replay([created, failed, paid]);
    expect(record.view.status).toBe('active');
    expect(raised.map((e) => e.type)).toEqual(['payment_failed']);
  });

  it('raises nothing for a failure that arrives after the same invoice was paid', () => {
    const { record, raised } = replay([created, paid, failed]);
    expect(record.view.status).toBe('active');
    expect(raised).toEqual([]);
  });

  it("trusts Stripe's own later status over an older invoice failure (e.g. paid by another route)", () => {
    const recovered = subscriptionEvent('customer.subscription.updated', START + MONTH + 86_400, { status: 'active' });
    for (const order of [[created, failed, recovered], [created, recovered, failed]]) {
      expect(replay(order).record.view.status).toBe('active');
    }
  });

  it('raises payment_failed again for a later attempt that fails too', () => {
    const second = invoiceEvent('invoice.payment_failed', START + MONTH + 3 * 86_400, { attempt_count: 2 });
    const { raised } = replay([created, failed, second]);
    expect(raised.map((e) => e.type === 'payment_failed' && e.attemptCount)).toEqual([1, 2]);
  });
});

describe('subscription state: checkout links the payer', () => {
  const contact = { kind: 'contact', botId: 'bot-1', contactId: 'contact-1' } as const;

  it('learns the contact from client_reference_id and tells them once they are unlocked', () => {
    const event = stripeEvent('checkout.session.completed', { object: { client_reference_id: encodeClientReference(contact) } });
    const first = applyStripeEvent(emptySubscriptionRecord(), event);
    expect(first.record.reference).toEqual(contact);
    expect(first.events).toEqual([
      { type: 'contact_unlocked', reference: contact, checkoutSessionId: event.data.object.id, mode: 'payment', customerId: CUSTOMER, subscriptionId: null },
    ]);
    const again = applyStripeEvent(first.record, structuredClone(event));
    expect(again).toMatchObject({ changed: false, events: [] });
  });

  it('learns the payer from metadata and links the subscription that metadata travels on', () => {
    const creator = { kind: 'creator', creatorId: 'creator-9' } as const;
    const checkout = stripeEvent('checkout.session.completed', {
      object: { mode: 'subscription', subscription: SUB, payment_intent: null, metadata: referenceMetadata(creator) },
    });
    const subscription = subscriptionEvent('customer.subscription.created', START, { metadata: referenceMetadata(creator) });
    expect(stripeEventKeys(checkout)).toEqual({ subscriptionId: SUB, customerId: CUSTOMER, reference: creator });
    const { record, raised } = replay([checkout, subscription]);
    expect(record.reference).toEqual(creator);
    expect(record.view).toMatchObject({ status: 'active', subscriptionId: SUB, paidOnceAt: null });
    // Creators are told about their plan by the checkout return page, not a chat message.
    expect(raised).toEqual([]);
  });

  it('unlocks a contact when a delayed payment succeeds, not before', () => {
    const pending = stripeEvent('checkout.session.completed', { id: 'evt_1', object: { payment_status: 'unpaid', client_reference_id: encodeClientReference(contact) } });
    const succeeded = stripeEvent('checkout.session.completed', { id: 'evt_2', created: 1648319999, object: { payment_status: 'paid', client_reference_id: encodeClientReference(contact) } });
    succeeded.type = 'checkout.session.async_payment_succeeded';
    const first = applyStripeEvent(emptySubscriptionRecord(), pending);
    expect(first.events).toEqual([]);
    expect(first.record.view.paidOnceAt).toBeNull();
    const second = applyStripeEvent(first.record, succeeded);
    expect(second.events.map((e) => e.type)).toEqual(['contact_unlocked']);
    expect(second.record.view.paidOnceAt).toBe(1648319999);
  });

  it('refuses an event that names a different payer than the record', () => {
    const record = emptySubscriptionRecord({ kind: 'creator', creatorId: 'creator-1' });
    const other = stripeEvent('checkout.session.completed', { object: { client_reference_id: encodeClientReference({ kind: 'creator', creatorId: 'creator-2' }) } });
    expect(applyStripeEvent(record, other)).toMatchObject({ changed: false, ignored: 'reference_mismatch' });
  });
});

describe('subscription state: anything else', () => {
  it('ignores event types it does not handle and malformed objects without throwing', () => {
    const other = { ...stripeEvent('invoice.paid'), type: 'charge.succeeded' };
    expect(applyStripeEvent(emptySubscriptionRecord(), other)).toMatchObject({ changed: false, ignored: 'unhandled_event_type' });
    const broken = stripeEvent('customer.subscription.updated', { object: { id: undefined } });
    expect(applyStripeEvent(emptySubscriptionRecord(), broken)).toMatchObject({ changed: false, ignored: 'malformed' });
    expect(applyStripeEvent(emptySubscriptionRecord(), { hello: 'world' })).toMatchObject({ changed: false, ignored: 'malformed' });
  });
});
