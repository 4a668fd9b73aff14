import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { archiveParts } from './archive-parts.js';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { markupText } from './markup-text.js';
import { isZip, ZIP_ARCHIVE } from './media-type.js';

const MARKDOWN_FILE = /\.(md|markdown)$/i;
const HTML_FILE = /\.(html?|xhtml)$/i;
// Notion appends a 32-hex-digit page id to every exported file and folder name.
const NOTION_ID = /\s+[0-9a-f]{32}$/i;
const FRONT_MATTER = /^---\n[\s\S]*?\n---(?:\n|$)/;

/** True for entries an export's reader skips: folders, hidden files and folders, macOS resource forks. */
function isSkipped(name: string): boolean {
  return name.endsWith('/') || name.split('/').some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}

/** True for the Markdown and HTML files of an export. */
export function isExportedPage(name: string): boolean {
  return !isSkipped(name) && (MARKDOWN_FILE.test(name) || HTML_FILE.test(name));
}

/** `Course 1a…f/Week 1/Breathing 2b…e.md` → `Course/Week 1/Breathing`. */
export function sectionTitle(name: string): string {
  return name
    .replace(/\.[^./]+$/, '')
    .split('/')
    .map((segment) => segment.replace(NOTION_ID, '').trim())
    .filter(Boolean)
    .join('/');
}

/** Obsidian's `[[Page]]` and `[[Page|label]]` links read as their text; embedded files (`![[…]]`) are dropped. */
function withoutWikiLinks(markdown: string): string {
  return markdown.replace(/!\[\[[^\]]*\]\]/g, '').replace(/\[\[([^\]|]*)(?:\|([^\]]*))?\]\]/g, (_, page: string, label?: string) => label ?? page);
}

function pageText(name: string, data: Buffer): string {
  const source = data.toString('utf8').replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (HTML_FILE.test(name)) return markupText(source).text;
  return withoutWikiLinks(source.replace(FRONT_MATTER, '')).trim();
}

/**
 * A ZIP of Markdown and HTML files (a Notion or Obsidian export): one entry per file with text, in
 * path order, headed and located by its folder path without Notion's ids; other files are ignored.
 */
export class ZipExportLoader implements Loader {
  readonly mediaTypes = [ZIP_ARCHIVE] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (!isZip(input.bytes)) throw new DocumentLoadError('The file is not a valid ZIP archive');
    const files = archiveParts(input.bytes, this.limits, isExportedPage, 'The archive');
    if (files.size > this.limits.maxPages) {
      throw new DocumentLoadError(`The archive holds more than ${this.limits.maxPages.toLocaleString('en-US')} Markdown or HTML files (${files.size.toLocaleString('en-US')}); split it into smaller archives`);
    }
    const names = [...files.keys()].sort((a, b) => sectionTitle(a).localeCompare(sectionTitle(b), 'en', { numeric: true }));
    const pages = names
      .map((name) => ({ section: sectionTitle(name), text: pageText(name, files.get(name) as Buffer) }))
      .filter((page) => page.text)
      .map((page, i) => ({ location: { kind: 'path' as const, value: i + 1, section: page.section }, ...page }));
    if (pages.length === 0) throw new DocumentLoadError('The archive holds no Markdown or HTML files with text (a Notion or Obsidian export is expected)');
    return { pages, format: 'markdown' };
  }
}
