/**
 * E-books, slide decks and workspace exports built in memory for tests and benchmarks: an EPUB
 * (mimetype, container, OPF, navigation document and XHTML chapters, zipped as readers expect), a
 * PowerPoint deck written by pptxgenjs with titles and speaker notes, and a Notion-style ZIP export.
 */
import { zipSync, type Zippable } from 'fflate';
import pptxgenjs from 'pptxgenjs';

export interface BookChapter {
  /** The title in the table of contents; none leaves the chapter out of it. */
  title?: string;
  /** XHTML body content. */
  body: string;
}

const xhtml = (title: string, body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>${title}</title></head><body>${body}</body></html>`;

/**
 * An EPUB 3 book whose chapters sit in OEBPS/text/, listed in the spine in the order given and in
 * the navigation document by title. `extra` adds or replaces archive entries (an encryption.xml, say).
 */
export function epubBook(title: string, chapters: BookChapter[], extra: Record<string, string | Uint8Array> = {}): Buffer {
  const files: Zippable = {};
  // The mimetype entry comes first and is stored, not deflated, so its bytes are readable at offset 38.
  files.mimetype = [new TextEncoder().encode('application/epub+zip'), { level: 0 }];
  files['META-INF/container.xml'] = new TextEncoder().encode(
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
  );
  const items = chapters.map((_, i) => `<item id="c${i + 1}" href="text/chapter-${i + 1}.xhtml" media-type="application/xhtml+xml"/>`).join('');
  const spine = chapters.map((_, i) => `<itemref idref="c${i + 1}"/>`).join('');
  files['OEBPS/content.opf'] = new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:uuid:0</dc:identifier><dc:title>${title}</dc:title><dc:language>en</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="cover" href="images/cover.png" media-type="image/png"/>${items}</manifest><spine>${spine}</spine></package>`,
  );
  const toc = chapters
    .map((c, i) => (c.title ? `<li><a href="text/chapter-${i + 1}.xhtml#start">${c.title}</a></li>` : ''))
    .join('');
  files['OEBPS/nav.xhtml'] = new TextEncoder().encode(xhtml('Contents', `<nav epub:type="toc"><h1>Contents</h1><ol>${toc}</ol></nav>`));
  files['OEBPS/images/cover.png'] = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  chapters.forEach((c, i) => {
    files[`OEBPS/text/chapter-${i + 1}.xhtml`] = new TextEncoder().encode(xhtml(c.title ?? '', c.body));
  });
  for (const [name, content] of Object.entries(extra)) files[name] = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return Buffer.from(zipSync(files));
}

// The package's types describe a CommonJS default export; its ES build, which Node loads, exports the class itself.
const PptxGenJS = pptxgenjs as unknown as typeof pptxgenjs.default;

export interface DeckSlide {
  title?: string;
  /** Text boxes, in the order they are placed (top to bottom). */
  texts?: string[];
  /** A table's rows of cells. */
  table?: string[][];
  notes?: string;
}

/** A .pptx written by PowerPoint's format library, slides with a real title placeholder when titled. */
export async function slideDeck(slides: DeckSlide[]): Promise<Buffer> {
  const deck = new PptxGenJS();
  deck.defineSlideMaster({
    title: 'TITLED',
    objects: [{ placeholder: { options: { name: 'title', type: 'title', x: 0.5, y: 0.2, w: 9, h: 0.8 }, text: '' } }],
  });
  for (const spec of slides) {
    const slide = deck.addSlide({ masterName: 'TITLED' });
    if (spec.title) slide.addText(spec.title, { placeholder: 'title' });
    (spec.texts ?? []).forEach((text, i) => slide.addText(text, { x: 0.5, y: 1.2 + i * 0.9, w: 9, h: 0.8 }));
    if (spec.table) slide.addTable(spec.table.map((row) => row.map((text) => ({ text }))), { x: 0.5, y: 4 });
    if (spec.notes) slide.addNotes(spec.notes);
  }
  return (await deck.write({ outputType: 'nodebuffer' })) as Buffer;
}

/** A ZIP of the given files (path → text), deflated as exports are. */
export function zipOf(files: Record<string, string>): Buffer {
  const entries: Zippable = {};
  for (const [name, text] of Object.entries(files)) entries[name] = new TextEncoder().encode(text);
  return Buffer.from(zipSync(entries));
}
