import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../errors/app.errors.js';

/**
 * The dashboard's refresh token travels in this cookie, never in what scripts can read: httpOnly,
 * SameSite=Strict, sent only to the auth endpoints (the only ones that read it), Secure over https.
 */
export const SESSION_COOKIE = 'coach_session';
/** The only path the browser sends the cookie to. */
export const SESSION_COOKIE_PATH = '/v1/auth';
/**
 * The header that asks for cookie mode. A page on another site cannot send it without a CORS
 * preflight, which the platform never grants, so its presence is the first half of the CSRF check.
 */
export const COOKIE_MODE_HEADER = 'x-requested-with';

/** The session cookie's value from the Cookie header, if any. */
export function sessionCookieToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * Whether the request is the dashboard's (it sends X-Requested-With) and, if so, that it comes from
 * the platform's own pages: browsers always send Origin on a POST and pages cannot forge it, so an
 * absent or foreign Origin is refused (the second half of the CSRF check).
 */
export function isCookieMode(request: FastifyRequest, ownOrigin: string): boolean {
  if (!request.headers[COOKIE_MODE_HEADER]) return false;
  const origin = request.headers.origin;
  if (origin !== ownOrigin && origin !== `${request.protocol}://${request.host}`) {
    request.log.info({ origin }, 'auth: a cookie-mode request from another origin refused');
    throw new ForbiddenError('The session cookie may be used only by the platform’s own pages');
  }
  return true;
}

function cookieAttributes(request: FastifyRequest, maxAgeSeconds: number): string {
  return `Path=${SESSION_COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${request.protocol === 'https' ? '; Secure' : ''}`;
}

/** Sets the session cookie to a refresh token that expires at `expiresAt`. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  reply.header('set-cookie', `${SESSION_COOKIE}=${token}; ${cookieAttributes(request, maxAge)}`);
}

/** Tells the browser to drop the session cookie. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieAttributes(request, 0)}`);
}
