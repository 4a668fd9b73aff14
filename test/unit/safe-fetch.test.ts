import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedReason, safeFetch, type SafeFetchOptions } from '../../rag/loaders/safe-fetch.js';
import { loadFailureReason } from '../support/load-failure.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let origin: string;
const sockets = new Set<Socket>();
const routes = new Map<string, Handler>();
/** Per path: whether the server got to finish writing the response. */
const finished = new Map<string, boolean>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const handler = routes.get(req.url ?? '') ?? ((_q: IncomingMessage, r: ServerResponse) => r.writeHead(404).end('not here'));
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set('/page', (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<p>Hello</p>'));
  routes.set('/hop1', (_req, res) => res.writeHead(302, { location: '/hop2' }).end());
  routes.set('/hop2', (_req, res) => res.writeHead(301, { location: `${origin}/page` }).end());
  routes.set('/to-metadata', (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
  routes.set('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
  routes.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
  routes.set('/missing', (_req, res) => res.writeHead(404).end('gone'));
  routes.set('/declared-huge', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(50 * 1024 * 1024) });
    res.write('%PDF-1.4\n');
    res.on('close', () => finished.set('/declared-huge', res.writableFinished));
  });
  routes.set('/endless', (_req, res) => {
    // Chunked, no length: only counting the bytes as they arrive can stop this one.
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const pump = () => {
      while (sent < 20 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => finished.set('/endless', res.writableFinished));
    pump();
  });
  routes.set('/silent', () => {
    // Accepts the request and never answers.
  });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const base: SafeFetchOptions = { timeoutMs: 2_000, maxBytes: 64 * 1024, allowPrivate: false };
// Only the test server's own address is let through, so every other non-public address stays blocked.
const serverOnly: SafeFetchOptions = { ...base, allowedRanges: ['127.0.0.1/32'] };


describe('fetching a creator-supplied URL', () => {
  it('refuses loopback addresses by default, saying which address and why', async () => {
    expect(await loadFailureReason(safeFetch(`${origin}/page`, base))).toBe('Address 127.0.0.1 is not allowed: it is a loopback address');
    expect(await loadFailureReason(safeFetch(`http://[::1]:1/`, base))).toBe('Address ::1 is not allowed: it is a loopback address');
    expect(await loadFailureReason(safeFetch(`http://localhost:${new URL(origin).port}/page`, base))).toMatch(/^Address (127\.0\.0\.1|::1) is not allowed/);
  });

  it('fetches private addresses when the operator allows them', async () => {
    const page = await safeFetch(`${origin}/page`, { ...base, allowPrivate: true });
    expect(Buffer.from(page.bytes).toString()).toBe('<p>Hello</p>');
    expect(page.mediaType).toBe('text/html');
    expect(page.url).toBe(`${origin}/page`);
  });

  it('follows redirects and reports the final address', async () => {
    const page = await safeFetch(`${origin}/hop1`, serverOnly);
    expect(page.url).toBe(`${origin}/page`);
    expect(Buffer.from(page.bytes).toString()).toBe('<p>Hello</p>');
  });

  it('re-checks every redirect: a hop to the cloud metadata address or a file is refused', async () => {
    expect(await loadFailureReason(safeFetch(`${origin}/to-metadata`, serverOnly))).toBe('Address 169.254.169.254 is not allowed: it is a link-local address');
    expect(await loadFailureReason(safeFetch(`${origin}/to-file`, serverOnly))).toBe('Only http and https addresses can be fetched');
  });

  it('connects to the address it checked, so DNS cannot be switched after the check (rebinding)', async () => {
    const answers = ['127.0.0.1', '10.0.0.1'];
    const lookups: string[] = [];
    const resolve = async (hostname: string) => {
      lookups.push(hostname);
      return [{ address: answers[Math.min(lookups.length - 1, 1)]!, family: 4 }];
    };
    // `rebind.test` exists only in this resolver: had the connection looked the name up again, it
    // would have failed (system DNS) or reached 10.0.0.1 (this resolver's second answer).
    const page = await safeFetch(`http://rebind.test:${new URL(origin).port}/page`, { ...serverOnly, resolve });
    expect(Buffer.from(page.bytes).toString()).toBe('<p>Hello</p>');
    expect(lookups).toEqual(['rebind.test']);
  });

  it('refuses a name when any of its addresses is private', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '192.168.0.7', family: 4 },
    ];
    expect(await loadFailureReason(safeFetch('http://mixed.test/', { ...base, resolve }))).toBe('Address 192.168.0.7 is not allowed: it is a private network address');
  });

  it('gives up after five redirects', async () => {
    expect(await loadFailureReason(safeFetch(`${origin}/loop`, serverOnly))).toBe('The page redirected more than 5 times');
  });

  it('reports the HTTP status of a failed page', async () => {
    expect(await loadFailureReason(safeFetch(`${origin}/missing`, serverOnly))).toBe('HTTP 404 from the server');
  });

  it('stops reading a body that grows past the limit instead of buffering it', async () => {
    expect(await loadFailureReason(safeFetch(`${origin}/endless`, serverOnly))).toBe('The page is larger than 64 KB');
    await expect.poll(() => finished.get('/endless')).toBe(false);
    expect(await loadFailureReason(safeFetch(`${origin}/declared-huge`, { ...serverOnly, maxBytes: 10 * 1024 * 1024 }))).toBe('The page is larger than 10 MB');
    await expect.poll(() => finished.get('/declared-huge')).toBe(false);
  });

  it('gives up on a server that does not answer in time', async () => {
    const started = Date.now();
    expect(await loadFailureReason(safeFetch(`${origin}/silent`, { ...serverOnly, timeoutMs: 300 }))).toBe('The page took longer than 0.3 s');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses other schemes and credentials in the address', async () => {
    expect(await loadFailureReason(safeFetch('ftp://example.com/file.pdf', base))).toBe('Only http and https addresses can be fetched');
    expect(await loadFailureReason(safeFetch('http://user:secret@example.com/', base))).toBe('Addresses with a user name or password are not supported');
    expect(await loadFailureReason(safeFetch('not a url', base))).toBe('"not a url" is not a valid web address');
  });
});

describe('which addresses are public', () => {
  it('blocks every non-public range, including IPv4 hidden in IPv6', () => {
    const cases: Record<string, string> = {
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '192.168.1.10': 'private',
      '169.254.169.254': 'linkLocal',
      '100.64.0.1': 'carrierGradeNat',
      '0.0.0.0': 'unspecified',
      '224.0.0.1': 'multicast',
      '255.255.255.255': 'broadcast',
      '::1': 'loopback',
      '::': 'unspecified',
      'fc00::1': 'uniqueLocal',
      'fe80::1': 'linkLocal',
      'ff02::1': 'multicast',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:10.0.0.1': 'private',
    };
    for (const [address, range] of Object.entries(cases)) expect(blockedReason(address), address).toBe(range);
  });

  it('lets public addresses through', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(blockedReason(address), address).toBeUndefined();
  });
});
