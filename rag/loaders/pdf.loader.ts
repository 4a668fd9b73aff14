import { getDocumentProxy, getMeta } from 'unpdf';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { assertTextWithin, DEFAULT_LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { PDF } from './media-type.js';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

async function open(bytes: Uint8Array): Promise<PdfDocument> {
  try {
    // pdf.js takes ownership of (and may detach) the buffer it is given, so it gets a copy.
    // isEvalSupported=false: never compile font programs from the file into JavaScript.
    return await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false, useSystemFonts: false });
  } catch (err) {
    if ((err as Error).name === 'PasswordException') throw new DocumentLoadError('The PDF is password-protected');
    throw new DocumentLoadError('The PDF could not be read (it may be damaged)');
  }
}

async function titleOf(pdf: PdfDocument): Promise<string | undefined> {
  try {
    const { info } = await getMeta(pdf);
    const title = (info as Record<string, unknown>).Title;
    return typeof title === 'string' && title.trim() ? title.trim() : undefined;
  } catch {
    // Broken metadata must not cost the creator a document whose text is fine.
    return undefined;
  }
}

/** Rejoins words hyphenated across line ends ("Na-\ntional" → "National"), as justified papers split them. */
function dehyphenate(text: string): string {
  return text.replace(/(\p{Ll})-\n(\p{Ll})/gu, '$1$2');
}

/** One page's text as unpdf's extractText joins it: items in order, a line break where pdf.js saw one. */
async function pageText(pdf: PdfDocument, pageNumber: number): Promise<string> {
  const page = await pdf.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    const items = content.items as Array<{ str?: string | null; hasEOL?: boolean }>;
    return items
      .filter((item) => item.str != null)
      .map((item) => item.str + (item.hasEOL ? '\n' : ''))
      .join('');
  } finally {
    page.cleanup();
  }
}

/**
 * PDF via unpdf (pdf.js): one entry per page with its 1-based number. Pages are read one after the
 * other (not all at once, as unpdf's extractText does), so memory follows one page and the page and
 * text limits stop the work as soon as they are passed.
 */
export class PdfLoader implements Loader {
  readonly mediaTypes = [PDF] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    const pdf = await open(input.bytes);
    try {
      if (pdf.numPages > this.limits.maxPages) {
        throw new DocumentLoadError(
          `The PDF has more than ${this.limits.maxPages.toLocaleString('en-US')} pages (${pdf.numPages.toLocaleString('en-US')}); split it into smaller files`,
        );
      }
      const pages: Array<{ page: number; text: string }> = [];
      let chars = 0;
      for (let page = 1; page <= pdf.numPages; page++) {
        let text: string;
        try {
          text = dehyphenate(await pageText(pdf, page));
        } catch {
          throw new DocumentLoadError('The PDF could not be read (it may be damaged)');
        }
        chars += text.length;
        assertTextWithin(chars, this.limits);
        pages.push({ page, text });
      }
      if (!pages.some((p) => p.text.trim())) {
        throw new DocumentLoadError('The PDF contains no extractable text (scanned images are not supported yet)');
      }
      return { title: await titleOf(pdf), pages, format: 'text' };
    } finally {
      await pdf.destroy().catch(() => undefined);
    }
  }
}
