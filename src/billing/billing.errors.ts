import { AppError } from '../errors.js';

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
