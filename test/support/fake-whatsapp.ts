/**
 * A fake WhatsApp Cloud (Graph) API on 127.0.0.1 speaking the real protocol: `POST /v<ver>/<phone-number-id>/messages`
 * for sends and read receipts (with typing indicators), `GET /v<ver>/<media-id>` for media metadata
 * and the media download it points at. Bearer tokens are checked; errors use Graph's envelope.
 * It records what each recipient was sent, so tests assert what the user would see.
 */
import { text as readText } from 'node:stream/consumers';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonFixture } from './fixtures.js';

export interface GraphErrorEnvelope {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product?: 'whatsapp'; details: string };
    fbtrace_id: string;
  };
}

/** What to fail with: a Graph code (known ones get Meta's real title and details) or a full description. */
export interface FakeGraphError {
  code: number;
  title?: string;
  details?: string;
  subcode?: number;
  type?: string;
  /** HTTP status; 401 for auth codes, 500 for Meta's transient ones, else 400, as Graph answers. */
  httpStatus?: number;
}

const knownErrors: Record<number, { title: string; details: string }> = {
  130429: { title: 'Rate limit hit', details: 'Cloud API message throughput has been reached.' },
  131056: {
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
  131047: {
    title: 'Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  131026: { title: 'Message undeliverable', details: 'Unable to deliver message.' },
  // Meta's description of the code; the platform branches on the code alone.
  131050: {
    title: 'Unable to deliver the message',
    details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
  },
  131000: { title: 'Something went wrong', details: 'Message failed to send due to an unknown error.' },
  131009: { title: 'Parameter value is not valid', details: 'One or more parameter values are invalid.' },
  100: { title: 'Invalid parameter', details: 'Invalid parameter' },
};

/** A Graph error envelope as Meta sends it; code 190 is the real fixture. */
export function graphError(spec: FakeGraphError | number): { status: number; body: GraphErrorEnvelope } {
  const error = typeof spec === 'number' ? { code: spec } : spec;
  if (error.code === 190 && !error.title) {
    return { status: error.httpStatus ?? 401, body: jsonFixture<GraphErrorEnvelope>('whatsapp/whatsapp-api-js_graph_error_response_oauth190.json') };
  }
  const known = knownErrors[error.code];
  const title = error.title ?? known?.title ?? `Error ${error.code}`;
  const details = error.details ?? known?.details;
  const auth = error.code === 190 || error.code === 0 || error.code === 10;
  const transient = error.code === 1 || error.code === 2 || error.code === 131000;
  return {
    status: error.httpStatus ?? (auth ? 401 : transient ? 500 : 400),
    body: {
      error: {
        message: `(#${error.code}) ${title}`,
        type: error.type ?? 'OAuthException',
        code: error.code,
        ...(error.subcode !== undefined ? { error_subcode: error.subcode } : {}),
        ...(details !== undefined ? { error_data: { messaging_product: 'whatsapp' as const, details } } : {}),
        fbtrace_id: randomBytes(12).toString('base64url'),
      },
    },
  };
}

export interface FakeSentMessage {
  /** The `wamid.` the fake answered with. */
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  /** The request body as sent (`text`, `interactive`, `template`… under their type key). */
  request: Record<string, unknown>;
  /** Text the user sees: the text body, or an interactive message's body text. */
  text?: string;
  /** Receipt time by the fake's clock (`now` option, Date.now by default). */
  at: number;
}

/** A send the fake refused on the recipient's behalf (e.g. they stopped marketing messages). */
export interface FakeRefusedSend {
  to: string;
  type: string;
  code: number;
}

export interface FakeReadReceipt {
  phoneNumberId: string;
  messageId: string;
  typingIndicator?: string;
}

export type FakeRequestKind = 'send' | 'read' | 'media-info' | 'media-download' | 'other';

export interface FakeGraphRequest {
  method: string;
  path: string;
  kind: FakeRequestKind;
  status: number;
}

interface StoredMedia {
  id: string;
  bytes: Buffer;
  mimeType: string;
  reportedSize?: number;
  chunked: boolean;
}

export interface FakeWhatsAppOptions {
  /** The access token the fake accepts. */
  accessToken?: string;
  /** Clock used to stamp received messages (tests pass their virtual clock). */
  now?: () => number;
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const sendableTypes = new Set(['text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contacts', 'interactive', 'template', 'reaction']);

// The checks Graph makes that our code could get wrong; a violation is answered as Graph would.
function invalidSend(body: Record<string, unknown>): FakeGraphError | undefined {
  const invalid = (details: string): FakeGraphError => ({ code: 131009, details });
  if (body.messaging_product !== 'whatsapp') return { code: 100, details: 'messaging_product must be "whatsapp"' };
  if (typeof body.to !== 'string' || !/^\+?\d{5,20}$/.test(body.to)) return { code: 100, details: 'to must be a phone number' };
  const type = body.type;
  if (typeof type !== 'string' || !sendableTypes.has(type) || !isRecord(body[type])) return { code: 100, details: `unknown or missing message type ${String(type)}` };
  const content = body[type] as Record<string, unknown>;
  if (type === 'text') {
    if (typeof content.body !== 'string' || content.body.trim() === '') return invalid('text.body is required');
    if (content.body.length > 4096) return invalid('text.body is longer than 4096 characters');
  }
  if (type === 'interactive') {
    const text = isRecord(content.body) ? content.body.text : undefined;
    if (typeof text !== 'string' || !text || text.length > 1024) return invalid('interactive.body.text must be 1 to 1024 characters');
    const action = isRecord(content.action) ? content.action : {};
    if (content.type === 'button') {
      const buttons = Array.isArray(action.buttons) ? action.buttons : [];
      if (buttons.length < 1 || buttons.length > 3) return invalid('interactive buttons must be 1 to 3');
      for (const button of buttons) {
        const reply = isRecord(button) && button.type === 'reply' && isRecord(button.reply) ? button.reply : undefined;
        if (!reply || typeof reply.id !== 'string' || typeof reply.title !== 'string' || !reply.title || reply.title.length > 20) {
          return invalid('each button needs type reply, an id and a title of 1 to 20 characters');
        }
      }
    } else if (content.type === 'list') {
      const sections = Array.isArray(action.sections) ? action.sections : [];
      const rows = sections.flatMap((s) => (isRecord(s) && Array.isArray(s.rows) ? s.rows : []));
      if (typeof action.button !== 'string' || !action.button || action.button.length > 20) return invalid('list button must be 1 to 20 characters');
      if (rows.length < 1 || rows.length > 10) return invalid('a list has 1 to 10 rows');
      if (rows.some((r) => !isRecord(r) || typeof r.id !== 'string' || typeof r.title !== 'string' || r.title.length > 24)) {
        return invalid('each row needs an id and a title of at most 24 characters');
      }
    } else {
      return invalid(`interactive type ${String(content.type)} not supported by the fake`);
    }
  }
  if (type === 'template') {
    if (typeof content.name !== 'string' || !isRecord(content.language) || typeof content.language.code !== 'string') {
      return invalid('template needs a name and language.code');
    }
  }
  return undefined;
}

/** A local stand-in for graph.facebook.com's WhatsApp Cloud API. */
export class FakeWhatsApp {
  /** Every message accepted, oldest first. */
  readonly sent: FakeSentMessage[] = [];
  readonly reads: FakeReadReceipt[] = [];
  /** Sends refused because of the recipient's own choice, oldest first. */
  readonly refused: FakeRefusedSend[] = [];
  private readonly marketingStopped = new Set<string>();
  readonly requests: FakeGraphRequest[] = [];
  /** Media downloads served: `finished` once every byte was handed over, `closed` once the connection ended. */
  readonly downloads: Array<{ mediaId: string; finished: boolean; closed: boolean }> = [];
  accessToken: string;
  private readonly media = new Map<string, StoredMedia>();
  private readonly phoneNumbers = new Map<string, { display: string; verifiedName: string }>();
  private readonly failures: Array<{ on: FakeRequestKind; error: FakeGraphError | number }> = [];
  private readonly events = new EventEmitter();
  private readonly now: () => number;
  private server: Server | undefined;
  url = '';

  constructor(options: FakeWhatsAppOptions = {}) {
    this.accessToken = options.accessToken ?? `EAAG${randomBytes(24).toString('base64url')}`;
    this.now = options.now ?? (() => Date.now());
    this.events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((err: unknown) => {
        if (!response.headersSent) this.json(response, 500, { error: { message: (err as Error).message, type: 'FakeError', code: 1, fbtrace_id: 'fake' } });
        else response.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `count` requests of kind `on` (default sends) fail with this Graph error. */
  failNext(count: number, error: FakeGraphError | number, options: { on?: FakeRequestKind } = {}): void {
    for (let i = 0; i < count; i++) this.failures.push({ on: options.on ?? 'send', error });
  }

  /**
   * The user chose in WhatsApp to stop marketing messages from this business: from now on a template
   * sent to them is refused with Graph code 131050, while free-form messages (inside the 24-hour
   * window) still go through, as on the Cloud API.
   */
  stopMarketing(recipient: string): void {
    this.marketingStopped.add(recipient.replace(/^\+/, ''));
  }

  /** Registers a business phone number this token may use; `GET /<version>/<id>` then describes it. */
  addPhoneNumber(id: string, display = '+1 555-010-0100', verifiedName = 'Coach'): void {
    this.phoneNumbers.set(id, { display, verifiedName });
  }

  /** Makes a file downloadable by media id, as if a user had sent it. `reportedSize` lets metadata lie. */
  addMedia(bytes: Buffer, mimeType: string, options: { reportedSize?: number; chunked?: boolean } = {}): string {
    const id = String(1_000_000_000_000 + this.media.size + Math.floor(Math.random() * 1_000_000));
    this.media.set(id, { id, bytes, mimeType, chunked: options.chunked ?? false, ...(options.reportedSize !== undefined ? { reportedSize: options.reportedSize } : {}) });
    return id;
  }

  /** What one user received, oldest first. */
  sentTo(recipient: string): FakeSentMessage[] {
    return this.sent.filter((m) => m.to === recipient);
  }

  /** Resolves once `count` messages (to `to`, if given) have been accepted; event-driven, with a deadline. */
  waitForMessages(count: number, options: { to?: string; timeoutMs?: number } = {}): Promise<FakeSentMessage[]> {
    const matching = () => (options.to ? this.sentTo(options.to) : this.sent);
    if (matching().length >= count) return Promise.resolve(matching());
    return new Promise((resolve, reject) => {
      const onMessage = () => {
        if (matching().length < count) return;
        cleanup();
        resolve(matching());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out waiting for ${count} WhatsApp messages${options.to ? ` to ${options.to}` : ''}; got ${matching().length}`));
      }, options.timeoutMs ?? 10_000);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('message', onMessage);
      };
      this.events.on('message', onMessage);
    });
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    response.end(JSON.stringify(body));
  }

  private authorized(request: IncomingMessage): boolean {
    return request.headers.authorization === `Bearer ${this.accessToken}`;
  }

  private takeFailure(kind: FakeRequestKind): FakeGraphError | number | undefined {
    const index = this.failures.findIndex((f) => f.on === kind);
    if (index < 0) return undefined;
    return this.failures.splice(index, 1)[0]!.error;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const method = request.method ?? 'GET';
    const record = (kind: FakeRequestKind, status: number) => this.requests.push({ method, path: url.pathname + url.search, kind, status });
    const answer = (kind: FakeRequestKind, status: number, body: unknown) => {
      record(kind, status);
      this.json(response, status, body);
    };
    const fail = (kind: FakeRequestKind, error: FakeGraphError | number) => {
      const { status, body } = graphError(error);
      answer(kind, status, body);
    };

    const download = /^\/whatsapp_business\/attachments\/$/.exec(url.pathname);
    if (download && method === 'GET') return this.serveMedia(request, response, url, record);

    const messages = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(url.pathname);
    const node = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    const kind: FakeRequestKind = messages && method === 'POST' ? 'send' : node && method === 'GET' ? 'media-info' : 'other';
    if (kind === 'other') return answer('other', 400, graphError({ code: 100, title: 'Unsupported request', details: `${method} ${url.pathname}` }).body);
    if (!this.authorized(request)) return fail(kind, 190);

    const phone = node && method === 'GET' ? this.phoneNumbers.get(node[1]!) : undefined;
    if (phone) {
      return answer('other', 200, { id: node![1], display_phone_number: phone.display, verified_name: phone.verifiedName });
    }
    if (kind === 'media-info') {
      const injected = this.takeFailure('media-info');
      if (injected !== undefined) return fail(kind, injected);
      const media = this.media.get(node![1]!);
      if (!media) return fail(kind, { code: 100, subcode: 33, title: 'Unsupported get request', details: `Object with ID '${node![1]}' does not exist` });
      return answer(kind, 200, {
        messaging_product: 'whatsapp',
        url: `${this.url}/whatsapp_business/attachments/?mid=${media.id}&ext=${Date.now()}&hash=${randomBytes(8).toString('base64url')}`,
        mime_type: media.mimeType,
        sha256: createHash('sha256').update(media.bytes).digest('hex'),
        file_size: String(media.reportedSize ?? media.bytes.length),
        id: media.id,
      });
    }

    const phoneNumberId = messages![1]!;
    let body: unknown;
    try {
      body = JSON.parse(await readText(request));
    } catch {
      return fail('send', { code: 100, details: 'The request body is not valid JSON' });
    }
    if (!isRecord(body)) return fail('send', { code: 100, details: 'The request body must be a JSON object' });

    if (body.status === 'read') {
      const injected = this.takeFailure('read');
      if (injected !== undefined) return fail('read', injected);
      if (typeof body.message_id !== 'string' || body.messaging_product !== 'whatsapp') return fail('read', { code: 100, details: 'message_id is required' });
      const typing = isRecord(body.typing_indicator) ? body.typing_indicator.type : undefined;
      if (typing !== undefined && typing !== 'text') return fail('read', { code: 131009, details: 'typing_indicator.type must be "text"' });
      this.reads.push({ phoneNumberId, messageId: body.message_id, ...(typeof typing === 'string' ? { typingIndicator: typing } : {}) });
      return answer('read', 200, { success: true });
    }

    const injected = this.takeFailure('send');
    if (injected !== undefined) return fail('send', injected);
    const invalid = invalidSend(body);
    if (invalid) return fail('send', invalid);
    const to = body.to as string;
    const type = body.type as string;
    if (type === 'template' && this.marketingStopped.has(to.replace(/^\+/, ''))) {
      this.refused.push({ to, type, code: 131050 });
      return fail('send', 131050);
    }
    const content = body[type] as Record<string, unknown>;
    const text = type === 'text' ? (content.body as string) : type === 'interactive' && isRecord(content.body) ? (content.body.text as string) : undefined;
    const id = `wamid.${randomBytes(24).toString('base64url')}`;
    this.sent.push({ id, phoneNumberId, to, type, request: body, ...(text !== undefined ? { text } : {}), at: this.now() });
    answer('send', 200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }], messages: [{ id }] });
    this.events.emit('message');
  }

  private serveMedia(request: IncomingMessage, response: ServerResponse, url: URL, record: (kind: FakeRequestKind, status: number) => void): void {
    const unauthorized = () => {
      record('media-download', 401);
      response.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    };
    if (!this.authorized(request)) return unauthorized();
    const injected = this.takeFailure('media-download');
    if (injected !== undefined) {
      const { status, body } = graphError(injected);
      record('media-download', status);
      return this.json(response, status, body);
    }
    const media = this.media.get(url.searchParams.get('mid') ?? '');
    if (!media) {
      record('media-download', 404);
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    record('media-download', 200);
    const transfer = { mediaId: media.id, finished: false, closed: false };
    this.downloads.push(transfer);
    response.on('finish', () => {
      transfer.finished = true;
    });
    response.on('close', () => {
      transfer.closed = true;
    });
    if (!media.chunked) {
      response.writeHead(200, { 'content-type': media.mimeType, 'content-length': String(media.bytes.length) });
      response.end(media.bytes);
      return;
    }
    // No content-length: the client only learns the size by reading, as with a chunked transfer.
    response.writeHead(200, { 'content-type': media.mimeType });
    const size = 16 * 1024;
    let offset = 0;
    const pump = () => {
      while (offset < media.bytes.length) {
        const chunk = media.bytes.subarray(offset, offset + size);
        offset += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    response.on('close', () => {
      offset = media.bytes.length;
    });
    pump();
  }
}

/** Starts a fake Cloud API; pass `fake.url` as WHATSAPP_GRAPH_URL and `fake.accessToken` as the token. */
export async function startFakeWhatsApp(options: FakeWhatsAppOptions = {}): Promise<FakeWhatsApp> {
  return new FakeWhatsApp(options).start();
}
