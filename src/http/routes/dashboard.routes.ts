import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, UnavailableError } from '../../errors/app.errors.js';
import { pageSecurityHeaders } from '../html-page.js';

/** Where `npm install` / `npm start` build the dashboard (dashboard/dist; dist/dashboard links to it for compiled code). */
export const DASHBOARD_BUILD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

/**
 * The dashboard's policy: its scripts and styles come only from its own files (no inline script or
 * style anywhere), it talks only to this server, and no site may frame it.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Whether a dashboard build is there to serve (an image may run the platform without one). */
export function dashboardBuilt(dir: string = DASHBOARD_BUILD_DIR): boolean {
  return existsSync(path.join(dir, 'index.html'));
}

// Vite names every asset by its content's hash: a changed file has a new name, so browsers may keep one for good.
const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface BuiltFile {
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
}

/** Every built file by its path under /app/, with the brotli and gzip copies the build wrote beside it. */
function loadBuild(dir: string): Map<string, BuiltFile> | null {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  } catch {
    return null;
  }
  if (!names.includes('index.html')) return null;
  const present = new Set(names);
  const files = new Map<string, BuiltFile>();
  for (const name of names) {
    if (name.endsWith('.br') || name.endsWith('.gz') || name.startsWith('.')) continue;
    const body = readFileSync(path.join(dir, name));
    files.set(name, {
      body,
      ...(present.has(`${name}.br`) ? { br: readFileSync(path.join(dir, `${name}.br`)) } : {}),
      ...(present.has(`${name}.gz`) ? { gzip: readFileSync(path.join(dir, `${name}.gz`)) } : {}),
      type: TYPES[path.extname(name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}

/** The best encoding the client accepts that the build has: brotli, then gzip, else none. */
function chooseEncoding(request: FastifyRequest, file: BuiltFile): 'br' | 'gzip' | null {
  const accepted = String(request.headers['accept-encoding'] ?? '')
    .split(',')
    .map((part) => part.trim().split(';'))
    .filter(([, q]) => !q || !/^q=0(\.0*)?$/.test(q.trim()))
    .map(([name]) => name!.toLowerCase());
  if (file.br && accepted.includes('br')) return 'br';
  if (file.gzip && accepted.includes('gzip')) return 'gzip';
  return null;
}

function send(request: FastifyRequest, reply: FastifyReply, file: BuiltFile, cacheControl: string) {
  reply.headers(pageSecurityHeaders(DASHBOARD_CSP)).header('cross-origin-opener-policy', 'same-origin');
  reply.header('content-type', file.type).header('cache-control', cacheControl).header('etag', file.etag).header('vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const encoding = chooseEncoding(request, file);
  if (encoding === null) return reply.send(file.body);
  return reply.header('content-encoding', encoding).send(encoding === 'br' ? file.br : file.gzip);
}

/**
 * `/app`: the creators' dashboard, a single-page app built by Vite. Hashed assets are cached for a
 * year, index.html is revalidated on every load (so a new build is picked up at once), and every
 * other path under /app is one of the app's own screens, answered with index.html.
 */
export const dashboardRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? DASHBOARD_BUILD_DIR;
  // Read on first use and kept: the build is a few hundred kB, and a missing build is looked for again.
  let build: Map<string, BuiltFile> | null = null;
  const built = () => {
    build ??= loadBuild(dir);
    if (!build) throw new UnavailableError('The dashboard is not built yet: run `npm install` or `npm start` once');
    return build;
  };

  // Static files from memory are cheap; the API calls they lead to are what the rate limit guards.
  const config = { rateLimit: false as const };
  app.get('/app', { schema: { hide: true }, config }, async (request, reply) => send(request, reply, built().get('index.html')!, 'no-cache'));
  app.get('/app/*', { schema: { hide: true }, config }, async (request, reply) => {
    const files = built();
    const wanted = (request.params as { '*': string })['*'];
    const file = files.get(wanted);
    if (file && wanted !== 'index.html') return send(request, reply, file, wanted.startsWith('assets/') ? IMMUTABLE : 'no-cache');
    // A missing file (an old asset after a new build) is a 404; a path without an extension is a screen.
    if (wanted.startsWith('assets/') || /\.[a-z0-9]+$/i.test(wanted)) throw new NotFoundError('File');
    return send(request, reply, files.get('index.html')!, 'no-cache');
  });
};
