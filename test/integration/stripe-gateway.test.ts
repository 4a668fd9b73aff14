import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClientReference, referenceMetadata } from '../../src/billing/billing-reference.js';
import { PaymentProviderError, WebhookSignatureError } from '../../src/billing/billing.errors.js';
import { applyStripeEvent, applySubscriptionObject, emptySubscriptionRecord } from '../../src/billing/subscription-state.js';
import { DisabledPaymentGateway } from '../../src/payments/disabled.gateway.js';
import { StripeGateway, stripeHostOptions } from '../../src/payments/stripe.gateway.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';
import { signStripeEvent, stripeEvent } from '../support/stripe-events.js';

const SECRET_KEY = 'sk_test_51coachbotFAKEkey000000000000';
const WEBHOOK_SECRET = 'whsec_test_coachbot_secret';

let stripe: FakeStripe;
let gateway: StripeGateway;

beforeAll(async () => {
  stripe = await startFakeStripe({ prices: ['price_pro', 'price_unlock'] });
  gateway = new StripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: stripe.url, maxNetworkRetries: 0 });
});

afterAll(async () => {
  await stripe?.close();
});

describe('Stripe gateway: checkout', () => {
  const creator = { kind: 'creator', creatorId: '4b0c7a52-0d9e-4d0e-9d1a-2a3f1f0d5c11' } as const;

  it('creates a subscription checkout with the right form fields and returns where to send the creator', async () => {
    const before = stripe.requests.length;
    const session = await gateway.createCheckoutSession({
      mode: 'subscription',
      priceId: 'price_pro',
      customerEmail: 'ana@example.com',
      clientReferenceId: encodeClientReference(creator),
      metadata: referenceMetadata(creator),
      successUrl: 'https://app.example/billing/done?session={CHECKOUT_SESSION_ID}',
      cancelUrl: 'https://app.example/billing',
    });
    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]{58}$/);
    expect(session.url).toBe(`https://checkout.stripe.com/c/pay/${session.id}`);

    const request = stripe.requests[before]!;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions' });
    expect(request.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // Stripe's wire format: nested keys in brackets, as the fake must parse them.
    expect(request.rawBody).toContain('line_items[0][price]=price_pro&line_items[0][quantity]=1');
    expect(request.form).toEqual({
      mode: 'subscription',
      line_items: [{ price: 'price_pro', quantity: '1' }],
      client_reference_id: `creator_${creator.creatorId}`,
      customer_email: 'ana@example.com',
      metadata: { coachbot_kind: 'creator', coachbot_creator_id: creator.creatorId },
      subscription_data: { metadata: { coachbot_kind: 'creator', coachbot_creator_id: creator.creatorId } },
      success_url: 'https://app.example/billing/done?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example/billing',
    });
  });

  it('returns the same session for a repeated idempotency key (a double click makes one checkout)', async () => {
    const input = {
      mode: 'payment' as const,
      priceId: 'price_unlock',
      clientReferenceId: 'contact_bot-1_contact-1',
      metadata: referenceMetadata({ kind: 'contact', botId: 'bot-1', contactId: 'contact-1' }),
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
      idempotencyKey: 'unlock:bot-1:contact-1:1',
    };
    const first = await gateway.createCheckoutSession(input);
    const second = await gateway.createCheckoutSession(input);
    expect(second).toEqual(first);
    expect([...stripe.checkoutSessions.keys()].filter((id) => id === first.id)).toHaveLength(1);
    const last = stripe.requests.at(-1)!;
    expect(last.headers['idempotency-key']).toBe('unlock:bot-1:contact-1:1');
    expect(last.form.payment_intent_data).toEqual({ metadata: input.metadata });
  });

  it('reports a price Stripe does not know as a non-retryable provider error', async () => {
    const attempt = gateway.createCheckoutSession({
      mode: 'subscription',
      priceId: 'price_missing',
      clientReferenceId: 'creator_x',
      metadata: {},
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
    });
    await expect(attempt).rejects.toBeInstanceOf(PaymentProviderError);
    await expect(attempt).rejects.toMatchObject({ retryable: false, message: expect.stringContaining("No such price: 'price_missing'") });
  });

  it('reports Stripe outages as retryable', async () => {
    stripe.failNext(500);
    const attempt = gateway.createPortalSession({ customerId: stripe.addCustomer(), returnUrl: 'https://app.example/billing' });
    await expect(attempt).rejects.toMatchObject({ retryable: true, code: 'PAYMENT_PROVIDER_UNAVAILABLE' });
  });

  it('says so when the API key is wrong, and the fake answers in Stripe’s error envelope', async () => {
    const wrong = new StripeGateway({ secretKey: 'rk_live_nope', apiBase: stripe.url, maxNetworkRetries: 0 });
    await expect(wrong.retrieveSubscription('sub_x')).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('STRIPE_SECRET_KEY') });
    const response = await fetch(`${stripe.url}/v1/checkout/sessions`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { type: 'invalid_request_error', message: expect.stringContaining('You did not provide an API key') } });
  });
});

describe('Stripe gateway: portal and subscriptions', () => {
  it('opens a billing portal session for a customer', async () => {
    const customerId = stripe.addCustomer({ email: 'ana@example.com' });
    const portal = await gateway.createPortalSession({ customerId, returnUrl: 'https://app.example/billing' });
    expect(portal.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\/test_/);
    expect(stripe.requests.at(-1)!.form).toEqual({ customer: customerId, return_url: 'https://app.example/billing' });
  });

  it('completes a checkout end to end: events and the fetched subscription give the creator their plan', async () => {
    const creator = { kind: 'creator', creatorId: 'c0ffee00-0000-4000-8000-000000000001' } as const;
    const session = await gateway.createCheckoutSession({
      mode: 'subscription',
      priceId: 'price_pro',
      clientReferenceId: encodeClientReference(creator),
      metadata: referenceMetadata(creator),
      successUrl: 'https://app.example/ok',
      cancelUrl: 'https://app.example/no',
    });
    const events = stripe.completeCheckout(session.id, { email: 'ana@example.com' });
    expect(events.map((e) => e.type)).toEqual(['customer.subscription.created', 'checkout.session.completed']);

    // Deliver the completion first (out of order), then read the subscription from Stripe.
    let record = emptySubscriptionRecord(creator);
    record = applyStripeEvent(record, events[1]).record;
    const subscriptionId = record.checkouts[0]!.subscriptionId!;
    const fetched = await gateway.retrieveSubscription(subscriptionId);
    record = applySubscriptionObject(record, fetched, { observedAt: Math.floor(Date.now() / 1000) }).record;
    expect(record.view).toMatchObject({ status: 'active', subscriptionId, priceId: 'price_pro', customerId: events[1]!.data.object.customer });
    // Current API shape: the period lives on the items, and is still found.
    expect(record.view.currentPeriodEnd).toBeGreaterThan(record.view.currentPeriodStart!);
    // The late `created` event changes nothing further.
    expect(applyStripeEvent(record, events[0]).changed).toBe(false);
  });

  it('maps an unknown subscription to a non-retryable error', async () => {
    await expect(gateway.retrieveSubscription('sub_nope')).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('No such subscription') });
  });
});

describe('Stripe gateway: webhook signatures', () => {
  const event = stripeEvent('customer.subscription.updated');

  it('accepts a delivery signed with the endpoint secret, over the raw bytes', () => {
    const { payload, header } = signStripeEvent(event, WEBHOOK_SECRET);
    const verified = gateway.verifyWebhook(Buffer.from(payload), header);
    expect(verified).toMatchObject({ id: event.id, type: 'customer.subscription.updated' });
    expect(verified.data.object).toEqual(event.data.object);
  });

  it('rejects a tampered body', () => {
    const { payload, header } = signStripeEvent(event, WEBHOOK_SECRET);
    const tampered = payload.replace('"status": "active"', '"status": "canceled"');
    expect(tampered).not.toBe(payload);
    expect(() => gateway.verifyWebhook(Buffer.from(tampered), header)).toThrow(WebhookSignatureError);
    expect(() => gateway.verifyWebhook(Buffer.from(tampered), header)).toThrow(expect.objectContaining({ problem: 'bad_signature', status: 400 }));
  });

  it('rejects re-serialised JSON: only the exact bytes Stripe signed verify', () => {
    const { payload, header } = signStripeEvent(event, WEBHOOK_SECRET);
    expect(() => gateway.verifyWebhook(JSON.stringify(JSON.parse(payload)), header)).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
  });

  it('rejects a signature older than 300 seconds and accepts one just inside', () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = signStripeEvent(event, WEBHOOK_SECRET, now - 301);
    expect(() => gateway.verifyWebhook(stale.payload, stale.header)).toThrow(expect.objectContaining({ problem: 'stale_timestamp' }));
    const fresh = signStripeEvent(event, WEBHOOK_SECRET, now - 240);
    expect(gateway.verifyWebhook(fresh.payload, fresh.header).id).toBe(event.id);
  });

  it('rejects another secret’s signature and a missing header', () => {
    const { payload, header } = signStripeEvent(event, 'whsec_someone_else');
    expect(() => gateway.verifyWebhook(payload, header)).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
    expect(() => gateway.verifyWebhook(payload, undefined)).toThrow(expect.objectContaining({ problem: 'missing_header' }));
  });
});

describe('STRIPE_API_BASE', () => {
  it('becomes the SDK host options, and a path is refused rather than silently dropped', () => {
    expect(stripeHostOptions('http://127.0.0.1:12111')).toEqual({ host: '127.0.0.1', port: 12111, protocol: 'http' });
    expect(stripeHostOptions('https://stripe-proxy.internal')).toEqual({ host: 'stripe-proxy.internal', port: 443, protocol: 'https' });
    expect(stripeHostOptions('http://[::1]:8080/')).toEqual({ host: '::1', port: 8080, protocol: 'http' });
    expect(() => stripeHostOptions('https://proxy.internal/stripe')).toThrow(/must not have a path/);
  });
});

describe('without Stripe keys', () => {
  it('explains that payments are not configured instead of failing obscurely', async () => {
    const disabled = new DisabledPaymentGateway();
    await expect(disabled.createPortalSession({ customerId: 'cus_1', returnUrl: 'https://app.example' })).rejects.toMatchObject({ code: 'BILLING_DISABLED', status: 409 });
    const { payload, header } = signStripeEvent(stripeEvent('invoice.paid'), WEBHOOK_SECRET);
    expect(() => disabled.verifyWebhook(payload, header)).toThrow(WebhookSignatureError);
  });
});
