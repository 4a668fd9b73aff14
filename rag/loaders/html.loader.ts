import { Readability } from '@mozilla/readability';
import { JSDOM, VirtualConsole } from 'jsdom';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { htmlToText } from './html-text.js';
import { isStackOverflow, NESTED_TOO_DEEPLY } from './load-limits.js';
import { HTML } from './media-type.js';

// Real pages nest a few dozen elements deep. Parsing and Readability slow down steeply with depth
// (400 levels: half a minute), so deeper markup is refused before either runs.
export const MAX_NESTING = 128;
// Elements that never hold others, or whose end tag may be left out (the next sibling closes them).
const NOT_NESTING = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr', 'param',
  'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'colgroup', 'rb', 'rt', 'rp',
  'html', 'head', 'body',
]);
const TAG = /<!--[\s\S]*?-->|<(script|style|textarea|title)\b[\s\S]*?<\/\1\s*>|<(\/?)([a-zA-Z][\w:-]*)(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g;

/** Upper bound of how deep the markup nests, from its tags alone, without building a tree. */
export function nestingExceeds(html: string, limit: number): boolean {
  let depth = 0;
  for (const match of html.matchAll(TAG)) {
    const [, raw, closing, name, selfClosing] = match;
    if (raw || !name || selfClosing || NOT_NESTING.has(name.toLowerCase())) continue;
    depth = closing ? Math.max(0, depth - 1) : depth + 1;
    if (depth > limit) return true;
  }
  return false;
}

/**
 * Web pages via Readability on jsdom: the main article without navigation and boilerplate, or the
 * whole body when no article stands out. jsdom runs no scripts and loads no resources: `runScripts`
 * and `resources` stay at their defaults, which do neither.
 */
export class HtmlLoader implements Loader {
  readonly mediaTypes = [HTML] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    const source = decode(input.bytes);
    if (nestingExceeds(typeof source === 'string' ? source : source.toString('latin1'), MAX_NESTING)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
    let dom: JSDOM;
    try {
      dom = new JSDOM(source, {
        url: safeBaseUrl(input.sourceUrl),
        contentType: 'text/html',
        virtualConsole: new VirtualConsole(),
      });
    } catch (err) {
      throw new DocumentLoadError(isStackOverflow(err) ? NESTED_TOO_DEEPLY : 'The web page could not be read');
    }
    try {
      const document = dom.window.document;
      const pageTitle = document.title.trim() || undefined;
      // Readability rewrites the document it is given; the original stays intact for the fallback.
      const article = new Readability(document.cloneNode(true) as Document, { serializer: (node: Node) => node }).parse();
      let text = article?.content ? htmlToText(article.content) : '';
      if (!text) text = htmlToText(document.body ?? document);
      if (!text) throw new DocumentLoadError('The web page contains no readable text');
      return { title: article?.title?.trim() || pageTitle, pages: [{ text }], format: 'markdown' };
    } catch (err) {
      if (isStackOverflow(err)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
      throw err;
    } finally {
      dom.window.close();
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Valid UTF-8 is read as UTF-8 (most pages today, even without a charset declaration, where the
 * HTML default would be windows-1252); anything else goes to jsdom as bytes, which then honours
 * the BOM and <meta charset>.
 */
function decode(bytes: Uint8Array): string | Buffer {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

function safeBaseUrl(url: string | undefined): string | undefined {
  try {
    return url && /^https?:$/.test(new URL(url).protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}
