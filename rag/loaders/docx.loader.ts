import { JSDOM } from 'jsdom';
import mammoth from 'mammoth';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { htmlToText } from './html-text.js';
import { DEFAULT_LOAD_LIMITS, expandsTooMuch, isStackOverflow, NESTED_TOO_DEEPLY, type LoadLimits } from './load-limits.js';
import { DOCX, isOleCompound, isZip } from './media-type.js';
import { DamagedArchiveError, inflateWithin } from './zip-inflate.js';

// Images carry no text we can index; dropping them keeps base64 blobs out of the HTML.
const noImages = mammoth.images.imgElement(async () => ({ src: '' }));

const MAIN_PART = 'word/document.xml';
const DAMAGED = 'The Word document could not be read (it may be damaged)';
const PARAGRAPH_OPEN = Buffer.from('<w:p');
// After `<w:p`: what ends the element name of a paragraph (not `<w:pPr`, `<w:proofErr`, …).
const NAME_ENDS = new Set([0x20, 0x09, 0x0a, 0x0d, 0x3e, 0x2f]);

/** Counts `<w:p>` elements, stopping once past `limit`: cheap, and before mammoth builds a tree of them. */
function paragraphsExceed(xml: Buffer, limit: number): boolean {
  let found = 0;
  for (let at = xml.indexOf(PARAGRAPH_OPEN); at !== -1; at = xml.indexOf(PARAGRAPH_OPEN, at + PARAGRAPH_OPEN.length)) {
    if (NAME_ENDS.has(xml[at + PARAGRAPH_OPEN.length] ?? 0) && ++found > limit) return true;
  }
  return false;
}

/** Word (.docx) via mammoth: headings, lists and footnotes kept as Markdown-flavoured text. */
export class DocxLoader implements Loader {
  readonly mediaTypes = [DOCX] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (isOleCompound(input.bytes)) {
      throw new DocumentLoadError('Old Word documents (.doc) are not supported; save the file as .docx and upload it again');
    }
    if (!isZip(input.bytes)) throw new DocumentLoadError('The file is not a valid Word document (.docx)');
    // mammoth inflates whatever the archive holds: its real size is checked first (zip bombs).
    let main: Buffer | undefined;
    try {
      main = inflateWithin(input.bytes, this.limits.maxDecompressedBytes, () => expandsTooMuch(this.limits), [MAIN_PART]).get(MAIN_PART);
    } catch (err) {
      throw err instanceof DamagedArchiveError ? new DocumentLoadError(DAMAGED) : err;
    }
    if (main && paragraphsExceed(main, this.limits.maxParagraphs)) {
      throw new DocumentLoadError(`The Word document has more than ${this.limits.maxParagraphs.toLocaleString('en-US')} paragraphs; split it into smaller files`);
    }
    let html: string;
    try {
      ({ value: html } = await mammoth.convertToHtml(
        { buffer: Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength) },
        { convertImage: noImages },
      ));
    } catch (err) {
      if (isStackOverflow(err)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
      const reason = /main document part/i.test((err as Error).message)
        ? 'The file is a ZIP archive but not a Word document'
        : DAMAGED;
      throw new DocumentLoadError(reason);
    }
    const fragment = JSDOM.fragment(html);
    // Footnote back-links ("↑") only make sense in a browser.
    for (const link of Array.from(fragment.querySelectorAll('a[href^="#footnote-ref-"], a[href^="#endnote-ref-"]'))) link.remove();
    const title = fragment.querySelector('h1')?.textContent?.trim() || undefined;
    const text = htmlToText(fragment);
    if (!text) throw new DocumentLoadError('The Word document contains no text');
    return { title, pages: [{ text }], format: 'markdown' };
  }
}
