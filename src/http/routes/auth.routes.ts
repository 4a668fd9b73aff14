import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService, Session } from '../../accounts/auth.service.js';
import { loginBody, logoutBody, refreshBody, sessionResponse, signupBody } from '../schemas/auth.js';

interface AuthRoutesOptions {
  auth: AuthService;
  /** Requests per minute per client for signup, login and refresh (config.AUTH_RATE_LIMIT_MAX). */
  rateLimitMax: number;
}

function toResponse(app: FastifyInstance, session: Session) {
  return { accessToken: app.signAccessToken(session.creator.id), refreshToken: session.refreshToken, creator: session.creator };
}

/** Sign-up, login, token refresh and logout for creators. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { auth, rateLimitMax }) => {
  // Credential guessing is the threat here, so these routes get a much lower limit than the API.
  const strict = { rateLimit: { max: rateLimitMax, timeWindow: '1 minute' } };

  app.post(
    '/auth/signup',
    { config: strict, schema: { tags: ['auth'], summary: 'Create a creator account', body: signupBody, response: { 201: sessionResponse } } },
    async (request, reply) => reply.status(201).send(toResponse(app, await auth.signup(request.body))),
  );

  app.post(
    '/auth/login',
    { config: strict, schema: { tags: ['auth'], summary: 'Log in with email and password', body: loginBody, response: { 200: sessionResponse } } },
    async (request) => toResponse(app, await auth.login(request.body)),
  );

  app.post(
    '/auth/refresh',
    {
      config: strict,
      schema: { tags: ['auth'], summary: 'Exchange a refresh token for a new token pair', body: refreshBody, response: { 200: sessionResponse } },
    },
    async (request) => toResponse(app, await auth.refresh(request.body.refreshToken)),
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
      await auth.logout(request.creatorId, request.body?.refreshToken);
      return reply.status(204).send(null);
    },
  );
};
