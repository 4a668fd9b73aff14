/**
 * What billing needs from a payment provider. The Stripe adapter lives in src/payments; billing
 * itself never sees the SDK.
 */
import type { StripeEventEnvelope } from './stripe-objects.js';

export type { StripeEventEnvelope } from './stripe-objects.js';

export interface CreateCheckoutSessionInput {
  /** `subscription` for plans and recurring unlocks; `payment` for one-time unlocks. */
  mode: 'payment' | 'subscription';
  priceId: string;
  quantity?: number;
  /** Reuse the payer's existing customer so they keep one billing history; otherwise Checkout makes one. */
  customerId?: string;
  /** Prefills the email field when there is no customer yet. Ignored when `customerId` is set. */
  customerEmail?: string;
  /** Ties the session back to the payer; see billing-reference.ts. */
  clientReferenceId: string;
  /** Copied onto the session and onto the Subscription or PaymentIntent it creates. */
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
  /** The same key returns the same session instead of a second one (double clicks, retries). */
  idempotencyKey?: string;
}

export interface CheckoutSessionRef {
  id: string;
  /** Where to send the payer. */
  url: string;
}

/** One swappable payment back end. Implementations: Stripe (src/payments), disabled. */
export interface PaymentGateway {
  /** Starts a hosted checkout. */
  createCheckoutSession(input: CreateCheckoutSessionInput): Promise<CheckoutSessionRef>;
  /** A link to the provider's self-service page (cards, invoices, cancellation). */
  createPortalSession(input: { customerId: string; returnUrl: string }): Promise<{ url: string }>;
  /** The provider's current Subscription object, for `applySubscriptionObject`. */
  retrieveSubscription(subscriptionId: string): Promise<Record<string, unknown>>;
  /**
   * Checks a webhook delivery against its signature header over the exact received bytes and
   * returns the event; throws WebhookSignatureError when missing, wrong or too old.
   */
  verifyWebhook(rawBody: Buffer | string, signatureHeader: string | undefined): StripeEventEnvelope;
}
