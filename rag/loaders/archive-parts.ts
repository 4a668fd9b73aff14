import { DocumentLoadError } from '../types.js';
import { expandsTooMuch, type LoadLimits } from './load-limits.js';
import { DamagedArchiveError, EncryptedArchiveError, inflateWanted } from './zip-inflate.js';

/**
 * The parts of a ZIP-based document that `wanted` accepts, inflated within the unpacked-size limit.
 * `kind` names the document in the reasons given for a damaged or password-protected archive
 * ("The e-book", "The presentation").
 */
export function archiveParts(bytes: Uint8Array, limits: LoadLimits, wanted: (name: string) => boolean, kind: string): Map<string, Buffer> {
  try {
    return inflateWanted(bytes, limits.maxDecompressedBytes, () => expandsTooMuch(limits), wanted);
  } catch (err) {
    if (err instanceof DamagedArchiveError) throw new DocumentLoadError(`${kind} could not be read (it may be damaged)`);
    if (err instanceof EncryptedArchiveError) throw new DocumentLoadError(`${kind} is password-protected; remove the password and upload it again`);
    throw err;
  }
}

/** `ppt/slides/../notesSlides/a.xml` → `ppt/notesSlides/a.xml`; `target` is relative to the folder of `from`, unless it starts with `/`. */
export function resolvePart(from: string, target: string): string {
  const decoded = safeDecode(target.split('#')[0] ?? '');
  const base = decoded.startsWith('/') ? [] : from.split('/').slice(0, -1);
  for (const segment of decoded.split('/')) {
    if (segment === '..') base.pop();
    else if (segment !== '.' && segment !== '') base.push(segment);
  }
  return base.join('/');
}

function safeDecode(uri: string): string {
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}
