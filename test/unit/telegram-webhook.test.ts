import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, verifyTelegramSecret } from '../../channels/telegram/telegram.webhook.js';

describe('Telegram webhook secret', () => {
  it('accepts exactly the secret we registered', () => {
    const secret = generateWebhookSecret();
    expect(verifyTelegramSecret(secret, secret)).toBe(true);
  });

  it('rejects a missing, empty, different, longer or shorter header', () => {
    const secret = generateWebhookSecret();
    expect(verifyTelegramSecret(undefined, secret)).toBe(false);
    expect(verifyTelegramSecret('', secret)).toBe(false);
    expect(verifyTelegramSecret([secret, secret], secret)).toBe(false);
    expect(verifyTelegramSecret(generateWebhookSecret(), secret)).toBe(false);
    expect(verifyTelegramSecret(`${secret}x`, secret)).toBe(false);
    expect(verifyTelegramSecret(secret.slice(0, -1), secret)).toBe(false);
    expect(verifyTelegramSecret(secret.toUpperCase() === secret ? secret.toLowerCase() : secret.toUpperCase(), secret)).toBe(false);
  });

  it('never matches when no secret is configured', () => {
    expect(verifyTelegramSecret('', '')).toBe(false);
    expect(verifyTelegramSecret('anything', '')).toBe(false);
  });

  it('generates secrets Telegram accepts (1–256 of A-Za-z0-9_-), different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateWebhookSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
  });
});
