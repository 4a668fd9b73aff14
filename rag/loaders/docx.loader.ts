import { JSDOM } from 'jsdom';
import mammoth from 'mammoth';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { htmlToText } from './html-text.js';
import { DOCX, isOleCompound, isZip } from './media-type.js';

// Images carry no text we can index; dropping them keeps base64 blobs out of the HTML.
const noImages = mammoth.images.imgElement(async () => ({ src: '' }));

/** Word (.docx) via mammoth: headings, lists and footnotes kept as Markdown-flavoured text. */
export class DocxLoader implements Loader {
  readonly mediaTypes = [DOCX] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (isOleCompound(input.bytes)) {
      throw new DocumentLoadError('Old Word documents (.doc) are not supported; save the file as .docx and upload it again');
    }
    if (!isZip(input.bytes)) throw new DocumentLoadError('The file is not a valid Word document (.docx)');
    let html: string;
    try {
      ({ value: html } = await mammoth.convertToHtml(
        { buffer: Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength) },
        { convertImage: noImages },
      ));
    } catch (err) {
      const reason = /main document part/i.test((err as Error).message)
        ? 'The file is a ZIP archive but not a Word document'
        : 'The Word document could not be read (it may be damaged)';
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
