import { JSDOM } from 'jsdom';
import { DocumentLoadError } from '../types.js';
import { htmlToText } from './html-text.js';
import { MAX_NESTING, nestingExceeds } from './html.loader.js';
import { NESTED_TOO_DEEPLY } from './load-limits.js';

/** What one (X)HTML file of an e-book or an export says: its Markdown-flavoured text and its first heading. */
export interface MarkupText {
  text: string;
  heading: string | undefined;
}

// The body's content, or the whole markup when it has no body element (an HTML fragment).
const BODY = /<body\b[^>]*>([\s\S]*?)(?:<\/body\s*>|$)/i;

const HEADINGS = new Set(['H1', 'H2', 'H3']);

// A walk in document order: a selector query costs several times more here than the walk does.
function firstHeading(root: Node): Element | undefined {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType === 1 && HEADINGS.has((node as Element).tagName)) return node as Element;
    for (let i = node.childNodes.length - 1; i >= 0; i--) stack.push(node.childNodes[i] as Node);
  }
  return undefined;
}

/**
 * The text of a whole (X)HTML file, read leniently as HTML (e-book chapters are not always
 * well-formed XML). Only the body is parsed, as a fragment: a fraction of the cost of a full
 * document per file, which matters for books of many chapters and exports of many pages.
 */
export function markupText(markup: string): MarkupText {
  if (nestingExceeds(markup, MAX_NESTING)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
  const fragment = JSDOM.fragment(BODY.exec(markup)?.[1] ?? markup);
  const heading = firstHeading(fragment)?.textContent?.replace(/\s+/g, ' ').trim() || undefined;
  return { text: htmlToText(fragment), heading };
}
