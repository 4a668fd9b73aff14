import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMetadata } from '../../src/billing/billing-reference.js';
import { contactLimitText, replyLimitText } from '../../src/billing/reply-gate.service.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startFakeStripe, type FakeStripe, type FakeStripeEvent } from '../support/fake-stripe.js';
import { multipart } from '../support/multipart.js';
import { signStripeEvent, stripeEvent, toCurrentShape, type StripeEvent } from '../support/stripe-events.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const SECRET_KEY = 'sk_test_51coachbotBILLINGkey0000000000';
const WEBHOOK_SECRET = 'whsec_test_coachbot_billing';
const PUBLIC_URL = 'https://coach.example.test';
// The price on the real fixture envelopes' subscription items, so they name the Pro plan.
const PRO_PRICE = 'price_000000000000000000000000';
const TEAM_PRICE = 'price_team00000000000000000000';
const MONTH = 30 * 86_400;

const plans = [
  { id: 'free', name: 'Free', limits: { bots: 1, documents: 2, storageBytes: 4096, repliesPerMonth: 1, contacts: 1 } },
  { id: 'pro', name: 'Pro', stripePriceId: PRO_PRICE, limits: { bots: 3, documents: 10, storageBytes: 1_000_000, repliesPerMonth: 100, contacts: null } },
  { id: 'team', name: 'Team', stripePriceId: TEAM_PRICE, limits: { bots: 10, documents: 50, storageBytes: 10_000_000, repliesPerMonth: 1_000, contacts: null } },
  { id: 'business', name: 'Business', limits: { bots: null, documents: null, storageBytes: null, repliesPerMonth: null, contacts: null } },
];

let stripe: FakeStripe;
let platform: TestPlatform;
let eventCounter = 0;
// Billing's clock runs this far ahead of the wall clock (tests that travel in time reset it).
let clockAheadMs = 0;

const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  stripe = await startFakeStripe();
  platform = await startTestPlatform({
    PUBLIC_URL,
    PLANS_JSON: JSON.stringify(plans),
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_GRACE_MS: '1000',
  }, { clock: () => new Date(Date.now() + clockAheadMs) });
});

afterAll(async () => {
  await platform?.stop();
  await stripe?.close();
});

function get(session: CreatorSession, url: string) {
  return platform.app.inject({ method: 'GET', url, headers: session.auth });
}

function post(session: CreatorSession, url: string, payload?: object) {
  return platform.app.inject({ method: 'POST', url, headers: session.auth, ...(payload ? { payload } : {}) });
}

/** POSTs an event to the webhook as Stripe would: the exact JSON bytes and their signature. */
function deliver(event: StripeEvent | FakeStripeEvent | string, options: { timestamp?: number; secret?: string; header?: string | null } = {}) {
  const { payload, header } = signStripeEvent(event as StripeEvent | string, options.secret ?? WEBHOOK_SECRET, options.timestamp);
  const signature = options.header === null ? {} : { 'stripe-signature': options.header ?? header };
  return platform.app.inject({ method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', ...signature }, payload });
}

async function storedEvent(id: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ status: string; outcome: string | null }>(`SELECT status, outcome FROM stripe_events WHERE id = $1`, [id]);
  return rows[0];
}

async function eventCount(id: string): Promise<number> {
  const { rows } = await platform.infrastructure.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM stripe_events WHERE id = $1`, [id]);
  return rows[0]!.n;
}

/** Waits until the worker has settled the event. */
function settled(id: string) {
  return waitFor(async () => {
    const row = await storedEvent(id);
    return row && ['processed', 'ignored'].includes(row.status) ? row : undefined;
  }, { what: `Stripe event ${id} to be processed` });
}

/** The Checkout Sessions Stripe holds for the creator, oldest first. */
function checkoutsOf(session: CreatorSession) {
  return [...stripe.checkoutSessions.values()].filter((c) => c.client_reference_id === `creator_${session.creatorId}`);
}

async function billing(session: CreatorSession) {
  const response = await get(session, '/v1/billing');
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function outbox(session: CreatorSession, category: string) {
  const response = await get(session, '/v1/dev/outbox');
  return (response.json().entries as Array<{ category: string; subject: string; text: string }>).filter((e) => e.category === category);
}

/** A fixture envelope about one creator's subscription, at a time near now. */
function subscriptionEvent(
  type: 'customer.subscription.created' | 'customer.subscription.updated' | 'customer.subscription.deleted',
  creatorId: string,
  subscriptionId: string,
  at: number,
  object: Record<string, unknown> = {},
): StripeEvent {
  const start = at - (at % MONTH);
  return stripeEvent(type, {
    id: `evt_test_${++eventCounter}`,
    created: at,
    object: {
      id: subscriptionId,
      customer: `cus_${subscriptionId.slice(4)}`,
      metadata: referenceMetadata({ kind: 'creator', creatorId }),
      created: start,
      start_date: start,
      current_period_start: start,
      current_period_end: start + MONTH,
      canceled_at: type === 'customer.subscription.deleted' ? at : null,
      ended_at: type === 'customer.subscription.deleted' ? at : null,
      ...object,
    },
  });
}

function subscriptionId(): string {
  return `sub_test${Math.random().toString(36).slice(2, 12)}`;
}

describe('GET /v1/billing', () => {
  it('shows a new creator on the free plan with nothing used, and which plans can be bought', async () => {
    const session = await signUpCreator(platform.app);
    const body = await billing(session);
    expect(body.plan).toEqual({ id: 'free', name: 'Free', limits: plans[0]!.limits });
    expect(body.status).toBe('none');
    expect(body.currentPeriodEnd).toBeNull();
    expect(body.usage).toMatchObject({ bots: 0, documents: 0, storageBytes: 0, repliesThisPeriod: 0, contacts: 0 });
    // Without a subscription replies are counted per calendar month (UTC).
    const now = new Date();
    expect(body.usage.periodStart).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
    expect(body.plans.map((p: { id: string; purchasable: boolean }) => [p.id, p.purchasable])).toEqual([
      ['free', false],
      ['pro', true],
      ['team', true],
      ['business', false],
    ]);
    expect(body.paymentsEnabled).toBe(true);
  });

  it('needs authentication', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/v1/billing' });
    expect(response.statusCode).toBe(401);
  });
});

describe('plan limits where the work happens', () => {
  it('refuses a bot beyond the plan with 402 and a message that says why, creating nothing', async () => {
    const session = await signUpCreator(platform.app);
    await createBot(platform.app, session.auth);
    const response = await post(session, '/v1/bots', { name: 'Second' });
    expect(response.statusCode).toBe(402);
    expect(response.json()).toEqual({
      error: { code: 'PLAN_LIMIT_BOTS', message: 'Your Free plan allows 1 bot. Upgrade to create more.', details: { limit: 1, used: 1 } },
    });
    expect((await get(session, '/v1/bots')).json().bots).toHaveLength(1);
  });

  it('refuses documents beyond the plan, by count and by storage, storing nothing', async () => {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const upload = (name: string, bytes: Buffer) => {
      const body = multipart({ name, type: 'text/plain', bytes });
      return platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
    };
    const big = await upload('big.txt', Buffer.from('Sleep and habits. '.repeat(300)));
    expect(big.statusCode).toBe(402);
    expect(big.json().error).toMatchObject({ code: 'PLAN_LIMIT_STORAGE', details: { limit: 4096, used: 0 } });
    expect(big.json().error.message).toMatch(/^Your Free plan allows 4 KB of storage and 0 bytes is in use; this upload needs 5.3 KB\./);

    expect((await upload('one.txt', Buffer.from('Go to bed at the same time every night.'))).statusCode).toBe(202);
    expect((await upload('two.txt', Buffer.from('Take a short walk after lunch.'))).statusCode).toBe(202);
    const third = await upload('three.txt', Buffer.from('Drink water first thing in the morning.'));
    expect(third.statusCode).toBe(402);
    expect(third.json().error).toMatchObject({ code: 'PLAN_LIMIT_DOCUMENTS', message: 'Your Free plan allows 2 documents. Upgrade to add more.' });
    const byUrl = await post(session, `/v1/bots/${bot.id}/documents`, { url: 'https://example.com/guide' });
    expect(byUrl.statusCode).toBe(402);
    expect((await get(session, `/v1/bots/${bot.id}/documents`)).json().documents).toHaveLength(2);
    expect((await billing(session)).usage).toMatchObject({ documents: 2 });
  });

  it('answers another creator’s bot with 404, not 402', async () => {
    const owner = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, owner.auth);
    const other = await signUpCreator(platform.app);
    await createBot(platform.app, other.auth);
    const response = await post(other, `/v1/bots/${bot.id}/documents`, { url: 'https://example.com/guide' });
    expect(response.statusCode).toBe(404);
  });
});

describe('checkout and portal', () => {
  it('creates a subscription Checkout Session for the plan and returns its URL', async () => {
    const session = await signUpCreator(platform.app);
    const before = stripe.requests.length;
    const response = await post(session, '/v1/billing/checkout', { plan: 'pro' });
    expect(response.statusCode).toBe(200);
    const { id, url } = response.json();
    expect(url).toBe(`https://checkout.stripe.com/c/pay/${id}`);
    const request = stripe.requests.slice(before).find((r) => r.path === '/v1/checkout/sessions')!;
    const metadata = { coachbot_kind: 'creator', coachbot_creator_id: session.creatorId };
    expect(request.form).toEqual({
      mode: 'subscription',
      line_items: [{ price: PRO_PRICE, quantity: '1' }],
      customer_email: session.email,
      client_reference_id: `creator_${session.creatorId}`,
      metadata,
      subscription_data: { metadata },
      success_url: `${PUBLIC_URL}/billing/done?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${PUBLIC_URL}/billing/cancelled`,
    });
    // A double click makes one checkout, not two.
    const again = await post(session, '/v1/billing/checkout', { plan: 'pro' });
    expect(again.json().id).toBe(id);
  });

  it('returns the open session to a second click minutes later, and to two clicks at once', async () => {
    const session = await signUpCreator(platform.app);
    const [first, second] = await Promise.all([post(session, '/v1/billing/checkout', { plan: 'pro' }), post(session, '/v1/billing/checkout', { plan: 'pro' })]);
    expect(first.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    try {
      clockAheadMs = 7 * 60_000;
      expect((await post(session, '/v1/billing/checkout', { plan: 'pro' })).json()).toEqual(first.json());
      clockAheadMs = 20 * 3_600_000;
      expect((await post(session, '/v1/billing/checkout', { plan: 'pro' })).json()).toEqual(first.json());
    } finally {
      clockAheadMs = 0;
    }
    expect(checkoutsOf(session).map((c) => c.id)).toEqual([first.json().id]);
  });

  it('starts another session for another plan, and once the session has expired', async () => {
    const session = await signUpCreator(platform.app);
    const pro = (await post(session, '/v1/billing/checkout', { plan: 'pro' })).json();
    const team = (await post(session, '/v1/billing/checkout', { plan: 'team' })).json();
    expect(team.id).not.toBe(pro.id);
    expect(stripe.checkoutSessions.get(team.id)!._line_items).toEqual([{ price: TEAM_PRICE, quantity: '1' }]);

    // Stripe says the session expired (a day without paying): the next click gets a fresh one.
    const expired = stripe.expireCheckout(team.id);
    expect((await deliver(expired)).statusCode).toBe(200);
    await settled(expired.id);
    const fresh = (await post(session, '/v1/billing/checkout', { plan: 'team' })).json();
    expect(fresh.id).not.toBe(team.id);
    expect(stripe.checkoutSessions.get(fresh.id)!.status).toBe('open');

    // Past its expiry time, a session is not handed out even before Stripe's event arrives.
    try {
      clockAheadMs = 25 * 3_600_000;
      const later = (await post(session, '/v1/billing/checkout', { plan: 'team' })).json();
      expect(later.id).not.toBe(fresh.id);
      expect(stripe.checkoutSessions.get(later.id)!.status).toBe('open');
    } finally {
      clockAheadMs = 0;
    }
    expect(checkoutsOf(session)).toHaveLength(4);
  });

  it('starts a new session for a creator who paid through the last one and has since cancelled', async () => {
    const session = await signUpCreator(platform.app);
    const paid = (await post(session, '/v1/billing/checkout', { plan: 'pro' })).json();
    const completion = stripe.completeCheckout(paid.id, { email: session.email });
    for (const event of completion) {
      expect((await deliver(event)).statusCode).toBe(200);
      await settled(event.id);
    }
    expect((await billing(session)).plan.id).toBe('pro');
    const cancelled = stripe.cancelSubscription(completion[1]!.data.object.subscription as string, { at: nowSeconds() + 60 });
    expect((await deliver(cancelled)).statusCode).toBe(200);
    await settled(cancelled.id);
    expect((await billing(session)).plan.id).toBe('free');

    const again = (await post(session, '/v1/billing/checkout', { plan: 'pro' })).json();
    expect(again.id).not.toBe(paid.id);
    expect(stripe.checkoutSessions.get(again.id)!.status).toBe('open');
  });

  it('refuses plans that cannot be bought, and names the ones that exist', async () => {
    const session = await signUpCreator(platform.app);
    const free = await post(session, '/v1/billing/checkout', { plan: 'free' });
    expect(free.statusCode).toBe(409);
    expect(free.json().error.code).toBe('PLAN_NOT_PURCHASABLE');
    const unpriced = await post(session, '/v1/billing/checkout', { plan: 'business' });
    expect(unpriced.json().error).toMatchObject({ code: 'PLAN_NOT_PURCHASABLE', message: expect.stringContaining('no Stripe price') });
    const unknown = await post(session, '/v1/billing/checkout', { plan: 'platinum' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe('plan: no plan "platinum"; choose one of free, pro, team, business');
    const missing = await post(session, '/v1/billing/checkout', {});
    expect(missing.statusCode).toBe(400);
  });

  it('has no portal before the creator ever paid', async () => {
    const session = await signUpCreator(platform.app);
    const response = await post(session, '/v1/billing/portal');
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('NO_BILLING_ACCOUNT');
  });
});

describe('the Stripe webhook puts a creator on their plan', () => {
  let session: CreatorSession;
  let completion: FakeStripeEvent[];

  it('applies a completed checkout whichever event arrives first, reading the subscription from Stripe', async () => {
    session = await signUpCreator(platform.app);
    await createBot(platform.app, session.auth);
    const checkout = (await post(session, '/v1/billing/checkout', { plan: 'pro' })).json();
    completion = stripe.completeCheckout(checkout.id, { email: session.email });
    const [created, completed] = completion as [FakeStripeEvent, FakeStripeEvent];
    expect([created.type, completed.type]).toEqual(['customer.subscription.created', 'checkout.session.completed']);

    // Stripe does not promise order: the completion comes first here.
    const first = await deliver(completed);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: true, duplicate: false });
    await settled(completed.id);
    const subscriptionId = completed.data.object.subscription as string;
    expect(stripe.requests.some((r) => r.method === 'GET' && r.path === `/v1/subscriptions/${subscriptionId}`)).toBe(true);
    const body = await billing(session);
    expect(body.plan.id).toBe('pro');
    expect(body.status).toBe('active');
    const item = (stripe.subscriptions.get(subscriptionId)!.items as { data: Array<{ current_period_end: number }> }).data[0]!;
    expect(body.currentPeriodEnd).toBe(new Date(item.current_period_end * 1000).toISOString());

    expect((await deliver(created)).statusCode).toBe(200);
    expect((await settled(created.id)).status).toBe('ignored');
    expect((await billing(session)).plan.id).toBe('pro');

    // The Pro plan's limits apply at once.
    expect((await post(session, '/v1/bots', { name: 'Second bot' })).statusCode).toBe(201);
  });

  it('stores a redelivered event once and changes nothing', async () => {
    const before = await billing(session);
    for (const event of completion) {
      const again = await deliver(event);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ received: true, duplicate: true });
      expect(await eventCount(event.id)).toBe(1);
    }
    expect(await billing(session)).toEqual(before);
  });

  it('opens the billing portal for the subscribed creator and refuses a second subscription', async () => {
    const response = await post(session, '/v1/billing/portal');
    expect(response.statusCode).toBe(200);
    expect(response.json().url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    expect(stripe.requests.at(-1)!.form).toEqual({ customer: completion[1]!.data.object.customer, return_url: `${PUBLIC_URL}/billing/return` });
    const second = await post(session, '/v1/billing/checkout', { plan: 'pro' });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('SUBSCRIPTION_EXISTS');
  });
});

describe('events in any order, old and current API shapes (real fixture envelopes)', () => {
  it('ends a subscription whose deletion arrives before its creation and update, and emails the creator once', async () => {
    const session = await signUpCreator(platform.app);
    const sub = subscriptionId();
    const at = nowSeconds() - 3_600;
    const created = subscriptionEvent('customer.subscription.created', session.creatorId, sub, at);
    const updated = subscriptionEvent('customer.subscription.updated', session.creatorId, sub, at + 60, { cancel_at_period_end: true });
    const deleted = subscriptionEvent('customer.subscription.deleted', session.creatorId, sub, at + 120, { status: 'canceled' });
    for (const event of [deleted, updated, created]) {
      expect((await deliver(event)).statusCode).toBe(200);
      await settled(event.id);
    }
    const body = await billing(session);
    expect(body).toMatchObject({ plan: { id: 'free' }, status: 'canceled' });
    const ended = await waitFor(async () => {
      const entries = await outbox(session, 'subscription-ended');
      return entries.length ? entries : undefined;
    }, { what: 'the subscription-ended email' });
    expect(ended[0]!.subject).toBe('Your Pro subscription has ended');

    // A redelivered deletion changes nothing and sends nothing more.
    expect((await deliver(deleted)).json().duplicate).toBe(true);
    const replay = stripeEvent('customer.subscription.deleted', { ...deleted, id: `evt_test_${++eventCounter}`, created: deleted.created, object: deleted.data.object });
    expect((await deliver(replay)).statusCode).toBe(200);
    await settled(replay.id);
    expect(await outbox(session, 'subscription-ended')).toHaveLength(1);
  });

  it('reads the period from subscription items in the current API shape', async () => {
    const session = await signUpCreator(platform.app);
    const sub = subscriptionId();
    const event = toCurrentShape(subscriptionEvent('customer.subscription.created', session.creatorId, sub, nowSeconds() - 60));
    expect(event.data.object.current_period_end).toBeUndefined();
    await deliver(event);
    await settled(event.id);
    const body = await billing(session);
    expect(body).toMatchObject({ plan: { id: 'pro' }, status: 'active' });
    const item = (event.data.object.items as { data: Array<{ current_period_end: number }> }).data[0]!;
    expect(body.currentPeriodEnd).toBe(new Date(item.current_period_end * 1000).toISOString());
  });

  it('marks a failed renewal past due (the plan holds until the period ends), emails the creator, and recovers when paid', async () => {
    const session = await signUpCreator(platform.app);
    const sub = subscriptionId();
    const at = nowSeconds() - 600;
    const created = subscriptionEvent('customer.subscription.created', session.creatorId, sub, at);
    await deliver(created);
    await settled(created.id);
    // An old-version invoice names its subscription but not its payer: found through the subscription.
    const failed = stripeEvent('invoice.payment_failed', {
      id: `evt_test_${++eventCounter}`,
      created: at + 60,
      object: { id: `in_${sub}`, subscription: sub, customer: `cus_${sub.slice(4)}`, created: at + 30, attempt_count: 1, next_payment_attempt: at + 3 * 86_400 },
    });
    await deliver(failed);
    await settled(failed.id);
    expect(await billing(session)).toMatchObject({ plan: { id: 'pro' }, status: 'past_due' });
    const email = await waitFor(async () => (await outbox(session, 'payment-failed'))[0], { what: 'the payment-failed email' });
    expect(email.subject).toBe('Your payment for Pro did not go through');
    expect(email.text).toContain('$20.00');

    const paid = stripeEvent('invoice.paid', {
      id: `evt_test_${++eventCounter}`,
      created: at + 120,
      object: { id: `in_${sub}`, subscription: sub, customer: `cus_${sub.slice(4)}`, created: at + 30, attempt_count: 2, status: 'paid' },
    });
    await deliver(paid);
    await settled(paid.id);
    expect(await billing(session)).toMatchObject({ plan: { id: 'pro' }, status: 'active' });
    expect(await outbox(session, 'payment-failed')).toHaveLength(1);
  });

  it('fetches a subscription it has never heard of when an invoice for it arrives first', async () => {
    const session = await signUpCreator(platform.app);
    const customer = stripe.addCustomer({ email: session.email });
    const subscription = stripe.addSubscription({ customer, price: PRO_PRICE, metadata: referenceMetadata({ kind: 'creator', creatorId: session.creatorId }) });
    const invoice = stripeEvent('invoice.paid', {
      id: `evt_test_${++eventCounter}`,
      created: nowSeconds(),
      object: { id: `in_${subscription.id}`, subscription: subscription.id, customer, status: 'paid' },
    });
    await deliver(invoice);
    expect((await settled(invoice.id)).status).toBe('processed');
    expect(stripe.requests.some((r) => r.path === `/v1/subscriptions/${subscription.id}`)).toBe(true);
    expect(await billing(session)).toMatchObject({ plan: { id: 'pro' }, status: 'active' });
  });

  it('ignores events about payers it does not know', async () => {
    const event = stripeEvent('customer.subscription.updated', { id: `evt_test_${++eventCounter}`, object: { id: subscriptionId(), customer: 'cus_nobodyhere' } });
    expect((await deliver(event)).statusCode).toBe(200);
    expect(await settled(event.id)).toEqual({ status: 'ignored', outcome: 'unknown_payer' });
  });
});

describe('webhook signatures', () => {
  const event = () => stripeEvent('customer.subscription.updated', { id: `evt_test_${++eventCounter}` });

  it('rejects a tampered body and stores nothing', async () => {
    const original = event();
    const { payload, header } = signStripeEvent(original, WEBHOOK_SECRET);
    const tampered = payload.replace('"status": "active"', '"status": "canceled"');
    expect(tampered).not.toBe(payload);
    const response = await platform.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      payload: tampered,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'INVALID_SIGNATURE', details: { problem: 'bad_signature' } });
    expect(await eventCount(original.id)).toBe(0);
  });

  it('rejects a signature older than 300 seconds and stores nothing; one inside the window is accepted', async () => {
    const stale = event();
    const response = await deliver(stale, { timestamp: nowSeconds() - 301 });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'INVALID_SIGNATURE', details: { problem: 'stale_timestamp' } });
    expect(await eventCount(stale.id)).toBe(0);
    const fresh = event();
    expect((await deliver(fresh, { timestamp: nowSeconds() - 240 })).statusCode).toBe(200);
    expect(await eventCount(fresh.id)).toBe(1);
  });

  it('rejects a missing signature, another secret’s signature and signed non-events', async () => {
    const missing = event();
    expect((await deliver(missing, { header: null })).json().error.details.problem).toBe('missing_header');
    const foreign = event();
    expect((await deliver(foreign, { secret: 'whsec_someone_else' })).statusCode).toBe(400);
    const notAnEvent = await deliver('{"hello":"world"}');
    expect(notAnEvent.statusCode).toBe(400);
    expect(await eventCount(missing.id)).toBe(0);
    expect(await eventCount(foreign.id)).toBe(0);
  });
});

describe('end-user premium settings', () => {
  it('are set, read and removed per bot, by its creator only', async () => {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const url = `/v1/bots/${bot.id}/premium`;
    expect((await get(session, url)).json()).toEqual({ premium: null });
    const premium = { freeRepliesPerMonth: 5, stripePriceId: 'price_unlock', mode: 'payment' };
    const put = await platform.app.inject({ method: 'PUT', url, headers: session.auth, payload: premium });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ premium });
    expect((await get(session, url)).json()).toEqual({ premium });

    const bad = await platform.app.inject({ method: 'PUT', url, headers: session.auth, payload: { ...premium, stripePriceId: 'prod_123' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/stripePriceId/);

    const other = await signUpCreator(platform.app);
    expect((await get(other, url)).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'PUT', url, headers: other.auth, payload: premium })).statusCode).toBe(404);

    expect((await platform.app.inject({ method: 'DELETE', url, headers: session.auth })).statusCode).toBe(204);
    expect((await get(session, url)).json()).toEqual({ premium: null });
  });
});

describe('plan quotas in web chat', () => {
  const done = (body: string) => JSON.parse(body.split('\n\n').find((frame) => frame.startsWith('event: done'))!.split('data: ')[1]!);
  // A reply counts once it is recorded as sent, a moment after the page has it.
  const usageOnceCounted = (session: CreatorSession) =>
    waitFor(async () => {
      const { usage } = await billing(session);
      return usage.repliesThisPeriod > 0 && usage;
    }, { what: 'the reply to be counted' });

  it('answers within the plan, then says the limit is reached instead of answering', async () => {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const chat = (text: string) => post(session, `/v1/bots/${bot.id}/chat`, { sessionId: 'quota-session', text });
    const first = await chat('How do I build a habit?');
    expect(first.statusCode).toBe(200);
    expect(done(first.body).reply).not.toBe(replyLimitText);
    const second = await chat('And how do I keep it?');
    expect(done(second.body).reply).toBe(replyLimitText);
    expect((await usageOnceCounted(session)).repliesThisPeriod).toBe(1);
  });

  it('gives a creator who subscribes the new plan at once, in the middle of a conversation', async () => {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const chat = (text: string) => post(session, `/v1/bots/${bot.id}/chat`, { sessionId: 'upgrade-session', text });
    expect(done((await chat('How do I build a habit?')).body).reply).not.toBe(replyLimitText);
    expect(done((await chat('And how do I keep it?')).body).reply).toBe(replyLimitText);

    const event = subscriptionEvent('customer.subscription.created', session.creatorId, subscriptionId(), nowSeconds() - 60);
    expect((await deliver(event)).statusCode).toBe(200);
    await settled(event.id);
    expect(done((await chat('And how do I keep it?')).body).reply).not.toBe(replyLimitText);
  });

  it('answers only the contacts the plan allows', async () => {
    const session = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, session.auth);
    const chat = (sessionId: string) => post(session, `/v1/bots/${bot.id}/chat`, { sessionId, text: 'How do I build a habit?' });
    expect(done((await chat('first-person')).body).reply).not.toBe(contactLimitText);
    expect(done((await chat('second-person')).body).reply).toBe(contactLimitText);
    expect(await usageOnceCounted(session)).toMatchObject({ contacts: 2, repliesThisPeriod: 1 });
  });
});

describe('while the database is down', () => {
  it('answers 503 so Stripe delivers again, and stores the redelivery once it is back', async () => {
    const event = stripeEvent('customer.subscription.updated', { id: `evt_test_${++eventCounter}` });
    await platform.testDatabase.cutOff();
    try {
      const response = await deliver(event);
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await platform.testDatabase.restore();
    }
    const again = await waitFor(async () => {
      const response = await deliver(event);
      return response.statusCode === 200 ? response : undefined;
    }, { what: 'the webhook to store events again' });
    expect(again.json().duplicate).toBe(false);
    await settled(event.id);
  });
});
