/**
 * What the platform needs to send email, and the shape of delivery feedback. Adapters:
 * SendGrid (production), outbox (development: stored and logged, nothing sent).
 */

/** Every kind of email we send; also the SendGrid category, so feedback maps back to it. */
export const emailCategories = [
  'verify-email',
  'password-reset',
  'document-ingestion-failed',
  'payment-failed',
  'subscription-ended',
  'weekly-digest',
  'human-requested',
] as const;

export type EmailCategory = (typeof emailCategories)[number];

export interface EmailAddress {
  email: string;
  name?: string;
}

export interface OutgoingEmail {
  to: string | EmailAddress;
  subject: string;
  text: string;
  html: string;
  category: EmailCategory;
  /**
   * Names this email's effect (e.g. `payment-failed:in_123`): a retried job sends it once. The
   * outbox dedupes on it; SendGrid has no idempotency, so it travels as a custom argument and
   * comes back on delivery events.
   */
  idempotencyKey: string;
  /** One-click unsubscribe target for non-transactional mail (List-Unsubscribe). */
  unsubscribeUrl?: string;
}

export interface SendResult {
  /** The provider's message id (SendGrid `X-Message-Id`), to match delivery events; null when none. */
  providerMessageId: string | null;
}

/** One swappable email back end. */
export interface Mailer {
  /** Sends or stores the email; throws MailDeliveryError (with `retryable`) when it could not. */
  send(message: OutgoingEmail): Promise<SendResult>;
}

/** An email as the development outbox keeps it. */
export interface OutboxEntry extends Omit<OutgoingEmail, 'to'> {
  to: EmailAddress;
  from: EmailAddress;
  createdAt: Date;
}

/** Where the outbox mailer writes (a table later; memory for now). */
export interface OutboxStore {
  /** Stores the entry unless one with its idempotency key exists; says which happened. */
  append(entry: OutboxEntry): Promise<{ inserted: boolean }>;
}

export type EmailEventType =
  | 'processed'
  | 'delivered'
  | 'deferred'
  | 'bounce'
  | 'blocked'
  | 'dropped'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe'
  | 'group_resubscribe'
  | 'open'
  | 'click'
  | 'other';

/** One delivery or engagement event reported by the email provider, provider-neutral. */
export interface EmailEvent {
  /** The provider's event id (dedupe key); null if it sent none. */
  id: string | null;
  type: EmailEventType;
  /** The event name as the provider spelled it. */
  providerType: string;
  email: string;
  /** Unix seconds. */
  timestamp: number;
  providerMessageId: string | null;
  categories: string[];
  /** Bounce or drop reason as reported. */
  reason: string | null;
  /** Our OutgoingEmail.idempotencyKey, when the message carried it. */
  idempotencyKey: string | null;
  /** Unsubscribe group, for group (un)subscribe events. */
  groupId: number | null;
}
