import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface CreatorSession {
  accessToken: string;
  refreshToken: string;
  creatorId: string;
  email: string;
  password: string;
  /** Headers for `app.inject({ headers: session.auth })`. */
  auth: { authorization: string };
}

/** Signs up a fresh creator (unique email) through the public API and returns its tokens. */
export async function signUpCreator(
  app: FastifyInstance,
  overrides: { email?: string; password?: string; name?: string } = {},
): Promise<CreatorSession> {
  const email = overrides.email ?? `creator-${randomBytes(6).toString('hex')}@example.test`;
  const password = overrides.password ?? 'correct horse battery staple';
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { email, password, name: overrides.name ?? 'Test Creator' },
  });
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`);
  const body = response.json() as { accessToken: string; refreshToken: string; creator: { id: string } };
  return {
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    creatorId: body.creator.id,
    email,
    password,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** A bot as `POST /v1/bots` returns it. */
export interface CreatedBot {
  id: string;
  name: string;
  persona: string;
  language: string;
  settings: Record<string, unknown>;
  channels: Array<{ channel: string } & Record<string, unknown>>;
  createdAt: string;
  updatedAt: string;
}

/** Creates a bot through the public API for the creator whose `auth` headers are given. */
export async function createBot(
  app: FastifyInstance,
  auth: { authorization: string },
  body: Record<string, unknown> = {},
): Promise<CreatedBot> {
  const response = await app.inject({ method: 'POST', url: '/v1/bots', headers: auth, payload: { name: 'Test Bot', ...body } });
  if (response.statusCode !== 201) throw new Error(`bot creation failed: ${response.statusCode} ${response.body}`);
  return response.json() as CreatedBot;
}
