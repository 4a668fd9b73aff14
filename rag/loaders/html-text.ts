/**
 * Renders a DOM subtree as Markdown-flavoured plain text: headings become `#` lines, list items `-`
 * or `1.` lines, paragraphs are separated by blank lines. Keeping that structure lets the
 * Markdown-aware splitter cut at headings and paragraphs instead of mid-sentence.
 */

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

// Never content a reader sees.
const SKIPPED = new Set([
  'script', 'style', 'noscript', 'template', 'head', 'svg', 'canvas', 'iframe', 'object', 'embed',
  'video', 'audio', 'img', 'picture', 'source', 'input', 'select', 'button', 'textarea', 'link', 'meta',
]);

const BLOCKS = new Set([
  'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'aside', 'nav', 'blockquote', 'figure',
  'figcaption', 'address', 'table', 'thead', 'tbody', 'tfoot', 'dl', 'dt', 'dd', 'form', 'fieldset',
  'details', 'summary', 'body', 'html', 'caption', 'center',
]);

class TextWriter {
  private readonly parts: string[] = [];
  private last = '\n';
  private trailingNewlines = 2;
  /** Just after a list marker: block breaks there would separate the marker from its text. */
  private atItemStart = false;

  /** Inline text: runs of whitespace collapse; nothing leads a line. */
  text(value: string) {
    let collapsed = value.replace(/\s+/g, ' ');
    if (this.last === '\n' || this.last === ' ') collapsed = collapsed.replace(/^ /, '');
    this.raw(collapsed);
  }

  raw(value: string) {
    if (!value) return;
    this.parts.push(value);
    this.last = value.at(-1) ?? this.last;
    const newlines = /\n*$/.exec(value)?.[0].length ?? 0;
    this.trailingNewlines = newlines === value.length ? this.trailingNewlines + newlines : newlines;
    this.atItemStart = false;
  }

  /** Starts a list item; its first block must not push the text below the marker. */
  marker(value: string) {
    this.raw(value);
    this.atItemStart = true;
  }

  /** Ends the current line; `blank` leaves an empty line after it (paragraph break). Never stacks. */
  lineBreak(blank: boolean) {
    if (this.atItemStart) return;
    const wanted = blank ? 2 : 1;
    if (this.trailingNewlines < wanted) this.raw('\n'.repeat(wanted - this.trailingNewlines));
  }

  toString() {
    return this.parts
      .join('')
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }
}

interface ListContext {
  ordered: boolean;
  index: number;
  depth: number;
}

function render(node: Node, out: TextWriter, list: ListContext | undefined, preformatted: boolean) {
  if (node.nodeType === TEXT_NODE) {
    if (preformatted) out.raw(node.textContent ?? '');
    else out.text(node.textContent ?? '');
    return;
  }
  if (node.nodeType !== ELEMENT_NODE && node.nodeType !== 9 && node.nodeType !== 11) return;
  const tag = node.nodeType === ELEMENT_NODE ? (node as Element).tagName.toLowerCase() : '#document';
  if (SKIPPED.has(tag)) return;
  if (node.nodeType === ELEMENT_NODE && (node as Element).hasAttribute('hidden')) return;

  const children = (context: ListContext | undefined, pre = preformatted) => {
    for (const child of Array.from(node.childNodes)) render(child, out, context, pre);
  };

  const heading = /^h([1-6])$/.exec(tag);
  if (heading) {
    out.lineBreak(true);
    out.raw(`${'#'.repeat(Number(heading[1]))} `);
    children(list);
    out.lineBreak(true);
    return;
  }
  switch (tag) {
    case 'br':
      out.lineBreak(false);
      return;
    case 'hr':
      out.lineBreak(true);
      return;
    case 'pre':
      out.lineBreak(true);
      children(list, true);
      out.lineBreak(true);
      return;
    case 'ul':
    case 'ol': {
      out.lineBreak(!list);
      children({ ordered: tag === 'ol', index: 0, depth: list ? list.depth + 1 : 0 });
      out.lineBreak(!list);
      return;
    }
    case 'li': {
      const context = list ?? { ordered: false, index: 0, depth: 0 };
      context.index += 1;
      out.lineBreak(false);
      out.marker(`${'  '.repeat(context.depth)}${context.ordered ? `${context.index}.` : '-'} `);
      children(context);
      out.lineBreak(false);
      return;
    }
    case 'tr':
      out.lineBreak(false);
      children(list);
      out.lineBreak(false);
      return;
    case 'td':
    case 'th':
      children(list);
      out.raw(' | ');
      return;
    default:
      break;
  }
  if (BLOCKS.has(tag)) {
    out.lineBreak(true);
    children(list);
    out.lineBreak(true);
    return;
  }
  children(list);
}

/** Markdown-flavoured text of `root` (an element, document or fragment). */
export function htmlToText(root: Node): string {
  const out = new TextWriter();
  render(root, out, undefined, false);
  return out.toString();
}
