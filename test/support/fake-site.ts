import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake site answers at one path. */
export type SiteResource =
  | {
      body: string;
      type?: string;
      /** Validators the server sends and honours: ETag (a hash of the body), Last-Modified, or both (default). */
      validators?: 'etag' | 'last-modified' | 'both' | 'none';
      lastModified?: Date;
    }
  | { redirect: string; status?: 301 | 302 | 307 | 308 }
  | { status: number };

/** One request the site received. */
export interface SiteRequest {
  path: string;
  headers: IncomingHttpHeaders;
  at: number;
  status: number;
}

/** A local website over node:http speaking plain HTTP/1.1 with conditional GETs (If-None-Match, If-Modified-Since). */
export interface FakeSite {
  readonly origin: string;
  /** Path → resource; change it between passes to edit, move or remove pages. Unknown paths answer 404. */
  readonly resources: Map<string, SiteResource>;
  readonly requests: SiteRequest[];
  /** Requests since `mark`, e.g. those of the second pass. */
  requestsSince(mark: number): SiteRequest[];
  close(): Promise<void>;
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
}

export async function startFakeSite(): Promise<FakeSite> {
  const resources = new Map<string, SiteResource>();
  const requests: SiteRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const resource = resources.get(path);
    const record = (status: number) => requests.push({ path, headers: req.headers, at: Date.now(), status });
    if (!resource) {
      record(404);
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
    if ('redirect' in resource) {
      const status = resource.status ?? 301;
      record(status);
      return void res.writeHead(status, { location: resource.redirect }).end();
    }
    if (!('body' in resource)) {
      record(resource.status);
      return void res.writeHead(resource.status).end();
    }
    const validators = resource.validators ?? 'both';
    const headers: Record<string, string> = { 'content-type': resource.type ?? 'text/html; charset=utf-8' };
    const etag = etagOf(resource.body);
    const lastModified = (resource.lastModified ?? new Date('2026-01-05T10:00:00Z')).toUTCString();
    if (validators === 'etag' || validators === 'both') headers.etag = etag;
    if (validators === 'last-modified' || validators === 'both') headers['last-modified'] = lastModified;
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    // RFC 9110: If-None-Match wins when both are sent.
    const notModified =
      ifNoneMatch !== undefined && headers.etag
        ? ifNoneMatch === etag
        : ifModifiedSince !== undefined && headers['last-modified'] !== undefined && Date.parse(ifModifiedSince) >= Date.parse(lastModified);
    if (notModified) {
      record(304);
      return void res.writeHead(304, headers.etag ? { etag } : {}).end();
    }
    record(200);
    res.writeHead(200, headers).end(resource.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    resources,
    requests,
    requestsSince: (mark) => requests.slice(mark),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTML page with a title, a paragraph and links. */
export function htmlPage(title: string, text: string, links: string[] = []): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p>${links
    .map((href) => `<a href="${href}">${href}</a>`)
    .join(' ')}</main></body></html>`;
}

/** A sitemaps.org urlset. */
export function sitemap(urls: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.map((u) => `<url><loc>${u}</loc></url>`).join('')}</urlset>`;
}

/** A sitemaps.org sitemap index. */
export function sitemapIndex(urls: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls.map((u) => `<sitemap><loc>${u}</loc></sitemap>`).join('')}</sitemapindex>`;
}
