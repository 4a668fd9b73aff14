import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * Sends one of our small HTML pages under a strict policy: no caching, no referrer, and only the
 * inline script and style carrying this response's nonce may run.
 */
export function sendHtmlPage(reply: FastifyReply, render: (nonce: string) => string, options: { formAction: 'self' | 'none' }) {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action '${options.formAction}'; frame-ancestors 'none'`,
    )
    .send(render(nonce));
}
