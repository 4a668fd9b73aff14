/** Web addresses of crawled pages: what is fetched, and the key that tells two addresses are one page. */

/** The address to fetch: absolute http(s), fragment stripped; undefined for anything else (mailto:, javascript:, junk). */
export function fetchableUrl(raw: string, base?: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  return url.toString();
}

/**
 * One key per page: fragment stripped, host lower-cased and default port dropped (URL does both),
 * and a trailing slash ignored (`/guide/` and `/guide` are one page), except for the root.
 */
export function pageKey(raw: string, base?: string): string | undefined {
  const fetchable = fetchableUrl(raw, base);
  if (!fetchable) return undefined;
  const url = new URL(fetchable);
  if (url.pathname.length > 1 && url.pathname.endsWith('/')) url.pathname = url.pathname.replace(/\/+$/, '') || '/';
  return url.toString();
}

/** Whether `url` is on `origin` (scheme, host and port). */
export function onOrigin(url: string, origin: string): boolean {
  return new URL(url).origin === origin;
}
