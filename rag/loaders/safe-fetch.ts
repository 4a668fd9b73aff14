import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { DocumentLoadError } from '../types.js';

/** Limits for fetching a creator-supplied URL on the server (SSRF guard). */
export interface SafeFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Lets self-hosters index pages on their own network; off by default. */
  allowPrivate: boolean;
  /** CIDR ranges allowed even though they are not public, e.g. one intranet host (`10.1.2.3/32`). */
  allowedRanges?: string[];
  maxRedirects?: number;
  /** Awaited before every request, redirect hops included (a crawler's politeness delay). */
  beforeEachRequest?: () => Promise<void>;
  /** Resolves a host name to every address it has; DNS (`dns.lookup`) unless replaced. */
  resolve?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface FetchedResource {
  /** The URL after redirects. */
  url: string;
  /** 200-range, or 304 when a conditional request found the page unchanged (no bytes then). */
  status: number;
  /** Validators for the next conditional request, when the server gave them. */
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** The response's media type without parameters, when it declared one. */
  mediaType?: string | undefined;
  bytes: Uint8Array;
}

const ACCEPT = [
  'text/html',
  'application/xhtml+xml',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/markdown',
  'text/vtt',
  'application/x-subrip',
  'text/plain;q=0.9',
  '*/*;q=0.5',
].join(', ');

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** How the platform names itself to web servers (and the name robots.txt rules are matched against). */
export const FETCH_USER_AGENT = 'CoachingAssistant/0.1 (knowledge-base fetcher)';

/** The server answered with a status that is neither success nor redirect; `status` tells gone (404/410) from broken. */
export class HttpStatusError extends DocumentLoadError {
  constructor(readonly status: number) {
    super(`HTTP ${status} from the server`);
  }
}

/** Validators from an earlier fetch: the server answers 304 without a body when the page is unchanged. */
export interface ConditionalHeaders {
  etag?: string | null | undefined;
  lastModified?: string | null | undefined;
}

function header(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value) || undefined;
}

/** "15 s", "0.5 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** "10 MB", "2 KB", "900 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  // ::ffff:127.0.0.1 reaches 127.0.0.1; judge it as the IPv4 address it is.
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
}

/** Why `address` may not be fetched (its range name), or undefined when it is public unicast or allowed. */
export function blockedReason(address: string, allowedRanges: string[] = []): string | undefined {
  const parsed = parseAddress(address);
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  for (const cidr of allowedRanges) {
    const [network, bits] = ipaddr.parseCIDR(cidr);
    const inside =
      parsed.kind() === 'ipv4'
        ? network.kind() === 'ipv4' && (parsed as ipaddr.IPv4).match(network as ipaddr.IPv4, bits)
        : network.kind() === 'ipv6' && (parsed as ipaddr.IPv6).match(network as ipaddr.IPv6, bits);
    if (inside) return undefined;
  }
  return range;
}

function describeRange(range: string): string {
  const names: Record<string, string> = {
    loopback: 'a loopback address',
    private: 'a private network address',
    linkLocal: 'a link-local address',
    uniqueLocal: 'a private (unique-local) network address',
    multicast: 'a multicast address',
    unspecified: 'an unspecified address',
    broadcast: 'a broadcast address',
    carrierGradeNat: 'a carrier-grade NAT address',
    reserved: 'a reserved address',
  };
  return names[range] ?? `a non-public address (${range})`;
}

/** Rejects when `signal` aborts first; DNS lookups cannot be cancelled, only abandoned. */
function abandonOnAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function resolvePublicAddress(url: URL, options: SafeFetchOptions, signal: AbortSignal): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      const resolve = options.resolve ?? ((name: string) => lookup(name, { all: true, verbatim: true }));
      addresses = await abandonOnAbort(resolve(host), signal);
    } catch {
      if (signal.aborted) throw new Error('aborted');
      throw new DocumentLoadError(`The address ${host} could not be found`);
    }
  }
  if (!addresses.length) throw new DocumentLoadError(`The address ${host} could not be found`);
  if (!options.allowPrivate) {
    // Every answer must be public: a name that resolves to both would let the connection pick the private one.
    for (const { address } of addresses) {
      const range = blockedReason(address, options.allowedRanges);
      if (range) throw new DocumentLoadError(`Address ${address} is not allowed: it is ${describeRange(range)}`);
    }
  }
  const chosen = addresses[0]!;
  return { address: chosen.address, family: chosen.family === 6 ? 6 : 4 };
}

/** A dispatcher whose every connection goes to `address`, whatever DNS says by then (no rebinding). */
function pinnedAgent(address: string, family: 4 | 6): Agent {
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (err: null, addresses: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  return new Agent({ connect: { lookup: pinnedLookup }, connections: 1, pipelining: 0 });
}

function parseUrl(raw: string, base?: string): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new DocumentLoadError(`"${raw}" is not a valid web address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DocumentLoadError('Only http and https addresses can be fetched');
  }
  if (url.username || url.password) throw new DocumentLoadError('Addresses with a user name or password are not supported');
  return url;
}

/**
 * GETs a URL a creator supplied, defending the server's network: http(s) only, every address DNS
 * returns must be public (unless allowed), the connection is pinned to the checked address, at most
 * `maxRedirects` hops each re-checked, one deadline for the whole exchange, and the body is counted
 * as it streams so an oversized response is cut off rather than buffered.
 */
export async function safeFetch(rawUrl: string, options: SafeFetchOptions, conditional: ConditionalHeaders = {}): Promise<FetchedResource> {
  const maxRedirects = options.maxRedirects ?? 5;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const tooSlow = () => new DocumentLoadError(`The page took longer than ${seconds(options.timeoutMs)}`);
  let url = parseUrl(rawUrl);
  try {
    for (let hop = 0; ; hop += 1) {
      const { address, family } = await resolvePublicAddress(url, options, controller.signal).catch((err: unknown) => {
        throw controller.signal.aborted ? tooSlow() : err;
      });
      await options.beforeEachRequest?.();
      const agent = pinnedAgent(address, family);
      try {
        let response: Awaited<ReturnType<typeof request>>;
        try {
          response = await request(url, {
            method: 'GET',
            dispatcher: agent,
            signal: controller.signal,
            maxRedirections: 0,
            headers: {
              accept: ACCEPT,
              'user-agent': FETCH_USER_AGENT,
              ...(conditional.etag ? { 'if-none-match': conditional.etag } : {}),
              ...(conditional.lastModified ? { 'if-modified-since': conditional.lastModified } : {}),
            },
          });
        } catch (err) {
          if (controller.signal.aborted) throw tooSlow();
          throw new DocumentLoadError(`The server at ${url.host} could not be reached (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
        const { statusCode, headers, body } = response;
        // Reading errors surface through the iteration below; destroying the body early (too large)
        // emits one more that nobody else would listen to.
        body.on('error', () => undefined);
        if (REDIRECTS.has(statusCode)) {
          await body.dump().catch(() => undefined);
          const location = headers.location;
          if (typeof location !== 'string' || !location) throw new DocumentLoadError(`HTTP ${statusCode} from the server without a Location to follow`);
          if (hop >= maxRedirects) throw new DocumentLoadError(`The page redirected more than ${maxRedirects} times`);
          url = parseUrl(location, url.toString());
          continue;
        }
        const validators = { etag: header(headers.etag), lastModified: header(headers['last-modified']) };
        if (statusCode === 304 && (conditional.etag || conditional.lastModified)) {
          await body.dump().catch(() => undefined);
          return { url: url.toString(), status: 304, bytes: new Uint8Array(), ...validators };
        }
        if (statusCode < 200 || statusCode >= 300) {
          await body.dump().catch(() => undefined);
          throw new HttpStatusError(statusCode);
        }
        const tooLarge = () => new DocumentLoadError(`The page is larger than ${formatBytes(options.maxBytes)}`);
        const declaredLength = Number(headers['content-length']);
        if (Number.isFinite(declaredLength) && declaredLength > options.maxBytes) {
          body.destroy();
          throw tooLarge();
        }
        const chunks: Buffer[] = [];
        let received = 0;
        try {
          for await (const chunk of body) {
            received += (chunk as Buffer).length;
            if (received > options.maxBytes) {
              body.destroy();
              throw tooLarge();
            }
            chunks.push(chunk as Buffer);
          }
        } catch (err) {
          if (err instanceof DocumentLoadError) throw err;
          if (controller.signal.aborted) throw tooSlow();
          throw new DocumentLoadError(`The connection to ${url.host} broke off while reading the page`);
        }
        const contentType = headers['content-type'];
        const mediaType = (Array.isArray(contentType) ? contentType[0] : contentType)?.split(';')[0]?.trim().toLowerCase();
        return { url: url.toString(), status: statusCode, mediaType: mediaType || undefined, bytes: new Uint8Array(Buffer.concat(chunks)), ...validators };
      } finally {
        await agent.destroy().catch(() => undefined);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
