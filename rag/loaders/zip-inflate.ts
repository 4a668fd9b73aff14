import { inflateRawSync } from 'node:zlib';

/** A ZIP entry as its central directory describes it. */
interface Entry {
  name: string;
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

/** The bytes are not a ZIP archive this reader can follow. */
export class DamagedArchiveError extends Error {
  constructor() {
    super('The archive is damaged');
    this.name = 'DamagedArchiveError';
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

/**
 * Inflates every entry of a ZIP archive against a budget of `maxBytes` in all, refusing at the
 * declared sizes first and then at the bytes really produced (declared sizes can lie), so a zip
 * bomb costs at most `maxBytes` of memory and the time to inflate them. Returns the entries named
 * in `keep` (or accepted by it), inflated; throws `tooLarge()` past the budget and DamagedArchiveError
 * for a broken archive.
 */
export function inflateWithin(
  bytes: Uint8Array,
  maxBytes: number,
  tooLarge: () => Error,
  keep: readonly string[] | ((name: string) => boolean) = [],
): Map<string, Buffer> {
  const kept = new Map<string, Buffer>();
  const wanted = typeof keep === 'function' ? keep : (name: string) => keep.includes(name);
  const zip = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const list = entries(zip);
  // ZIP64 entries say 0xFFFFFFFF here: far past any budget this runs with.
  if (list.reduce((sum, e) => sum + e.declaredSize, 0) > maxBytes) throw tooLarge();
  let remaining = maxBytes;
  for (const entry of list) {
    let data: Buffer;
    if (entry.method === STORED) {
      data = compressedData(zip, entry);
    } else if (entry.method === DEFLATED) {
      try {
        // maxOutputLength stops the inflater itself one byte past the budget.
        data = inflateRawSync(compressedData(zip, entry), { maxOutputLength: remaining + 1 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
        if (err instanceof DamagedArchiveError) throw err;
        throw damaged();
      }
    } else {
      continue; // no reader inflates other methods; they fail there as unreadable
    }
    if (data.length > remaining) throw tooLarge();
    remaining -= data.length;
    if (wanted(entry.name)) kept.set(entry.name, data);
  }
  return kept;
}
