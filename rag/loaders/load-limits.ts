import { DocumentLoadError } from '../types.js';

/** How much one source may make a loader do; past any of them it fails with a reason the creator can act on. */
export interface LoadLimits {
  /** PDF pages read; also the most slides, e-book chapters or exported files one source may hold. */
  maxPages: number;
  /** Paragraphs of a Word document (each one costs mammoth several objects). */
  maxParagraphs: number;
  /** Characters of extracted text: what splitting, embedding and storage then work through. */
  maxTextChars: number;
  /** Bytes an archive (.docx, .pptx, .epub, .zip) may inflate to. */
  maxDecompressedBytes: number;
}

/** Generous enough for books and long manuals; the platform's configuration overrides them. */
export const DEFAULT_LOAD_LIMITS: LoadLimits = {
  maxPages: 2_000,
  maxParagraphs: 50_000,
  maxTextChars: 5_000_000,
  maxDecompressedBytes: 100 * 1024 * 1024,
};

const count = (n: number) => n.toLocaleString('en-US');

/** Throws once `chars` characters of text exceed the limit. */
export function assertTextWithin(chars: number, limits: LoadLimits): void {
  if (chars > limits.maxTextChars) {
    throw new DocumentLoadError(`The document holds more than ${count(limits.maxTextChars)} characters of text; split it into smaller files`);
  }
}

/** The reason for an archive that inflates past the limit. */
export function expandsTooMuch(limits: LoadLimits): DocumentLoadError {
  return new DocumentLoadError(`The document expands to more than ${Math.floor(limits.maxDecompressedBytes / (1024 * 1024))} MB when unpacked`);
}

/** True for V8's stack overflow, which deeply nested markup causes in recursive readers. */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}

/** The reason given when markup is nested deeper than a reader can follow. */
export const NESTED_TOO_DEEPLY = 'The document is nested too deeply to be read';
