import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { archiveParts, resolvePart } from './archive-parts.js';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { markupText } from './markup-text.js';
import { EPUB, isZip } from './media-type.js';
import { attribute, child, children, descendants, parseXml, textOf, type XmlElement } from './xml-tree.js';

const CONTAINER = 'META-INF/container.xml';
const ENCRYPTION = 'META-INF/encryption.xml';
// The package, navigation and content documents; images, fonts and styles are never inflated.
const TEXT_PARTS = /\.(opf|ncx|xhtml|xht|html|htm|xml)$/i;
const NOT_AN_EPUB = 'The file is not a valid EPUB e-book';
const DRM = 'The e-book is protected by DRM (copy protection) and cannot be read; upload a DRM-free copy';

/** One chapter of an e-book: its place in the reading order, its title and its text. */
export interface EpubChapter {
  number: number;
  title: string | undefined;
  text: string;
}

interface Package {
  title: string | undefined;
  spine: string[];
  navigation: Map<string, string>;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function rootOf(parts: Map<string, Buffer>): string {
  const container = parts.get(CONTAINER);
  if (!container) throw new DocumentLoadError(`${NOT_AN_EPUB} (it has no META-INF/container.xml)`);
  const rootfile = descendants(parseXml(container, 'The e-book')[0], 'rootfile')[0];
  const path = attribute(rootfile, 'full-path');
  if (!path || !parts.has(path)) throw new DocumentLoadError(`${NOT_AN_EPUB} (its package document is missing)`);
  return path;
}

/** Chapter titles by content document, from the EPUB 3 navigation document's table of contents. */
function navTitles(nav: XmlElement | undefined, navPath: string, into: Map<string, string>): void {
  const navs = descendants(nav, 'nav');
  const toc = navs.find((n) => attribute(n, 'epub:type') === 'toc' || attribute(n, 'type') === 'toc') ?? navs[0];
  for (const link of descendants(toc, 'a')) {
    const href = attribute(link, 'href');
    const label = oneLine(textOf(link));
    if (href && label) {
      const part = resolvePart(navPath, href);
      if (!into.has(part)) into.set(part, label);
    }
  }
}

/** The same from an EPUB 2 NCX file's navigation points. */
function ncxTitles(ncx: XmlElement | undefined, ncxPath: string, into: Map<string, string>): void {
  for (const point of descendants(ncx, 'navPoint').flatMap(function flatten(p): XmlElement[] {
    return [p, ...children(p, 'navPoint').flatMap(flatten)];
  })) {
    const src = attribute(child(point, 'content'), 'src');
    const label = oneLine(textOf(child(child(point, 'navLabel'), 'text')));
    if (src && label) {
      const part = resolvePart(ncxPath, src);
      if (!into.has(part)) into.set(part, label);
    }
  }
}

function readPackage(parts: Map<string, Buffer>, opfPath: string): Package {
  const opf = parseXml(parts.get(opfPath) as Buffer, 'The e-book')[0];
  const manifest = new Map<string, { part: string; properties: string }>();
  for (const item of children(child(opf, 'manifest'), 'item')) {
    const id = attribute(item, 'id');
    const href = attribute(item, 'href');
    if (id && href) manifest.set(id, { part: resolvePart(opfPath, href), properties: attribute(item, 'properties') ?? '' });
  }
  const spineElement = child(opf, 'spine');
  const spine = children(spineElement, 'itemref')
    .map((ref) => manifest.get(attribute(ref, 'idref') ?? '')?.part)
    .filter((part): part is string => part !== undefined);
  const navigation = new Map<string, string>();
  const nav = [...manifest.values()].find((item) => item.properties.split(/\s+/).includes('nav'));
  if (nav && parts.has(nav.part)) navTitles(parseXml(parts.get(nav.part) as Buffer, 'The e-book')[0], nav.part, navigation);
  const ncx = manifest.get(attribute(spineElement, 'toc') ?? '');
  if (ncx && parts.has(ncx.part)) ncxTitles(parseXml(parts.get(ncx.part) as Buffer, 'The e-book')[0], ncx.part, navigation);
  const title = oneLine(textOf(child(child(opf, 'metadata'), 'title'))) || undefined;
  return { title, spine, navigation };
}

/** Refuses an e-book whose content documents are encrypted (font obfuscation alone is no obstacle). */
function assertNotProtected(parts: Map<string, Buffer>, spine: string[]): void {
  const encryption = parts.get(ENCRYPTION);
  if (!encryption) return;
  // Encrypted resources are named relative to the container's root.
  const encrypted = new Set(descendants(parseXml(encryption, 'The e-book')[0], 'CipherReference').map((ref) => resolvePart('', attribute(ref, 'URI') ?? '')));
  if (spine.some((part) => encrypted.has(part))) throw new DocumentLoadError(DRM);
}

/** The chapters of an EPUB in reading order (spine), those without text left out; throws DocumentLoadError for what cannot be read. */
export function readEpub(bytes: Uint8Array, limits: LoadLimits): { title: string | undefined; chapters: EpubChapter[] } {
  const parts = archiveParts(bytes, limits, (name) => TEXT_PARTS.test(name), 'The e-book');
  const book = readPackage(parts, rootOf(parts));
  assertNotProtected(parts, book.spine);
  if (book.spine.length > limits.maxPages) {
    throw new DocumentLoadError(`The e-book has more than ${limits.maxPages.toLocaleString('en-US')} chapters (${book.spine.length.toLocaleString('en-US')}); split it into smaller files`);
  }
  const chapters: EpubChapter[] = [];
  for (const part of new Set(book.spine)) {
    const content = parts.get(part);
    if (!content) continue;
    const { text, heading } = markupText(content.toString('utf8'));
    if (!text) continue;
    chapters.push({ number: chapters.length + 1, title: book.navigation.get(part) ?? heading, text });
  }
  return { title: book.title, chapters };
}

/**
 * E-books (.epub): one entry per chapter in reading order, located by its number (and title), each
 * headed by its title from the table of contents (else its first heading, else "Chapter N").
 */
export class EpubLoader implements Loader {
  readonly mediaTypes = [EPUB] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (!isZip(input.bytes)) throw new DocumentLoadError(`${NOT_AN_EPUB} (.epub)`);
    const { title, chapters } = readEpub(input.bytes, this.limits);
    if (chapters.length === 0) throw new DocumentLoadError('The e-book contains no text');
    const pages = chapters.map((c) => ({
      location: { kind: 'chapter' as const, value: c.number, ...(c.title !== undefined ? { section: c.title } : {}) },
      section: c.title ?? `Chapter ${c.number}`,
      text: c.text,
    }));
    return { title, pages, format: 'markdown' };
  }
}
