import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { CsvLoader } from './csv.loader.js';
import { DocxLoader } from './docx.loader.js';
import { EpubLoader } from './epub.loader.js';
import { HtmlLoader } from './html.loader.js';
import { assertTextWithin, DEFAULT_LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { detectMediaType, SUPPORTED_TYPES_DESCRIPTION } from './media-type.js';
import { PdfLoader } from './pdf.loader.js';
import { PptxLoader } from './pptx.loader.js';
import { SubtitlesLoader } from './subtitles.loader.js';
import { TextLoader } from './text.loader.js';
import { XlsxLoader } from './xlsx.loader.js';
import { ZipExportLoader } from './zip-export.loader.js';

/** Picks the loader for a source by its sniffed content, then its declared type and file name. */
export class LoaderRegistry {
  private readonly byMediaType = new Map<string, Loader>();

  constructor(
    loaders: Loader[],
    private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS,
  ) {
    for (const loader of loaders) for (const type of loader.mediaTypes) this.byMediaType.set(type, loader);
  }

  /** The loader for `input`, or undefined when none reads it. */
  loaderFor(input: LoadInput): Loader | undefined {
    const type = detectMediaType(input.bytes, input.mediaType, input.filename);
    return type ? this.byMediaType.get(type) : undefined;
  }

  /** Extracts text; throws DocumentLoadError when the type is unsupported or the content unreadable. */
  async load(input: LoadInput): Promise<LoadedDocument> {
    if (!input.bytes.length) throw new DocumentLoadError('The file is empty');
    const type = detectMediaType(input.bytes, input.mediaType, input.filename);
    const loader = type ? this.byMediaType.get(type) : undefined;
    if (!type || !loader) {
      const what = input.mediaType ? `Content of type ${input.mediaType}` : 'This kind of file';
      throw new DocumentLoadError(`${what} cannot be read; supported are ${SUPPORTED_TYPES_DESCRIPTION}`);
    }
    // The loader sees the type it was chosen for, so a .md sent as text/plain is read as Markdown.
    const loaded = await loader.load({ ...input, mediaType: type });
    // Everything after loading (splitting, embedding, storing) grows with the text: it is bounded here.
    assertTextWithin(
      loaded.pages.reduce((sum, p) => sum + p.text.length, 0),
      this.limits,
    );
    return loaded;
  }
}

/** The registry with every built-in file loader, each held to `limits`. */
export function createLoaderRegistry(limits: LoadLimits = DEFAULT_LOAD_LIMITS): LoaderRegistry {
  return new LoaderRegistry(
    [
      new PdfLoader(limits),
      new DocxLoader(limits),
      new HtmlLoader(),
      new TextLoader(),
      new SubtitlesLoader(),
      new EpubLoader(limits),
      new PptxLoader(limits),
      new ZipExportLoader(limits),
      new CsvLoader(),
      new XlsxLoader(limits),
    ],
    limits,
  );
}
