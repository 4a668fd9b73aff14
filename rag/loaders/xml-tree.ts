import { XMLParser } from 'fast-xml-parser';
import { DocumentLoadError } from '../types.js';
import { NESTED_TOO_DEEPLY } from './load-limits.js';

/** An XML element with its attributes (names as written, prefixes kept) and children in document order. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

// Order matters in slides and navigation documents, so the parser keeps it; entities from a DOCTYPE are never expanded.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  htmlEntities: true,
  // Office parts and e-book package files nest a few dozen levels at most; deeper is hostile.
  maxNestedTags: 100,
});

type Parsed = Record<string, unknown> & { ':@'?: Record<string, string> };

function convert(items: Parsed[]): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (const item of items) {
    for (const [key, value] of Object.entries(item)) {
      if (key === ':@') continue;
      if (key === '#text') nodes.push(String(value));
      else if (!key.startsWith('?') && !key.startsWith('!')) nodes.push({ name: key, attributes: item[':@'] ?? {}, children: convert(value as Parsed[]) });
    }
  }
  return nodes;
}

/** The top-level elements of an XML part; `what` names the part in the error for markup that is not XML. */
export function parseXml(xml: Buffer | string, what: string): XmlElement[] {
  const text = typeof xml === 'string' ? xml : xml.toString('utf8');
  try {
    return convert(parser.parse(text) as Parsed[]).filter((n): n is XmlElement => typeof n !== 'string');
  } catch (err) {
    if (err instanceof RangeError) throw err; // the stack ran out: the reading process names it
    if (/nested tags/i.test((err as Error).message)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
    throw new DocumentLoadError(`${what} could not be read (it may be damaged)`);
  }
}

/** `p:sp` → `sp`. */
export function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/** The child elements of `element` with local name `name` (every child element without one). */
export function children(element: XmlElement | undefined, name?: string): XmlElement[] {
  if (!element) return [];
  return element.children.filter((c): c is XmlElement => typeof c !== 'string' && (name === undefined || localName(c.name) === name));
}

/** The first child element named `name`. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return children(element, name)[0];
}

/** Every element named `name` below `element`, in document order (the search does not enter matches). */
export function descendants(element: XmlElement | undefined, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const stack = element ? [...children(element)].reverse() : [];
  while (stack.length > 0) {
    const next = stack.pop() as XmlElement;
    if (localName(next.name) === name) found.push(next);
    else stack.push(...children(next).reverse());
  }
  return found;
}

/** The text of `element` and everything below it, concatenated. */
export function textOf(element: XmlElement | undefined): string {
  if (!element) return '';
  const parts: string[] = [];
  const stack: XmlNode[] = [...element.children].reverse();
  while (stack.length > 0) {
    const next = stack.pop() as XmlNode;
    if (typeof next === 'string') parts.push(next);
    else stack.push(...[...next.children].reverse());
  }
  return parts.join('');
}

/** An attribute by its full name, else by its local name (`r:embed` answers to `embed`). */
export function attribute(element: XmlElement | undefined, name: string): string | undefined {
  if (!element) return undefined;
  if (name in element.attributes) return element.attributes[name];
  const key = Object.keys(element.attributes).find((k) => localName(k) === name);
  return key === undefined ? undefined : element.attributes[key];
}
