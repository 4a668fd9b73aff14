import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountEmailService } from '../../accounts/account-email.service.js';
import type { AuthService, Session } from '../../accounts/auth.service.js';
import {
  loginBody,
  logoutBody,
  passwordResetAccepted,
  passwordResetBody,
  passwordResetConfirmBody,
  refreshBody,
  resendVerificationResponse,
  sessionResponse,
  signupBody,
  verifyEmailBody,
  verifyEmailResponse,
} from '../schemas/auth.js';
import { clearSessionCookie, isCookieMode, sessionCookieToken, setSessionCookie } from '../session-cookie.js';
import { UnauthorizedError, ValidationError } from '../../errors/app.errors.js';

interface AuthRoutesOptions {
  auth: AuthService;
  /** Email verification and password reset. */
  accountEmail: AccountEmailService;
  /** Requests per minute per client for signup, login and refresh (config.AUTH_RATE_LIMIT_MAX). */
  rateLimitMax: number;
  /** The platform's own origin (from PUBLIC_URL): the only site whose pages may use the session cookie. */
  ownOrigin: string;
}

function toResponse(app: FastifyInstance, session: Session) {
  return { accessToken: app.signAccessToken(session.creator.id, session.tokenVersion, session.sessionId), refreshToken: session.refreshToken, creator: session.creator };
}

/**
 * The answer to a sign-up, login or refresh: scripts get both tokens in JSON; the dashboard (cookie
 * mode) gets the access token, kept in memory, and the refresh token as an httpOnly cookie.
 */
function respond(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, session: Session, cookieMode: boolean) {
  const body = toResponse(app, session);
  if (!cookieMode) return body;
  setSessionCookie(request, reply, session.refreshToken, session.refreshTokenExpiresAt);
  return { accessToken: body.accessToken, creator: body.creator };
}

/** Sign-up, login, token refresh and logout for creators. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { auth, accountEmail, rateLimitMax, ownOrigin }) => {
  // Credential guessing is the threat here, so these routes get a much lower limit than the API.
  const strict = { rateLimit: { max: rateLimitMax, timeWindow: '1 minute' } };

  app.post(
    '/auth/signup',
    { config: strict, schema: { tags: ['auth'], summary: 'Create a creator account', body: signupBody, response: { 201: sessionResponse } } },
    async (request, reply) => {
      const cookieMode = isCookieMode(request, ownOrigin);
      return reply.status(201).send(respond(app, request, reply, await auth.signup(request.body), cookieMode));
    },
  );

  app.post(
    '/auth/login',
    { config: strict, schema: { tags: ['auth'], summary: 'Log in with email and password', body: loginBody, response: { 200: sessionResponse } } },
    async (request, reply) => {
      const cookieMode = isCookieMode(request, ownOrigin);
      return respond(app, request, reply, await auth.login(request.body), cookieMode);
    },
  );

  app.post(
    '/auth/refresh',
    {
      config: strict,
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new token pair (or, in cookie mode, the session cookie for a new access token and cookie)',
        body: refreshBody.nullish(),
        response: { 200: sessionResponse },
      },
    },
    async (request, reply) => {
      const given = request.body?.refreshToken;
      if (given !== undefined) return toResponse(app, await auth.refresh(given));
      if (!isCookieMode(request, ownOrigin)) throw new ValidationError('Send {"refreshToken": …}, or the session cookie with an X-Requested-With header');
      const fromCookie = sessionCookieToken(request);
      if (fromCookie === undefined) throw new UnauthorizedError('Not signed in');
      try {
        return respond(app, request, reply, await auth.refresh(fromCookie), true);
      } catch (err) {
        // A spent or revoked cookie is of no further use: the browser drops it.
        if (err instanceof UnauthorizedError) clearSessionCookie(request, reply);
        throw err;
      }
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['auth'],
        summary: 'End a session (or every session when no refresh token is given)',
        security: [{ bearer: [] }],
        body: logoutBody.nullish(),
        response: { 204: z.null().describe('Logged out') },
      },
    },
    async (request, reply) => {
      if (request.body?.refreshToken === undefined && isCookieMode(request, ownOrigin)) {
        // The dashboard ends its own session only (the one its cookie holds), never every other one.
        const fromCookie = sessionCookieToken(request);
        if (fromCookie !== undefined) await auth.logout(request.creatorId, fromCookie);
        clearSessionCookie(request, reply);
        return reply.status(204).send(null);
      }
      await auth.logout(request.creatorId, request.body?.refreshToken);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/auth/verify-email',
    {
      config: strict,
      schema: { tags: ['auth'], summary: 'Confirm an email address with the token from the verification email', body: verifyEmailBody, response: { 200: verifyEmailResponse } },
    },
    async (request) => ({ verified: true as const, email: (await accountEmail.confirmEmail(request.body.token)).email }),
  );

  app.post(
    '/auth/verify-email/resend',
    {
      onRequest: [app.authenticate],
      config: strict,
      schema: {
        tags: ['auth'],
        summary: 'Email a new verification link',
        security: [{ bearer: [] }],
        response: { 202: resendVerificationResponse },
      },
    },
    async (request, reply) => reply.status(202).send(await accountEmail.resendVerification(request.creatorId)),
  );

  app.post(
    '/auth/password-reset',
    {
      config: strict,
      schema: {
        tags: ['auth'],
        summary: 'Email a password-reset link (the answer never says whether the address has an account)',
        body: passwordResetBody,
        response: { 202: passwordResetAccepted },
      },
    },
    async (request, reply) => {
      await accountEmail.requestPasswordReset(request.body.email);
      return reply.status(202).send({ accepted: true as const });
    },
  );

  app.post(
    '/auth/password-reset/confirm',
    {
      config: strict,
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the token from the reset email; ends every session',
        body: passwordResetConfirmBody,
        response: { 204: z.null().describe('Password changed; log in again') },
      },
    },
    async (request, reply) => {
      await accountEmail.resetPassword(request.body.token, request.body.password);
      return reply.status(204).send(null);
    },
  );
};
