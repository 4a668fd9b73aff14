import { AppError } from '../errors/app.errors.js';

export type WebhookSignatureProblem = 'missing_header' | 'bad_signature' | 'stale_timestamp';

/** A payment webhook failed verification: not from the provider, altered, or replayed late. Answer 400. */
export class WebhookSignatureError extends AppError {
  constructor(
    readonly problem: WebhookSignatureProblem,
    message: string,
  ) {
    super('INVALID_SIGNATURE', 400, message, { problem });
    this.name = 'WebhookSignatureError';
  }
}

/** The payment provider refused or failed a request. `retryable` says whether trying later may help. */
export class PaymentProviderError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super(retryable ? 'PAYMENT_PROVIDER_UNAVAILABLE' : 'PAYMENT_PROVIDER_ERROR', retryable ? 503 : 502, message, details);
    this.name = 'PaymentProviderError';
  }
}

/** Payments are not set up on this installation (no Stripe keys); only the free plan exists. */
export class BillingDisabledError extends AppError {
  constructor() {
    super('BILLING_DISABLED', 409, 'Payments are not configured on this installation; only the free plan is available.');
    this.name = 'BillingDisabledError';
  }
}

/** The plan cannot be bought: it is the free plan, or no Stripe price is configured for it. */
export class PlanNotPurchasableError extends AppError {
  constructor(message: string, planId: string) {
    super('PLAN_NOT_PURCHASABLE', 409, message, { plan: planId });
    this.name = 'PlanNotPurchasableError';
  }
}

/** A second subscription would bill the creator twice; plan changes go through the billing portal. */
export class SubscriptionExistsError extends AppError {
  constructor(planName: string, status: string) {
    super(
      'SUBSCRIPTION_EXISTS',
      409,
      `You already have a ${planName} subscription (${status}). Change or cancel it in the billing portal (POST /v1/billing/portal).`,
      { plan: planName, status },
    );
    this.name = 'SubscriptionExistsError';
  }
}

/** The creator has no Stripe customer yet, so there is no billing portal to open. */
export class NoBillingAccountError extends AppError {
  constructor() {
    super('NO_BILLING_ACCOUNT', 409, 'There is no billing account yet: subscribe to a plan first (POST /v1/billing/checkout).');
    this.name = 'NoBillingAccountError';
  }
}
