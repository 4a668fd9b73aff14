import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';

/**
 * A `fetch` for the SDKs we hand one to (ollama, grammY, whatsapp-api-js), built on undici's
 * `request()`: it skips what WHATWG fetch costs on every call (web streams, Request/Response/Headers
 * objects, AbortSignal composition) and node-fetch's own machinery, which is most of an SDK call's
 * CPU in a busy process.
 *
 * It implements the part of fetch those SDKs use, with fetch's semantics:
 * - request: a URL, or a Request; `method`, `headers` (object, array of pairs or Headers), `body`
 *   (string, bytes, Node stream or async iterable of bytes, as grammY's multipart uploads are) and `signal`;
 * - response: `ok`, `status`, `statusText`, `url`, `headers.get/has/forEach`, `text()`, `json()`,
 *   `arrayBuffer()`, `bodyUsed`, `body.cancel()` and `body.getReader()` (`read`, `releaseLock`,
 *   `cancel`), whose chunks are Uint8Arrays read straight off the Node stream;
 * - errors: an aborted signal rejects with its reason, before the headers and while the body is
 *   read; a failure to get a response rejects with `TypeError('fetch failed', { cause })` and a body
 *   that breaks off with `TypeError('terminated', { cause })`, as undici's fetch does.
 * It does not follow redirects, decompress, or offer clone(), blob() or formData(); none of its callers
 * need them (their servers answer directly, uncompressed unless asked).
 */
export type Fetch = typeof globalThis.fetch;

export interface UndiciFetchOptions {
  /** Connection pool; the process-wide keep-alive Agent of this module unless given. */
  dispatcher?: Dispatcher;
  /**
   * Longest wait for the response headers, and longest silence between two body chunks; undici's
   * 300 s unless given. These are undici's own coarse timers: no timer or signal per request.
   */
  timeoutMs?: number;
  /** Also cancels every request made through this fetch, whatever signal the caller passes. */
  signal?: AbortSignal;
}

let sharedAgent: Agent | undefined;

/**
 * The one keep-alive connection pool the SDK clients share, process-wide as Node's own fetch pool
 * is: undici unrefs idle sockets, so it never holds the process open at shutdown.
 */
function agent(): Agent {
  sharedAgent ??= new Agent();
  return sharedAgent;
}

const noop = (): void => undefined;

/**
 * Aborts `controller` with `signal`'s reason when `signal` aborts; returns the function that stops
 * following it. Two listeners instead of `AbortSignal.any`, whose bookkeeping costs far more per call.
 */
export function followAbort(controller: AbortController, signal: AbortSignal): () => void {
  if (signal.aborted) {
    controller.abort(signal.reason);
    return noop;
  }
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** One signal aborted by either; `release` detaches it from both once the request is over. */
function eitherSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const stopA = followAbort(controller, a);
  const stopB = followAbort(controller, b);
  return {
    signal: controller.signal,
    release: () => {
      stopA();
      stopB();
    },
  };
}

type RequestBody = string | Uint8Array | Readable | null | undefined;

function requestBody(body: unknown): RequestBody {
  if (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Readable) return body;
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false });
  throw new TypeError(`This fetch sends string, byte or stream bodies, not ${Object.prototype.toString.call(body)}`);
}

function requestHeaders(headers: unknown): Record<string, string> | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (headers instanceof Headers) return Object.fromEntries(headers);
  if (Array.isArray(headers)) return Object.fromEntries(headers as Array<[string, string]>);
  return headers as Record<string, string>;
}

/** The response headers as fetch's Headers reads them: case-insensitive, repeated values joined. */
class ResponseHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  forEach(callback: (value: string, name: string, headers: ResponseHeaders) => void): void {
    for (const name of Object.keys(this.raw)) {
      const value = this.get(name);
      if (value !== null) callback(value, name, this);
    }
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

type ReadResult = { done: false; value: Uint8Array } | { done: true; value: undefined };

const DONE: ReadResult = { done: true, value: undefined };

/** `ReadableStreamDefaultReader` over the Node stream's async iterator: no web stream in between. */
class BodyReader {
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(private readonly response: UndiciResponse) {
    this.chunks = response.raw[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  }

  read(): Promise<ReadResult> {
    return this.chunks.next().then(
      (step) => (step.done ? DONE : { done: false, value: step.value }),
      (err: unknown) => {
        throw this.response.bodyError(err);
      },
    );
  }

  /** Nothing to hand back: the stream has a single reader. */
  releaseLock(): void {}

  async cancel(reason?: unknown): Promise<void> {
    this.response.cancel(reason);
  }
}

/** The `body` of a response, as far as its readers go. */
class ResponseBody {
  constructor(private readonly response: UndiciResponse) {}

  get locked(): boolean {
    return this.response.locked;
  }

  getReader(): BodyReader {
    this.response.take();
    return new BodyReader(this.response);
  }

  /** Drops the rest of the body; as with fetch, refused while a reader or text()/json() holds it. */
  async cancel(reason?: unknown): Promise<void> {
    if (this.response.locked) throw new TypeError('Invalid state: ReadableStream is locked');
    this.response.cancel(reason);
  }
}

class UndiciResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: ResponseHeaders;
  readonly redirected = false;
  readonly type = 'basic';
  private used = false;
  private taken = false;
  private stream: ResponseBody | undefined;

  constructor(
    readonly url: string,
    readonly status: number,
    headers: Record<string, string | string[] | undefined>,
    /** undici's body stream; internal to this module. */
    readonly raw: Readable & { text(): Promise<string>; arrayBuffer(): Promise<ArrayBuffer> },
    private readonly signal: AbortSignal | undefined,
  ) {
    this.ok = status >= 200 && status <= 299;
    // undici's request() does not pass the reason phrase on; the standard one is what servers send.
    this.statusText = STATUS_CODES[status] ?? '';
    this.headers = new ResponseHeaders(headers);
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  get body(): ResponseBody {
    this.stream ??= new ResponseBody(this);
    return this.stream;
  }

  /** Whether a reader or text()/json()/arrayBuffer() has the body. */
  get locked(): boolean {
    return this.taken;
  }

  /** Marks the body as read; a body is read once, as with fetch. */
  take(): void {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    this.taken = true;
  }

  /**
   * Stops the transfer: undici aborts a request whose body is dropped before its end (closing that
   * connection rather than draining it), and a body already read to its end is only released.
   */
  cancel(reason?: unknown): void {
    this.used = true;
    // destroy() emits 'error' (undici's RequestAbortedError when no reason is given); nobody is left to hear it.
    this.raw.on('error', noop);
    this.raw.destroy(reason instanceof Error ? reason : undefined);
  }

  /** fetch's errors for a body that could not be read to its end. */
  bodyError(err: unknown): unknown {
    if (this.signal?.aborted) return this.signal.reason;
    return new TypeError('terminated', { cause: err });
  }

  async text(): Promise<string> {
    this.take();
    try {
      return await this.raw.text();
    } catch (err) {
      throw this.bodyError(err);
    }
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.take();
    try {
      return await this.raw.arrayBuffer();
    } catch (err) {
      throw this.bodyError(err);
    }
  }
}

/**
 * A Request's method, headers, body and signal as fetch options (whatsapp-api-js passes a Request);
 * options given alongside it win, as in fetch.
 */
async function unpackRequest(request: Request, init: RequestInit | undefined): Promise<{ url: string; init: RequestInit }> {
  const body = init?.body !== undefined ? init.body : request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  return { url: request.url, init: { method: request.method, headers: request.headers, signal: request.signal, ...init, body } };
}

/** A fetch over undici's `request()` and one shared keep-alive pool; see the module's note for what it covers. */
export function createUndiciFetch(options: UndiciFetchOptions = {}): Fetch {
  const { timeoutMs, signal: ownSignal } = options;
  const fetchOverUndici = async (input: string | URL | Request, given?: RequestInit): Promise<UndiciResponse> => {
    let url: string;
    let init = given;
    if (typeof input === 'string') url = input;
    else if (input instanceof URL) url = input.href;
    else ({ url, init } = await unpackRequest(input, given));
    let signal = init?.signal ?? undefined;
    let release = noop;
    if (ownSignal) {
      if (signal) ({ signal, release } = eitherSignal(signal, ownSignal));
      else signal = ownSignal;
    }
    let data: Dispatcher.ResponseData;
    try {
      data = await request(url, {
        dispatcher: options.dispatcher ?? agent(),
        method: (init?.method?.toUpperCase() ?? 'GET') as Dispatcher.HttpMethod,
        headers: requestHeaders(init?.headers) ?? null,
        body: requestBody(init?.body) ?? null,
        signal: signal ?? null,
        ...(timeoutMs !== undefined ? { headersTimeout: timeoutMs, bodyTimeout: timeoutMs } : {}),
      });
    } catch (err) {
      release();
      if (signal?.aborted) throw signal.reason;
      throw new TypeError('fetch failed', { cause: err });
    }
    if (release !== noop) data.body.once('close', release);
    return new UndiciResponse(url, data.statusCode, data.headers, data.body, signal);
  };
  // The SDKs type their option as fetch; this covers the part of it they call (see above).
  return fetchOverUndici as unknown as Fetch;
}

/** The shared-pool fetch with undici's default timeouts. */
export const undiciFetch: Fetch = createUndiciFetch();
