/** The dashboard's session: the refresh token in an httpOnly cookie, the access token in memory, CSRF checks on the cookie. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpCreator } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const OWN = 'https://coach.example.test';
let platform: TestPlatform;

beforeAll(async () => {
  // Behind one proxy that says the visitor came over https, as a deployment with PUBLIC_URL on https is.
  platform = await startTestPlatform({ PUBLIC_URL: OWN, TRUST_PROXY: '1' }, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

/** What the dashboard sends: its header, its Origin, the cookie it holds. */
function dashboardHeaders(cookie?: string, origin: string | null = OWN): Record<string, string> {
  return {
    'x-requested-with': 'coachbot-dashboard',
    'x-forwarded-proto': 'https',
    ...(origin === null ? {} : { origin }),
    ...(cookie ? { cookie: `coach_session=${cookie}` } : {}),
  };
}

function post(url: string, headers: Record<string, string>, payload?: object) {
  return platform.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** The session cookie a response sets: its value and attributes. */
function sessionCookie(response: { headers: Record<string, unknown> }) {
  const header = [response.headers['set-cookie']].flat().find((c): c is string => typeof c === 'string' && c.startsWith('coach_session='));
  if (!header) return null;
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  return { value: pair!.slice('coach_session='.length), attributes };
}

async function signUpInBrowser() {
  const email = `browser-${randomBytes(5).toString('hex')}@example.test`;
  const response = await post('/v1/auth/signup', dashboardHeaders(), { email, password: 'a long passphrase', name: 'Bea' });
  expect(response.statusCode).toBe(201);
  return { response, email, cookie: sessionCookie(response)!.value };
}

const listBots = (accessToken: string) => platform.app.inject({ method: 'GET', url: '/v1/bots', headers: { authorization: `Bearer ${accessToken}` } });

describe('cookie mode', () => {
  it('signs up with the refresh token only in an httpOnly, SameSite=Strict, Secure cookie scoped to /v1/auth', async () => {
    const { response } = await signUpInBrowser();
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'creator']);
    expect((await listBots(body.accessToken)).statusCode).toBe(200);
    const cookie = sessionCookie(response)!;
    expect(cookie.value.length).toBeGreaterThan(20);
    expect(cookie.attributes).toEqual(expect.arrayContaining(['Path=/v1/auth', 'HttpOnly', 'SameSite=Strict', 'Secure']));
    const maxAge = Number(cookie.attributes.find((a) => a.startsWith('Max-Age='))!.slice('Max-Age='.length));
    expect(maxAge).toBeGreaterThan(24 * 3600);
  });

  it('refreshes from the cookie alone: a new access token, a new cookie, and the old cookie is spent', async () => {
    const { cookie } = await signUpInBrowser();
    const refreshed = await post('/v1/auth/refresh', dashboardHeaders(cookie));
    expect(refreshed.statusCode).toBe(200);
    expect(Object.keys(refreshed.json()).sort()).toEqual(['accessToken', 'creator']);
    expect((await listBots(refreshed.json().accessToken)).statusCode).toBe(200);
    const rotated = sessionCookie(refreshed)!.value;
    expect(rotated).not.toBe(cookie);

    // A replayed cookie is theft (the whole family ends), and the browser is told to drop it.
    const replay = await post('/v1/auth/refresh', dashboardHeaders(cookie));
    expect(replay.statusCode).toBe(401);
    expect(sessionCookie(replay)!.attributes).toContain('Max-Age=0');
  });

  it('says "not signed in" to a browser without the cookie', async () => {
    const response = await post('/v1/auth/refresh', dashboardHeaders());
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('Not signed in');
  });

  it('logs out only this browser: the cookie is cleared and its token revoked, other sessions go on', async () => {
    const { response, email, cookie } = await signUpInBrowser();
    const script = await post('/v1/auth/login', {}, { email, password: 'a long passphrase' });
    expect(script.statusCode).toBe(200);

    const out = await post('/v1/auth/logout', { ...dashboardHeaders(cookie), authorization: `Bearer ${response.json().accessToken}` });
    expect(out.statusCode).toBe(204);
    expect(sessionCookie(out)!.attributes).toContain('Max-Age=0');
    expect((await post('/v1/auth/refresh', dashboardHeaders(cookie))).statusCode).toBe(401);
    expect((await post('/v1/auth/refresh', {}, { refreshToken: script.json().refreshToken })).statusCode).toBe(200);
  });
});

describe('cross-site requests', () => {
  it('refuses the cookie without X-Requested-With, which another site cannot send without a preflight', async () => {
    const { cookie } = await signUpInBrowser();
    const { 'x-requested-with': _header, ...withoutHeader } = dashboardHeaders(cookie);
    const response = await post('/v1/auth/refresh', withoutHeader);
    expect(response.statusCode).toBe(400);
    expect(sessionCookie(response)).toBeNull();
    // The cookie was not used: it still works from the dashboard.
    expect((await post('/v1/auth/refresh', dashboardHeaders(cookie))).statusCode).toBe(200);
  });

  it('refuses the cookie from another origin, or with no Origin at all', async () => {
    const { cookie } = await signUpInBrowser();
    for (const origin of ['https://evil.example', 'http://coach.example.test', 'null', null]) {
      const response = await post('/v1/auth/refresh', dashboardHeaders(cookie, origin));
      expect(response.statusCode, String(origin)).toBe(403);
      expect(response.json().error.code).toBe('FORBIDDEN');
      expect(sessionCookie(response)).toBeNull();
    }
    expect((await post('/v1/auth/refresh', dashboardHeaders(cookie))).statusCode).toBe(200);
  });

  it('refuses a cookie-mode sign-in posted from another site (login CSRF)', async () => {
    const creator = await signUpCreator(platform.app);
    const response = await post('/v1/auth/login', dashboardHeaders(undefined, 'https://evil.example'), { email: creator.email, password: creator.password });
    expect(response.statusCode).toBe(403);
    expect(sessionCookie(response)).toBeNull();
  });

  it('leaves scripts as they were: JSON tokens, no cookie', async () => {
    const creator = await signUpCreator(platform.app);
    const response = await post('/v1/auth/refresh', {}, { refreshToken: creator.refreshToken });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(['accessToken', 'creator', 'refreshToken']);
    expect(sessionCookie(response)).toBeNull();
  });
});
