import { ValidationError } from '../errors/app.errors.js';
import type { InboxPosition, TranscriptPosition } from './inbox.ports.js';

// Cursors are opaque to clients: a versioned JSON tuple, base64url-encoded.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MICROS = /^-?\d{1,18}$/;
const SEQ = /^\d{1,19}$/;

function encode(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

const invalid = () => new ValidationError('before: not a cursor of this list; pass the nextCursor of the previous page', { field: 'before' });

function decode(cursor: string, kind: string, length: number): string[] {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw invalid();
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parts) || parts.length !== length || parts[0] !== kind || !parts.every((p) => typeof p === 'string')) throw invalid();
  return parts as string[];
}

/** The opaque `nextCursor` for an inbox position. */
export function encodeInboxCursor(position: InboxPosition): string {
  return encode(['c1', position.asOfMicros, position.atMicros, position.id]);
}

/** Reads an inbox cursor; ValidationError (400) for anything that is not one. */
export function decodeInboxCursor(cursor: string): InboxPosition {
  const [, asOfMicros, atMicros, id] = decode(cursor, 'c1', 4) as [string, string, string, string];
  if (!MICROS.test(asOfMicros) || !MICROS.test(atMicros) || !UUID.test(id)) throw invalid();
  return { asOfMicros, atMicros, id };
}

/** The opaque `nextCursor` for a transcript position. */
export function encodeTranscriptCursor(position: TranscriptPosition): string {
  return encode(['m1', position.source, position.atMicros, position.source === 'user' ? position.seq : position.id]);
}

/** Reads a transcript cursor; ValidationError (400) for anything that is not one. */
export function decodeTranscriptCursor(cursor: string): TranscriptPosition {
  const [, source, atMicros, key] = decode(cursor, 'm1', 4) as [string, string, string, string];
  if (MICROS.test(atMicros)) {
    if (source === 'user' && SEQ.test(key)) return { source, atMicros, seq: key };
    if ((source === 'bot' || source === 'event') && UUID.test(key)) return { source, atMicros, id: key };
  }
  throw invalid();
}
