import { Readability } from '@mozilla/readability';
import { JSDOM, VirtualConsole } from 'jsdom';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { htmlToText } from './html-text.js';
import { HTML } from './media-type.js';

/**
 * Web pages via Readability on jsdom: the main article without navigation and boilerplate, or the
 * whole body when no article stands out. jsdom runs no scripts and loads no resources: `runScripts`
 * and `resources` stay at their defaults, which do neither.
 */
export class HtmlLoader implements Loader {
  readonly mediaTypes = [HTML] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    let dom: JSDOM;
    try {
      dom = new JSDOM(decode(input.bytes), {
        url: safeBaseUrl(input.sourceUrl),
        contentType: 'text/html',
        virtualConsole: new VirtualConsole(),
      });
    } catch {
      throw new DocumentLoadError('The web page could not be read');
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
