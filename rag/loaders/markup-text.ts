import { JSDOM, VirtualConsole } from 'jsdom';
import { DocumentLoadError } from '../types.js';
import { htmlToText } from './html-text.js';
import { MAX_NESTING, nestingExceeds } from './html.loader.js';
import { NESTED_TOO_DEEPLY } from './load-limits.js';

/** What one (X)HTML file of an e-book or an export says: its Markdown-flavoured text and its first heading. */
export interface MarkupText {
  text: string;
  heading: string | undefined;
}

/** The text of a whole (X)HTML file, read leniently as HTML (e-book chapters are not always well-formed XML). */
export function markupText(markup: string): MarkupText {
  if (nestingExceeds(markup, MAX_NESTING)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
  const dom = new JSDOM(markup, { contentType: 'text/html', virtualConsole: new VirtualConsole() });
  try {
    const { document } = dom.window;
    const heading = document.querySelector('h1, h2, h3')?.textContent?.replace(/\s+/g, ' ').trim() || undefined;
    return { text: htmlToText(document.body ?? document), heading };
  } finally {
    dom.window.close();
  }
}
