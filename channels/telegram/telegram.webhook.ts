import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header Telegram sets on every webhook call to the secret_token given to setWebhook. */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** True when the webhook's secret-token header matches ours; constant-time, false when missing or repeated. */
export function verifyTelegramSecret(headerValue: string | string[] | undefined, expected: string): boolean {
  if (typeof headerValue !== 'string' || headerValue.length === 0 || expected.length === 0) return false;
  // Equal-length digests keep timingSafeEqual usable and hide the secret's length.
  return timingSafeEqual(digest(headerValue), digest(expected));
}

/** A fresh secret_token for setWebhook: 43 characters of A-Za-z0-9_- (Telegram allows 1–256). */
export function generateWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}
