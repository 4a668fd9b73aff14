import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The header Meta sets on every webhook delivery: `sha256=<hex HMAC of the raw body keyed by the app secret>`. */
export const WHATSAPP_SIGNATURE_HEADER = 'x-hub-signature-256';

const signaturePattern = /^sha256=([0-9a-f]{64})$/i;

/**
 * True when `header` is the HMAC-SHA256 of exactly these bytes under `appSecret`; constant-time, false
 * when missing or malformed. Always pass the bytes as received: re-serialised JSON has other bytes.
 */
export function verifyWhatsAppSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || appSecret.length === 0) return false;
  const match = signaturePattern.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return timingSafeEqual(given, expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sameSecret(given: string, expected: string): boolean {
  // Equal-length digests keep timingSafeEqual usable and hide the secret's length.
  return expected.length > 0 && timingSafeEqual(digest(given), digest(expected));
}

/** The query of Meta's subscription handshake, `GET /webhooks/whatsapp?hub.mode=…`, as a router parses it. */
export type SubscriptionQuery = Record<string, unknown>;

/**
 * Answers Meta's webhook subscription handshake: the challenge to echo back (as text/plain) when the
 * mode is `subscribe` and the verify token matches one of ours, otherwise null (answer 403).
 */
export function verifySubscription(query: SubscriptionQuery, verifyToken: string | readonly string[]): string | null {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge.length === 0) return null;
  const candidates = typeof verifyToken === 'string' ? [verifyToken] : verifyToken;
  // Compare against every candidate so the time taken does not reveal which one matched.
  let matched = false;
  for (const candidate of candidates) matched = sameSecret(token, candidate) || matched;
  return matched ? challenge : null;
}
