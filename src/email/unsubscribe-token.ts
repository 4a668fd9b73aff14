import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EmailCategory } from './ports.js';

/**
 * Signed, stateless unsubscribe tokens for the links and List-Unsubscribe headers of
 * non-transactional mail: `<creator id>.<category>.<HMAC>`. Nothing is stored, and a token only
 * ever unsubscribes the person it was made for from the one category.
 */
export class UnsubscribeTokens {
  private readonly key: Buffer;

  /** `secret`: an installation secret (e.g. JWT_SECRET); a separate key is derived from it. */
  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('email-unsubscribe-v1').digest();
  }

  /** The token for one creator and category. */
  create(creatorId: string, category: EmailCategory): string {
    return `${creatorId}.${category}.${this.mac(creatorId, category)}`;
  }

  /** The creator and category a token names, or null when it was not made here. */
  read(token: string): { creatorId: string; category: EmailCategory } | null {
    const [creatorId, category, mac, ...rest] = token.split('.');
    if (!creatorId || !category || !mac || rest.length) return null;
    const expected = Buffer.from(this.mac(creatorId, category));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { creatorId, category: category as EmailCategory };
  }

  private mac(creatorId: string, category: string): string {
    return createHmac('sha256', this.key).update(`${creatorId}\u0000${category}`).digest('base64url');
  }
}
