import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { EmailWebhookSignatureError } from '../email.errors.js';
import type { EmailEvent, EmailEventType } from '../ports.js';
import { IDEMPOTENCY_ARG } from './sendgrid.mailer.js';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * The Signed Event Webhook verification key as SendGrid shows it (base64 of the DER
 * SubjectPublicKeyInfo of a P-256 key), or the same in PEM.
 */
export function sendGridPublicKey(key: string): KeyObject {
  const trimmed = key.trim();
  const publicKey = trimmed.includes('BEGIN PUBLIC KEY')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  if (publicKey.asymmetricKeyType !== 'ec') throw new TypeError('SENDGRID_WEBHOOK_PUBLIC_KEY must be an ECDSA (P-256) public key');
  return publicKey;
}

export interface SendGridWebhookVerifierOptions {
  /** SENDGRID_WEBHOOK_PUBLIC_KEY. */
  publicKey: string;
  /** Oldest accepted timestamp, in seconds; 0 disables the check. Default 600. */
  toleranceSeconds?: number;
  /** Clock, in milliseconds (tests). */
  now?: () => number;
}

/** Verifies SendGrid Signed Event Webhook deliveries: ECDSA-SHA256 over timestamp + raw body. */
export class SendGridWebhookVerifier {
  private readonly key: KeyObject;
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(options: SendGridWebhookVerifierOptions) {
    this.key = sendGridPublicKey(options.publicKey);
    this.tolerance = options.toleranceSeconds ?? 600;
    this.now = options.now ?? Date.now;
  }

  /**
   * Throws EmailWebhookSignatureError unless `signature` (base64 DER ECDSA) signs `timestamp`
   * followed by exactly these bytes and the timestamp is recent. Pass the body as received.
   */
  verify(rawBody: Buffer | string, signature: string | undefined, timestamp: string | undefined): void {
    if (!signature || !timestamp) throw new EmailWebhookSignatureError('missing_header', 'The SendGrid signature or timestamp header is missing.');
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), body]);
    let valid = false;
    try {
      valid = verify('sha256', signed, this.key, Buffer.from(signature, 'base64'));
    } catch {
      valid = false; // malformed DER signature
    }
    if (!valid) throw new EmailWebhookSignatureError('bad_signature', 'The SendGrid signature does not match the payload.');
    const seconds = Number(timestamp);
    if (this.tolerance > 0 && (!Number.isFinite(seconds) || Math.abs(this.now() / 1000 - seconds) > this.tolerance)) {
      throw new EmailWebhookSignatureError('stale_timestamp', `The SendGrid signature is older than ${this.tolerance} seconds.`);
    }
  }
}

const rawEventSchema = z.looseObject({
  email: z.string(),
  event: z.string(),
  timestamp: z.coerce.number(),
  sg_event_id: z.string().nullish(),
  sg_message_id: z.string().nullish(),
  category: z.union([z.string(), z.array(z.string())]).nullish(),
  reason: z.string().nullish(),
  type: z.string().nullish(),
  asm_group_id: z.coerce.number().nullish(),
});

const knownTypes: readonly EmailEventType[] = [
  'processed',
  'delivered',
  'deferred',
  'bounce',
  'dropped',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
  'open',
  'click',
];

/**
 * Parses an Event Webhook body (a JSON array of events) into provider-neutral events. Entries
 * that are not events are skipped rather than failing the batch, so SendGrid does not redeliver
 * the good ones forever. Throws SyntaxError when the body is not JSON.
 */
export function parseSendGridEvents(rawBody: Buffer | string): EmailEvent[] {
  const parsed: unknown = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const events: EmailEvent[] = [];
  for (const item of items) {
    const result = rawEventSchema.safeParse(item);
    if (!result.success) continue;
    const e = result.data;
    // SendGrid reports temporary rejections as `bounce` with type `blocked`; they are not bounces.
    const type: EmailEventType =
      e.event === 'bounce' && e.type === 'blocked' ? 'blocked' : knownTypes.includes(e.event as EmailEventType) ? (e.event as EmailEventType) : 'other';
    const key = (item as Record<string, unknown>)[IDEMPOTENCY_ARG];
    events.push({
      id: e.sg_event_id ?? null,
      type,
      providerType: e.event,
      email: e.email,
      timestamp: e.timestamp,
      // Events carry `<id>.filter…` forms of the X-Message-Id we got on sending.
      providerMessageId: e.sg_message_id ? e.sg_message_id.split('.')[0]! : null,
      categories: e.category == null ? [] : Array.isArray(e.category) ? e.category : [e.category],
      reason: e.reason ?? null,
      idempotencyKey: typeof key === 'string' ? key : null,
      groupId: e.asm_group_id ?? null,
    });
  }
  return events;
}
