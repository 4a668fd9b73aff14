import { inflateRawSync } from 'node:zlib';

/** A ZIP entry as its central directory describes it. */
interface Entry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  declaredSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
// General-purpose flag bit 0: the entry's data is encrypted (a password-protected archive).
const ENCRYPTED_FLAG = 0x1;

/** The bytes are not a ZIP archive this reader can follow. */
export class DamagedArchiveError extends Error {
  constructor() {
    super('The archive is damaged');
    this.name = 'DamagedArchiveError';
  }
}

/** An entry that has to be read is encrypted: the archive is password-protected. */
export class EncryptedArchiveError extends Error {
  constructor() {
    super('The archive is password-protected');
    this.name = 'EncryptedArchiveError';
  }
}

const damaged = () => new DamagedArchiveError();

function entries(zip: Buffer): Entry[] {
  // The end record sits in the last 22 bytes plus a comment of at most 64 KiB.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw damaged();
  const total = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const list: Entry[] = [];
  for (let i = 0; i < total; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw damaged();
    const nameLength = zip.readUInt16LE(at + 28);
    list.push({
      flags: zip.readUInt16LE(at + 8),
      method: zip.readUInt16LE(at + 10),
      compressedSize: zip.readUInt32LE(at + 20),
      declaredSize: zip.readUInt32LE(at + 24),
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return list;
}

function compressedData(zip: Buffer, entry: Entry): Buffer {
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL_SIGNATURE) throw damaged();
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  if (start + entry.compressedSize > zip.length) throw damaged();
  return zip.subarray(start, start + entry.compressedSize);
}

function inflateEntry(zip: Buffer, entry: Entry, remaining: number, tooLarge: () => Error): Buffer | undefined {
  if (entry.method === STORED) return compressedData(zip, entry);
  if (entry.method !== DEFLATED) return undefined; // no reader inflates other methods; they fail there as unreadable
  try {
    // maxOutputLength stops the inflater itself one byte past the budget.
    return inflateRawSync(compressedData(zip, entry), { maxOutputLength: remaining + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    if (err instanceof DamagedArchiveError) throw err;
    throw damaged();
  }
}

/** Inflates `list` in order against one budget; returns the entries `keep` accepts. */
function inflateList(zip: Buffer, list: Entry[], maxBytes: number, tooLarge: () => Error, keep: (name: string) => boolean): Map<string, Buffer> {
  // ZIP64 entries say 0xFFFFFFFF here: far past any budget this runs with.
  if (list.reduce((sum, e) => sum + e.declaredSize, 0) > maxBytes) throw tooLarge();
  const kept = new Map<string, Buffer>();
  let remaining = maxBytes;
  for (const entry of list) {
    if (entry.flags & ENCRYPTED_FLAG) {
      // Encrypted data inflates to noise; what needs it is refused, the rest is never read by anyone.
      if (keep(entry.name)) throw new EncryptedArchiveError();
      continue;
    }
    const data = inflateEntry(zip, entry, remaining, tooLarge);
    if (!data) continue;
    if (data.length > remaining) throw tooLarge();
    remaining -= data.length;
    if (keep(entry.name)) kept.set(entry.name, data);
  }
  return kept;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The entry names of a ZIP's central directory (nothing inflated), or undefined when it cannot be read. */
export function entryNames(bytes: Uint8Array): string[] | undefined {
  try {
    return entries(asBuffer(bytes)).map((e) => e.name);
  } catch {
    return undefined;
  }
}

/**
 * Inflates every entry of a ZIP archive against a budget of `maxBytes` in all, refusing at the
 * declared sizes first and then at the bytes really produced (declared sizes can lie), so a zip
 * bomb costs at most `maxBytes` of memory and the time to inflate them. Returns the entries named
 * in `keep` (or accepted by it), inflated; throws `tooLarge()` past the budget, DamagedArchiveError for a broken
 * archive and EncryptedArchiveError when an entry in `keep` is encrypted.
 */
export function inflateWithin(
  bytes: Uint8Array,
  maxBytes: number,
  tooLarge: () => Error,
  keep: readonly string[] | ((name: string) => boolean) = [],
): Map<string, Buffer> {
  const zip = asBuffer(bytes);
  return inflateList(zip, entries(zip), maxBytes, tooLarge, typeof keep === 'function' ? keep : (name) => keep.includes(name));
}

/**
 * Inflates only the entries whose name `wanted` accepts, under the same budget and checks as
 * `inflateWithin`: for readers that need nothing else from the archive (images in a deck or an
 * e-book are never inflated).
 */
export function inflateWanted(bytes: Uint8Array, maxBytes: number, tooLarge: () => Error, wanted: (name: string) => boolean): Map<string, Buffer> {
  const zip = asBuffer(bytes);
  return inflateList(zip, entries(zip).filter((e) => wanted(e.name)), maxBytes, tooLarge, () => true);
}
