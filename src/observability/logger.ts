import { pino, type Logger } from 'pino';

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

/** The process-wide structured logger. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' } });
}

export type { Logger };
