import { XMLParser } from 'fast-xml-parser';

/** A sitemap's page addresses, or a sitemap index's child sitemaps (sitemaps.org protocol). */
export interface ParsedSitemap {
  pages: string[];
  sitemaps: string[];
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  processEntities: true,
  isArray: (name) => name === 'url' || name === 'sitemap',
});

function locations(entries: unknown): string[] {
  if (!Array.isArray(entries)) return [];
  return entries
    .map((entry) => (entry && typeof entry === 'object' ? (entry as { loc?: unknown }).loc : undefined))
    .filter((loc): loc is string => typeof loc === 'string' && loc.trim().length > 0)
    .map((loc) => loc.trim());
}

/** Reads `<urlset>` and `<sitemapindex>` documents; anything else (HTML error pages, junk) yields nothing. */
export function parseSitemap(xml: string): ParsedSitemap {
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(xml) as Record<string, unknown>;
  } catch {
    return { pages: [], sitemaps: [] };
  }
  const urlset = parsed.urlset as { url?: unknown } | undefined;
  const index = parsed.sitemapindex as { sitemap?: unknown } | undefined;
  return { pages: locations(urlset?.url), sitemaps: locations(index?.sitemap) };
}
