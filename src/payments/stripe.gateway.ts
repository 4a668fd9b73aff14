import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import { storable } from '../text/storable-text.js';
import { PaymentProviderError, WebhookSignatureError } from '../billing/billing.errors.js';
import type { CreatedCheckoutSession, CreateCheckoutSessionInput, PaymentGateway, StripeEventEnvelope } from '../billing/ports.js';

export interface StripeGatewayOptions {
  secretKey: string;
  /** Endpoint signing secret (`whsec_…`); without it `verifyWebhook` rejects everything. */
  webhookSecret?: string | undefined;
  /** STRIPE_API_BASE, e.g. `http://127.0.0.1:12111` for a local fake or proxy; default Stripe's API. */
  apiBase?: string | undefined;
  /** How old a signed delivery may be, in seconds (replay protection). Default 300. */
  toleranceSeconds?: number;
  /** Retries of failed requests, with idempotency keys so none is applied twice. Default 2. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** host/port/protocol for the Stripe SDK from a base URL; Stripe's client has no base-path option. */
export function stripeHostOptions(apiBase: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`STRIPE_API_BASE must be http(s), got ${url.protocol}`);
  if (url.pathname !== '/' && url.pathname !== '') throw new TypeError('STRIPE_API_BASE must not have a path: the Stripe client always requests /v1/…');
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    protocol,
  };
}

// The SDK is some 550 modules: it is loaded when a gateway is made (STRIPE_SECRET_KEY is set), not by
// every platform at start-up. Loaded synchronously, as `verifyWebhook` is.
const loadStripe = (): typeof Stripe => createRequire(import.meta.url)('stripe') as typeof Stripe;

function asProviderError(sdk: typeof Stripe, err: unknown, action: string): unknown {
  const { errors } = sdk;
  if (!(err instanceof errors.StripeError)) return err;
  const details = { type: err.type, ...(err.code ? { code: err.code } : {}), ...(err.requestId ? { requestId: err.requestId } : {}) };
  if (err instanceof errors.StripeAuthenticationError || err instanceof errors.StripePermissionError) {
    return new PaymentProviderError(`Stripe rejected our API key while trying to ${action}; check STRIPE_SECRET_KEY.`, false, details);
  }
  if (err instanceof errors.StripeInvalidRequestError || err instanceof errors.StripeCardError) {
    return new PaymentProviderError(`Stripe refused to ${action}: ${err.message}`, false, details);
  }
  // Connection failures, rate limits, 5xx: worth trying again later.
  return new PaymentProviderError(`Stripe is unavailable; could not ${action}.`, true, details);
}

/** PaymentGateway over the official Stripe SDK. */
export class StripeGateway implements PaymentGateway {
  private readonly sdk = loadStripe();
  private readonly stripe: Stripe;
  private readonly tolerance: number;

  constructor(private readonly options: StripeGatewayOptions) {
    this.stripe = new this.sdk(options.secretKey, {
      ...(options.apiBase ? stripeHostOptions(options.apiBase) : {}),
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: options.timeoutMs ?? 30_000,
      telemetry: false,
      appInfo: { name: 'coachbot' },
    });
    this.tolerance = options.toleranceSeconds ?? 300;
  }

  async createCheckoutSession(input: CreateCheckoutSessionInput): Promise<CreatedCheckoutSession> {
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: input.mode,
      line_items: [{ price: input.priceId, quantity: input.quantity ?? 1 }],
      client_reference_id: input.clientReferenceId,
      metadata: input.metadata,
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
      ...(input.customerId ? { customer: input.customerId } : input.customerEmail ? { customer_email: input.customerEmail } : {}),
      // The metadata travels onto the object Checkout creates, so its own events name the payer too.
      ...(input.mode === 'subscription' ? { subscription_data: { metadata: input.metadata } } : { payment_intent_data: { metadata: input.metadata } }),
    };
    try {
      const session = await this.stripe.checkout.sessions.create(params, input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : undefined);
      if (!session.url) throw new PaymentProviderError('Stripe created a checkout session without a URL.', false, { sessionId: session.id });
      return { id: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
    } catch (err) {
      throw asProviderError(this.sdk, err, 'start a checkout');
    }
  }

  async createPortalSession(input: { customerId: string; returnUrl: string }): Promise<{ url: string }> {
    try {
      const session = await this.stripe.billingPortal.sessions.create({ customer: input.customerId, return_url: input.returnUrl });
      return { url: session.url };
    } catch (err) {
      throw asProviderError(this.sdk, err, 'open the billing portal');
    }
  }

  async retrieveSubscription(subscriptionId: string): Promise<Record<string, unknown>> {
    try {
      return (await this.stripe.subscriptions.retrieve(subscriptionId)) as unknown as Record<string, unknown>;
    } catch (err) {
      throw asProviderError(this.sdk, err, 'read a subscription');
    }
  }

  verifyWebhook(rawBody: Buffer | string, signatureHeader: string | undefined): StripeEventEnvelope {
    if (!signatureHeader) throw new WebhookSignatureError('missing_header', 'The Stripe-Signature header is missing.');
    if (!this.options.webhookSecret) throw new WebhookSignatureError('bad_signature', 'No webhook signing secret is configured (STRIPE_WEBHOOK_SECRET).');
    try {
      const event = this.stripe.webhooks.constructEvent(rawBody, signatureHeader, this.options.webhookSecret, this.tolerance);
      // Names and addresses customers typed may hold a NUL or half a surrogate pair: stored cleaned,
      // rather than refused by the database on every one of Stripe's redeliveries.
      return storable(event) as unknown as StripeEventEnvelope;
    } catch (err) {
      if (err instanceof this.sdk.errors.StripeSignatureVerificationError) {
        if (/tolerance/i.test(err.message)) {
          throw new WebhookSignatureError('stale_timestamp', `The Stripe signature is older than ${this.tolerance} seconds.`);
        }
        throw new WebhookSignatureError('bad_signature', 'The Stripe signature does not match the payload.');
      }
      // A correctly signed body that is not JSON: still not an event we can use.
      if (err instanceof SyntaxError) throw new WebhookSignatureError('bad_signature', 'The signed Stripe payload is not JSON.');
      throw err;
    }
  }
}
