import { describe, expect, it } from 'vitest';
import { hasUnstorableText, storable } from '../../src/text/storable-text.js';

describe('storable', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps every other character', () => {
    expect(storable('a\u0000b')).toBe('a\uFFFDb');
    expect(storable('x\uD800')).toBe('x\uFFFD');
    expect(storable('\uDC00x')).toBe('\uFFFDx');
    expect(storable('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    // A real pair (an emoji), accents and other control characters are left alone.
    expect(storable('ok 😀 é \t\u0001')).toBe('ok 😀 é \t\u0001');
  });

  it('cleans every string of a message, keys included, and keeps dates and numbers', () => {
    const sentAt = new Date('2026-01-01T00:00:00Z');
    const cleaned = storable({ text: 'a\u0000', contact: { displayName: '\uD83D' }, attachments: [{ fileName: 'f\u0000', sizeBytes: 3 }], 'k\u0000': 1, sentAt });
    expect(cleaned).toEqual({ text: 'a\uFFFD', contact: { displayName: '\uFFFD' }, attachments: [{ fileName: 'f\uFFFD', sizeBytes: 3 }], 'k\uFFFD': 1, sentAt });
    expect(cleaned.sentAt).toBe(sentAt);
  });

  it('says whether a text needs cleaning', () => {
    expect(hasUnstorableText('fine 😀')).toBe(false);
    expect(hasUnstorableText('a\u0000')).toBe(true);
    expect(hasUnstorableText('\uDFFF')).toBe(true);
  });
});
