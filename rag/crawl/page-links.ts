import { fetchableUrl } from './page-url.js';

/** What a crawler needs from an HTML page: where its links lead and the address it names as its own. */
export interface PageLinks {
  links: string[];
  canonical?: string | undefined;
}

const ANCHOR = /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const LINK_TAG = /<link\b[^>]*>/gi;
const BASE_TAG = /<base\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;
const ATTRIBUTE = (name: string) => new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i');

function decodeEntities(value: string): string {
  return value
    .replace(/&amp;/gi, '&')
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'");
}

function attribute(tag: string, name: string): string | undefined {
  const match = ATTRIBUTE(name).exec(tag);
  const value = match?.[1] ?? match?.[2] ?? match?.[3];
  return value === undefined ? undefined : decodeEntities(value);
}

/**
 * The links of an HTML page (`<a href>`, resolved against the page or its `<base>`), in document
 * order without repeats, and its `<link rel="canonical">`. A pattern scan rather than a DOM: links
 * only need to be found, and the page is parsed properly by ingestion.
 */
export function extractPageLinks(html: string, pageUrl: string): PageLinks {
  const baseMatch = BASE_TAG.exec(html);
  const baseHref = baseMatch ? decodeEntities(baseMatch[1] ?? baseMatch[2] ?? baseMatch[3] ?? '') : undefined;
  const base = (baseHref && fetchableUrl(baseHref, pageUrl)) || pageUrl;
  const links: string[] = [];
  const seen = new Set<string>();
  for (const match of html.matchAll(ANCHOR)) {
    const url = fetchableUrl(decodeEntities(match[1] ?? match[2] ?? match[3] ?? ''), base);
    if (url && !seen.has(url)) {
      seen.add(url);
      links.push(url);
    }
  }
  let canonical: string | undefined;
  for (const [tag] of html.matchAll(LINK_TAG)) {
    const rel = attribute(tag, 'rel')?.toLowerCase().split(/\s+/);
    const href = attribute(tag, 'href');
    if (rel?.includes('canonical') && href) {
      canonical = fetchableUrl(href, base);
      break;
    }
  }
  return { links, canonical };
}
