import { AppError } from '../errors/app.errors.js';

/** An email could not be handed to the provider. `retryable`: rate limits, 5xx, network; not bad requests or keys. */
export class MailDeliveryError extends AppError {
  constructor(
    message: string,
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super('EMAIL_DELIVERY_FAILED', 502, message, details);
    this.name = 'MailDeliveryError';
  }
}

export type EmailWebhookProblem = 'missing_header' | 'bad_signature' | 'stale_timestamp' | 'not_configured';

/** An email-provider webhook failed verification. Answer 400 (or 403). */
export class EmailWebhookSignatureError extends AppError {
  constructor(
    readonly problem: EmailWebhookProblem,
    message: string,
  ) {
    super('INVALID_SIGNATURE', 400, message, { problem });
    this.name = 'EmailWebhookSignatureError';
  }
}
