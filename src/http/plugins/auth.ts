import jwt from '@fastify/jwt';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { API_KEY_PREFIX } from '../../accounts/api-key.service.js';
import type { Credential } from '../../accounts/credential.service.js';
import { UnauthorizedError } from '../../errors/app.errors.js';

/** What the plugin needs to recognise an API key: the creator it belongs to and its id, or null. */
export interface ApiKeyAuthenticator {
  authenticate(key: string): Promise<{ creatorId: string; keyId: string } | null>;
}

/** Whether a creator's access token of a given token version is still good (false for unknown creators). */
export interface AccessTokenVersions {
  acceptsAccessToken(creatorId: string, version: number): Promise<boolean>;
}

export interface AuthPluginOptions {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  apiKeys: ApiKeyAuthenticator;
  sessions: AccessTokenVersions;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: rejects with 401 unless a valid access token or API key is presented. */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** Issues a short-lived access token (HS256 JWT) for a creator, carrying the creator's token version and the login it belongs to. */
    signAccessToken(creatorId: string, tokenVersion: number, sessionId?: string): string;
  }
  interface FastifyRequest {
    /** The authenticated creator; set by `authenticate`. */
    creatorId: string;
    /** What the creator authenticated with; set by `authenticate` (null before). */
    credential: Credential | null;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; ver: number; sid?: string };
    user: { sub: string; ver: number; sid?: string };
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Bearer authentication by JWT access token or API key, shared by every `/v1` route that needs a creator. */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    await app.register(jwt, {
      secret: options.jwtSecret,
      // @fastify/jwt takes numeric time spans in seconds (and converts them for fast-jwt).
      sign: { algorithm: 'HS256', expiresIn: options.accessTokenTtlSeconds },
      verify: { algorithms: ['HS256'] },
    });

    app.decorateRequest('creatorId', '');
    app.decorateRequest('credential', null);

    app.decorate('signAccessToken', (creatorId: string, tokenVersion: number, sessionId?: string) =>
      app.jwt.sign({ sub: creatorId, ver: tokenVersion, ...(sessionId ? { sid: sessionId } : {}) }),
    );

    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthorizedError('Authentication required: send Authorization: Bearer <access token or API key>');

      // Anything without the API key prefix is treated as a JWT.
      if (token.startsWith(API_KEY_PREFIX)) {
        const key = await options.apiKeys.authenticate(token);
        if (!key) throw new UnauthorizedError('Invalid API key');
        request.creatorId = key.creatorId;
        request.credential = { kind: 'api_key', keyId: key.keyId };
        return;
      }

      let payload: { sub?: unknown; ver?: unknown; exp?: unknown; sid?: unknown };
      try {
        payload = app.jwt.verify<typeof payload>(token);
      } catch {
        throw new UnauthorizedError('Invalid or expired access token');
      }
      // A token that never expires is not one we issued; one without our claims cannot be checked for revocation.
      if (typeof payload.sub !== 'string' || !payload.sub || typeof payload.exp !== 'number' || !Number.isSafeInteger(payload.ver)) {
        throw new UnauthorizedError('Invalid or expired access token');
      }
      // Logout from everywhere and password reset raise the version: older tokens die at once, not at expiry.
      // An unknown creator (deleted, or a subject that was never ours) has no version at all.
      if (!(await options.sessions.acceptsAccessToken(payload.sub, payload.ver as number))) {
        throw new UnauthorizedError('This session has ended; log in again');
      }
      request.creatorId = payload.sub;
      request.credential = { kind: 'session', sessionId: typeof payload.sid === 'string' ? payload.sid : null, tokenVersion: payload.ver as number };
    });
  },
  { name: 'auth', fastify: '5.x' },
);
