import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpCreator } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

function post(url: string, payload?: object, headers: Record<string, string> = {}) {
  return platform.app.inject({ method: 'POST', url, headers, ...(payload !== undefined ? { payload } : {}) });
}

/** GET /v1/bots as an "am I logged in?" probe. */
function whoCanList(authorization?: string) {
  return platform.app.inject({ method: 'GET', url: '/v1/bots', headers: authorization ? { authorization } : {} });
}

/** An HS256 JWT built by hand, to present tokens the server would never issue itself. */
function handMadeJwt(payload: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }) {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

describe('signup', () => {
  it('creates a creator whose access token opens the API', async () => {
    const response = await post('/v1/auth/signup', { email: 'Coach.Anna@Example.test', password: 'a long passphrase', name: 'Anna' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.creator).toEqual({ id: expect.any(String), email: 'Coach.Anna@Example.test', name: 'Anna' });
    expect(body.refreshToken).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toContain('a long passphrase');
    expect((await whoCanList(`Bearer ${body.accessToken}`)).statusCode).toBe(200);
  });

  it('refuses an email that is already registered in any letter case', async () => {
    const { email } = await signUpCreator(platform.app);
    const response = await post('/v1/auth/signup', { email: email.toUpperCase(), password: 'another passphrase', name: 'Copycat' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('EMAIL_TAKEN');
  });

  it('names the offending field of an invalid body', async () => {
    const short = await post('/v1/auth/signup', { email: 'short@example.test', password: 'short', name: 'Short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('body.password') });

    const badEmail = await post('/v1/auth/signup', { email: 'not-an-email', password: 'long enough password', name: 'X' });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.message).toContain('body.email');

    const missingName = await post('/v1/auth/signup', { email: 'noname@example.test', password: 'long enough password' });
    expect(missingName.statusCode).toBe(400);
    expect(missingName.json().error.details.issues).toContainEqual(expect.objectContaining({ field: 'body.name' }));
  });
});

describe('login', () => {
  it('accepts the right password, case-insensitively on the email', async () => {
    const creator = await signUpCreator(platform.app);
    const response = await post('/v1/auth/login', { email: creator.email.toUpperCase(), password: creator.password });
    expect(response.statusCode).toBe(200);
    expect(response.json().creator.id).toBe(creator.creatorId);
    expect((await whoCanList(`Bearer ${response.json().accessToken}`)).statusCode).toBe(200);
  });

  it('answers a wrong password and an unknown email identically with 401', async () => {
    const creator = await signUpCreator(platform.app);
    const wrongPassword = await post('/v1/auth/login', { email: creator.email, password: 'definitely not it' });
    const unknownEmail = await post('/v1/auth/login', { email: 'nobody-here@example.test', password: 'definitely not it' });
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownEmail.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual(unknownEmail.json());
    expect(wrongPassword.json().error.code).toBe('UNAUTHORIZED');
  });
});

describe('refresh', () => {
  it('rotates: each refresh token works once and yields a working pair', async () => {
    const creator = await signUpCreator(platform.app);
    const first = await post('/v1/auth/refresh', { refreshToken: creator.refreshToken });
    expect(first.statusCode).toBe(200);
    const pair = first.json();
    expect(pair.refreshToken).not.toBe(creator.refreshToken);
    expect(pair.creator.id).toBe(creator.creatorId);
    expect((await whoCanList(`Bearer ${pair.accessToken}`)).statusCode).toBe(200);

    const second = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
    expect(second.statusCode).toBe(200);
  });

  it('treats a replayed refresh token as theft and revokes the whole family', async () => {
    const creator = await signUpCreator(platform.app);
    const rotated = (await post('/v1/auth/refresh', { refreshToken: creator.refreshToken })).json();
    const latest = (await post('/v1/auth/refresh', { refreshToken: rotated.refreshToken })).json();

    const replay = await post('/v1/auth/refresh', { refreshToken: creator.refreshToken });
    expect(replay.statusCode).toBe(401);
    // The legitimate holder's newest token is now dead too, so a thief's copy is worthless.
    expect((await post('/v1/auth/refresh', { refreshToken: latest.refreshToken })).statusCode).toBe(401);

    // A separate login is another family and keeps working.
    const other = (await post('/v1/auth/login', { email: creator.email, password: creator.password })).json();
    expect((await post('/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
  });

  it('rejects an unknown refresh token', async () => {
    const response = await post('/v1/auth/refresh', { refreshToken: 'made-up-token' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('UNAUTHORIZED');
  });
});

describe('logout', () => {
  it('ends the session of the given refresh token and leaves other sessions alone', async () => {
    const creator = await signUpCreator(platform.app);
    const laptop = (await post('/v1/auth/login', { email: creator.email, password: creator.password })).json();

    const response = await post('/v1/auth/logout', { refreshToken: creator.refreshToken }, creator.auth);
    expect(response.statusCode).toBe(204);
    expect((await post('/v1/auth/refresh', { refreshToken: creator.refreshToken })).statusCode).toBe(401);
    expect((await post('/v1/auth/refresh', { refreshToken: laptop.refreshToken })).statusCode).toBe(200);
  });

  it('without a refresh token ends every session of the creator, access tokens included', async () => {
    const creator = await signUpCreator(platform.app);
    const laptop = (await post('/v1/auth/login', { email: creator.email, password: creator.password })).json();
    expect((await whoCanList(`Bearer ${laptop.accessToken}`)).statusCode).toBe(200);
    expect((await post('/v1/auth/logout', undefined, creator.auth)).statusCode).toBe(204);
    expect((await post('/v1/auth/refresh', { refreshToken: creator.refreshToken })).statusCode).toBe(401);
    expect((await post('/v1/auth/refresh', { refreshToken: laptop.refreshToken })).statusCode).toBe(401);
    // At once, though both access tokens have most of their lifetime left.
    expect((await whoCanList(creator.auth.authorization)).statusCode).toBe(401);
    expect((await whoCanList(`Bearer ${laptop.accessToken}`)).statusCode).toBe(401);
    // A new login works again.
    const again = (await post('/v1/auth/login', { email: creator.email, password: creator.password })).json();
    expect((await whoCanList(`Bearer ${again.accessToken}`)).statusCode).toBe(200);
  });

  it('a session ended by another process is refused here within seconds', async () => {
    const creator = await signUpCreator(platform.app);
    expect((await whoCanList(creator.auth.authorization)).statusCode).toBe(200);
    // What another API process does on logout from everywhere: the version rises in the database only.
    await platform.infrastructure.database.pool.query('UPDATE public.creators SET token_version = token_version + 1 WHERE id = $1', [creator.creatorId]);
    await waitFor(async () => (await whoCanList(creator.auth.authorization)).statusCode === 401, { what: 'the cached token version to expire' });
  });

  it('a session opened on another process after ending every session works here at once', async () => {
    const creator = await signUpCreator(platform.app);
    expect((await whoCanList(creator.auth.authorization)).statusCode).toBe(200);
    // Another process ended every session and logged the creator in again: its token carries the new version.
    await platform.infrastructure.database.pool.query('UPDATE public.creators SET token_version = token_version + 1 WHERE id = $1', [creator.creatorId]);
    const now = Math.floor(Date.now() / 1000);
    const fresh = handMadeJwt({ sub: creator.creatorId, ver: 1, iat: now, exp: now + 600 }, platform.config.JWT_SECRET);
    expect((await whoCanList(`Bearer ${fresh}`)).statusCode).toBe(200);
    // The newer version was read, so the old token is refused here at once too.
    expect((await whoCanList(creator.auth.authorization)).statusCode).toBe(401);
  });

  it('cannot end another creator’s session', async () => {
    const alice = await signUpCreator(platform.app);
    const mallory = await signUpCreator(platform.app);
    expect((await post('/v1/auth/logout', { refreshToken: alice.refreshToken }, mallory.auth)).statusCode).toBe(204);
    expect((await post('/v1/auth/refresh', { refreshToken: alice.refreshToken })).statusCode).toBe(200);
  });

  it('needs authentication', async () => {
    expect((await post('/v1/auth/logout', {})).statusCode).toBe(401);
  });
});

describe('access tokens', () => {
  it('401 without, with a malformed or with a non-bearer Authorization header', async () => {
    for (const header of [undefined, 'Bearer', 'Basic dXNlcjpwYXNz', 'Bearer not.a.jwt']) {
      const response = await whoCanList(header);
      expect(response.statusCode, String(header)).toBe(401);
      expect(response.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('401 for a tampered token', async () => {
    const { accessToken } = await signUpCreator(platform.app);
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: crypto.randomUUID() }));
    expect((await whoCanList(`Bearer ${header}.${forged.toString('base64url')}.${signature}`)).statusCode).toBe(401);
  });

  it('401 for an expired token, a foreign secret or an unsigned token', async () => {
    const { creatorId } = await signUpCreator(platform.app);
    const now = Math.floor(Date.now() / 1000);
    const secret = platform.config.JWT_SECRET;
    // Control: the hand-made format is accepted while valid, so the rejections below are about expiry and signature.
    expect((await whoCanList(`Bearer ${handMadeJwt({ sub: creatorId, ver: 0, iat: now, exp: now + 600 }, secret)}`)).statusCode).toBe(200);

    const expired = handMadeJwt({ sub: creatorId, ver: 0, iat: now - 7200, exp: now - 3600 }, secret);
    expect((await whoCanList(`Bearer ${expired}`)).statusCode).toBe(401);
    const foreign = handMadeJwt({ sub: creatorId, ver: 0, iat: now, exp: now + 600 }, 'x'.repeat(48));
    expect((await whoCanList(`Bearer ${foreign}`)).statusCode).toBe(401);
    const unsigned = `${handMadeJwt({ sub: creatorId, ver: 0, iat: now, exp: now + 600 }, secret, { alg: 'none', typ: 'JWT' }).split('.').slice(0, 2).join('.')}.`;
    expect((await whoCanList(`Bearer ${unsigned}`)).statusCode).toBe(401);
  });

  it('401 for a token signed with the right secret that never expires, lacks its version or names no creator', async () => {
    const { creatorId } = await signUpCreator(platform.app);
    const now = Math.floor(Date.now() / 1000);
    const secret = platform.config.JWT_SECRET;
    for (const [label, claims] of [
      ['no exp', { sub: creatorId, ver: 0, iat: now }],
      ['no version', { sub: creatorId, iat: now, exp: now + 600 }],
      ['a newer version', { sub: creatorId, ver: 1, iat: now, exp: now + 600 }],
      ['unknown creator', { sub: crypto.randomUUID(), ver: 0, iat: now, exp: now + 600 }],
      ['subject that is not an id', { sub: 'admin', ver: 0, iat: now, exp: now + 600 }],
    ] as const) {
      const response = await whoCanList(`Bearer ${handMadeJwt(claims, secret)}`);
      expect(response.statusCode, label).toBe(401);
      expect(response.json().error.code, label).toBe('UNAUTHORIZED');
    }
    // Nor can such a token create anything for a creator that does not exist.
    const ghost = handMadeJwt({ sub: crypto.randomUUID(), ver: 0, iat: now, exp: now + 600 }, secret);
    expect((await post('/v1/bots', { name: 'Ghost' }, { authorization: `Bearer ${ghost}` })).statusCode).toBe(401);
  });

  it('expire after ACCESS_TOKEN_TTL_SECONDS', async () => {
    const { accessToken } = await signUpCreator(platform.app);
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(platform.config.ACCESS_TOKEN_TTL_SECONDS);
  });
});

describe('API documentation', () => {
  it('lists the account routes in the OpenAPI document, marking which need a bearer token', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/v1/auth/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/api-keys', '/v1/api-keys/{id}', '/v1/bots', '/v1/bots/{botId}']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.paths['/v1/auth/signup'].post.requestBody.content['application/json'].schema.required).toEqual(['email', 'password', 'name']);
    expect(doc.paths['/v1/auth/signup'].post.security).toBeUndefined();
    expect(doc.paths['/v1/bots'].post.security).toEqual([{ bearer: [] }]);
  });
});

describe('auth rate limit', () => {
  let limited: TestPlatform;
  beforeAll(async () => {
    limited = await startTestPlatform({ AUTH_RATE_LIMIT_MAX: '3' }, { workers: false });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('slows down password guessing on login with 429 after AUTH_RATE_LIMIT_MAX attempts a minute', async () => {
    const attempt = () => limited.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'victim@example.test', password: 'guess guess guess' } });
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);
    const blocked = await attempt();
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('RATE_LIMITED');
  });
});
