import { BillingDisabledError, WebhookSignatureError } from '../billing/billing.errors.js';
import type { CreatedCheckoutSession, CreateCheckoutSessionInput, PaymentGateway, StripeEventEnvelope } from '../billing/ports.js';

/** The gateway of an installation without Stripe keys: the free plan works, anything paid says why not. */
export class DisabledPaymentGateway implements PaymentGateway {
  async createCheckoutSession(_input: CreateCheckoutSessionInput): Promise<CreatedCheckoutSession> {
    throw new BillingDisabledError();
  }

  async createPortalSession(_input: { customerId: string; returnUrl: string }): Promise<{ url: string }> {
    throw new BillingDisabledError();
  }

  async retrieveSubscription(_subscriptionId: string): Promise<Record<string, unknown>> {
    throw new BillingDisabledError();
  }

  verifyWebhook(_rawBody: Buffer | string, _signatureHeader: string | undefined): StripeEventEnvelope {
    throw new WebhookSignatureError('bad_signature', 'Payments are not configured on this installation.');
  }
}
