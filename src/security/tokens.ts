import { createHash, randomBytes } from 'node:crypto';

/** A URL-safe random string carrying `bytes` bytes of entropy (default 32). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 of a high-entropy token, hex encoded. Such tokens need no slow hash or salt: the hash only
 * keeps a database leak from handing out working credentials.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
