import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths whose values never reach a log line, wherever they appear. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["stripe-signature"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.appSecret',
  '*.apiKey',
  '*.key',
  '*.secret',
];

// Query parameters that carry credentials: WhatsApp's hub.verify_token, emailed links' token=, keys, event stream tickets.
const SECRET_QUERY_PARAMETER = /(token|secret|password|passwd|key|signature|sig|ticket)$/i;

/** `url` with the value of every credential-like query parameter replaced by [redacted]. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals === -1) return pair;
      const name = pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is logged as sent; it cannot hide a name we redact.
      }
      return SECRET_QUERY_PARAMETER.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request serializer, with credentials in the query string redacted. */
function serializeRequest(request: LoggedRequest) {
  return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

/** The process-wide structured logger; `destination` defaults to stdout. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' }, serializers: { req: serializeRequest } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
