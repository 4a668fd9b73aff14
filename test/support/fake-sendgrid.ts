import { text } from 'node:stream/consumers';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Address {
  email: string;
  name?: string;
}

/** A message the fake accepted, flattened for assertions; `body` is the v3 request as sent. */
export interface ReceivedMail {
  messageId: string;
  to: string[];
  from: Address;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  categories: string[];
  customArgs: Record<string, string>;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

interface SendGridError {
  message: string;
  field: string | null;
  help: string | null;
}

/** A local stand-in for api.sendgrid.com's v3 Mail Send endpoint. */
export interface FakeSendGrid {
  /** For SENDGRID_API_BASE, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** Every request, accepted or not. */
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
  /** The next `times` sends answer `status` (429 or 5xx) with SendGrid's error body. */
  failNext(status: number, times?: number): void;
  close(): Promise<void>;
}

export interface FakeSendGridOptions {
  /** Only this key is accepted; by default any `SG.` key is. */
  apiKey?: string;
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';


/** The validation SendGrid applies before accepting a message (the parts our mailer can get wrong). */
function validate(body: Record<string, unknown>): SendGridError[] {
  const errors: SendGridError[] = [];
  const personalizations = body.personalizations as Array<{ to?: Address[] }> | undefined;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    errors.push({ message: 'The personalizations field is required and must have at least one personalization.', field: 'personalizations', help: `${HELP}#-Personalizations-Errors` });
  } else if (personalizations.some((p) => !Array.isArray(p.to) || p.to.length === 0)) {
    errors.push({ message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.', field: 'personalizations.0.to', help: `${HELP}#message.personalizations.to` });
  }
  const from = body.from as Address | undefined;
  if (!from?.email) {
    errors.push({ message: 'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.', field: 'from', help: `${HELP}#message.from` });
  }
  const content = body.content as Array<{ type?: string; value?: string }> | undefined;
  if (!body.template_id) {
    if (!body.subject) errors.push({ message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.', field: 'subject', help: `${HELP}#message.subject` });
    if (!Array.isArray(content) || content.length === 0 || content.some((c) => !c.value)) {
      errors.push({ message: 'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.', field: 'content', help: `${HELP}#message.content` });
    } else {
      const types = content.map((c) => c.type);
      const plain = types.indexOf('text/plain');
      const htmlIndex = types.indexOf('text/html');
      if ((plain > 0) || (htmlIndex >= 0 && plain >= 0 && htmlIndex < plain)) {
        errors.push({ message: 'If present, text/plain must be first, followed by text/html, followed by any other content.', field: 'content', help: `${HELP}#message.content` });
      }
    }
  }
  const categories = body.categories as string[] | undefined;
  if (Array.isArray(categories) && categories.length > 10) errors.push({ message: 'Too many categories; at most 10.', field: 'categories', help: `${HELP}#message.categories` });
  return errors;
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeSendGrid(options: FakeSendGridOptions = {}): Promise<FakeSendGrid> {
  const messages: ReceivedMail[] = [];
  const requests: FakeSendGrid['requests'] = [];
  let failures: { status: number; times: number } | null = null;

  function send(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
    response.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const raw = await text(request);
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body: raw });
    const auth = request.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const accepted = options.apiKey ? key === options.apiKey : key.startsWith('SG.');
    if (!accepted) {
      return send(response, 401, { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] });
    }
    if (request.method !== 'POST' || path !== '/v3/mail/send') {
      return send(response, 404, { errors: [{ message: 'Not Found', field: null, help: null }] });
    }
    if (failures && failures.times > 0) {
      failures.times--;
      const { status } = failures;
      if (failures.times === 0) failures = null;
      if (status === 429) {
        return send(response, 429, { errors: [{ message: 'too many requests', field: null, help: null }] }, {
          'x-ratelimit-limit': '600',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30),
        });
      }
      return send(response, status, { errors: [{ message: 'Internal server error', field: null, help: null }] });
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(response, 400, { errors: [{ message: 'Bad Request', field: null, help: null }] });
    }
    const errors = validate(body);
    if (errors.length) return send(response, 400, { errors });
    const messageId = randomBytes(16).toString('base64url').slice(0, 22);
    const personalizations = body.personalizations as Array<{ to: Address[]; custom_args?: Record<string, string> }>;
    const content = (body.content as Array<{ type: string; value: string }> | undefined) ?? [];
    messages.push({
      messageId,
      to: personalizations.flatMap((p) => p.to.map((a) => a.email)),
      from: body.from as Address,
      subject: String(body.subject ?? ''),
      text: content.find((c) => c.type === 'text/plain')?.value,
      html: content.find((c) => c.type === 'text/html')?.value,
      categories: (body.categories as string[] | undefined) ?? [],
      customArgs: { ...((body.custom_args as Record<string, string> | undefined) ?? {}), ...(personalizations[0]?.custom_args ?? {}) },
      headers: (body.headers as Record<string, string> | undefined) ?? {},
      body,
    });
    return send(response, 202, undefined, { 'x-message-id': messageId });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((err: Error) => send(response, 500, { errors: [{ message: err.message, field: null, help: null }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    messages,
    requests,
    failNext(status, times = 1) {
      failures = { status, times };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Signs Event Webhook deliveries the way SendGrid does, with a fresh P-256 key pair. */
export interface EventWebhookSigner {
  /** For SENDGRID_WEBHOOK_PUBLIC_KEY: base64 of the DER SubjectPublicKeyInfo, as SendGrid's settings page shows it. */
  readonly publicKey: string;
  /** Headers for this body: ECDSA-SHA256 over timestamp + body, base64 DER signature. */
  sign(body: string | Buffer, timestamp?: number): { signature: string; timestamp: string; headers: Record<string, string> };
}

/** A new signer (and key pair) per call. */
export function createEventWebhookSigner(): EventWebhookSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicDer = (publicKey as KeyObject).export({ format: 'der', type: 'spki' });
  return {
    publicKey: publicDer.toString('base64'),
    sign(body, timestamp = Math.floor(Date.now() / 1000)) {
      const ts = String(timestamp);
      const payload = Buffer.concat([Buffer.from(ts, 'utf8'), typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
      const signature = sign('sha256', payload, privateKey).toString('base64');
      return {
        signature,
        timestamp: ts,
        headers: {
          'X-Twilio-Email-Event-Webhook-Signature': signature,
          'X-Twilio-Email-Event-Webhook-Timestamp': ts,
        },
      };
    },
  };
}

/** A SendGrid Event Webhook event with realistic fields; override any. */
export function sendGridEvent(event: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    email: 'creator@example.com',
    timestamp: Math.floor(Date.now() / 1000),
    'smtp-id': `<${randomBytes(8).toString('hex')}@ismtpd-555>`,
    event,
    category: ['weekly-digest'],
    sg_event_id: randomBytes(16).toString('base64url'),
    sg_message_id: `${randomBytes(16).toString('base64url').slice(0, 22)}.filter0001.16648.5515E0B88.0`,
  };
  if (event === 'bounce') Object.assign(base, { reason: '550 5.1.1 The email account that you tried to reach does not exist.', status: '5.1.1', type: 'bounce', bounce_classification: 'Invalid Address' });
  if (event === 'dropped') Object.assign(base, { reason: 'Bounced Address', status: '5.0.0' });
  if (event === 'group_unsubscribe' || event === 'group_resubscribe') Object.assign(base, { asm_group_id: 10, useragent: 'Mozilla/5.0', ip: '255.255.255.255' });
  if (event === 'delivered') Object.assign(base, { response: '250 OK' });
  return { ...base, ...fields };
}
