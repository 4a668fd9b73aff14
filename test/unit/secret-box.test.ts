import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from '../../src/security/secret-box.js';

const key = randomBytes(32).toString('hex');
const credentials = { token: '123456:AAE-secret-token', nested: { list: [1, 2, 3], note: 'ünïcødé ✓' } };

// Flips one character of the base64url part at `index` (1 = iv, 2 = tag, 3 = ciphertext).
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const part = parts[index]!;
  parts[index] = (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
  return parts.join('.');
}

describe('SecretBox', () => {
  it('round-trips JSON values and never shows the plaintext in the sealed string', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(credentials, 'bot-1');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('secret-token');
    expect(box.open(sealed, 'bot-1')).toEqual(credentials);
  });

  it('uses a fresh IV each time, so equal secrets do not look equal at rest', () => {
    const box = new SecretBox(key);
    expect(box.seal(credentials)).not.toBe(box.seal(credentials));
  });

  it('rejects altered IV, tag or ciphertext', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(credentials);
    for (const index of [1, 2, 3]) {
      expect(() => box.open(tamper(sealed, index))).toThrow(SecretBoxError);
    }
    expect(() => box.open(sealed.replace(/^v1\./, 'v9.'))).toThrow(SecretBoxError);
    expect(() => box.open('not a sealed value')).toThrow(SecretBoxError);
  });

  it('cannot be opened with another key or in another context', () => {
    const sealed = new SecretBox(key).seal(credentials, 'bot-1:telegram');
    expect(() => new SecretBox(randomBytes(32).toString('hex')).open(sealed, 'bot-1:telegram')).toThrow(SecretBoxError);
    expect(() => new SecretBox(key).open(sealed, 'bot-2:telegram')).toThrow(SecretBoxError);
  });

  it('refuses a key that is not 32 bytes of hex', () => {
    expect(() => new SecretBox('abcd')).toThrow(/64 hex characters/);
  });
});
