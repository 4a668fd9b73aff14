import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/**
 * The headers every HTML page of ours is served with, whatever it loads: its content policy, no
 * MIME sniffing, no referrer, and no framing by another site (old browsers read X-Frame-Options).
 * A page some sites may frame leaves X-Frame-Options out: it cannot name sites, and its policy's
 * frame-ancestors says which.
 */
export function pageSecurityHeaders(contentSecurityPolicy: string, options: { framedBySomeSites?: boolean } = {}): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(options.framedBySomeSites ? {} : { 'x-frame-options': 'DENY' }),
  };
}

/**
 * Sends one of our small HTML pages under a strict policy: no caching, no referrer, and only the
 * inline script and style carrying this response's nonce may run.
 */
export function sendHtmlPage(
  reply: FastifyReply,
  render: (nonce: string) => string,
  options: {
    formAction: 'self' | 'none';
    /** Sites (scheme://host[:port], already validated) that may show the page in a frame; none by default. */
    frameAncestors?: readonly string[];
  },
) {
  const nonce = randomBytes(16).toString('base64');
  const ancestors = options.frameAncestors ?? [];
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .headers(
      pageSecurityHeaders(
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action '${options.formAction}'; frame-ancestors ${ancestors.length ? ancestors.join(' ') : "'none'"}`,
        { framedBySomeSites: ancestors.length > 0 },
      ),
    )
    .send(render(nonce));
}
