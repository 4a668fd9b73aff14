import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
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

/** PDF via unpdf (pdf.js): one entry per page with its 1-based number. */
export class PdfLoader implements Loader {
  readonly mediaTypes = [PDF] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    const pdf = await open(input.bytes);
    try {
      let text: string[];
      try {
        ({ text } = await extractText(pdf, { mergePages: false }));
      } catch {
        throw new DocumentLoadError('The PDF could not be read (it may be damaged)');
      }
      const pages = text.map((pageText, index) => ({ page: index + 1, text: dehyphenate(pageText) }));
      if (!pages.some((p) => p.text.trim())) {
        throw new DocumentLoadError('The PDF contains no extractable text (scanned images are not supported yet)');
      }
      return { title: await titleOf(pdf), pages, format: 'text' };
    } finally {
      await pdf.destroy().catch(() => undefined);
    }
  }
}
