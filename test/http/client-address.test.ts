import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

// `app.inject` connects from 127.0.0.1: the "proxy" in these tests.
const login = (platform: TestPlatform, forwardedFor: string) =>
  platform.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'x-forwarded-for': forwardedFor },
    payload: { email: 'victim@example.test', password: 'guess guess guess' },
  });

const probe = (platform: TestPlatform, forwardedFor: string) =>
  platform.app.inject({ method: 'GET', url: '/no-such-page', headers: { 'x-forwarded-for': forwardedFor } });

describe('with the default TRUST_PROXY (off)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ AUTH_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '5' }, { workers: false });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('a client cannot escape the login limit by sending a new X-Forwarded-For each time', async () => {
    for (let i = 1; i <= 3; i++) expect((await login(platform, `198.51.100.${i}`)).statusCode).toBe(401);
    const blocked = await login(platform, '198.51.100.99');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('RATE_LIMITED');
  });

  it('nor the global limit', async () => {
    for (let i = 1; i <= 5; i++) expect((await probe(platform, `198.51.100.${i}`)).statusCode).toBe(404);
    expect((await probe(platform, '198.51.100.99')).statusCode).toBe(429);
  });
});

// The proxy named by its address, and as the one hop in front.
describe.each(['127.0.0.1', '1'])('behind a trusted proxy (TRUST_PROXY=%s)', (trustProxy) => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ AUTH_RATE_LIMIT_MAX: '3', RATE_LIMIT_MAX: '5', TRUST_PROXY: trustProxy }, { workers: false });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('limits each real client address on its own', async () => {
    for (let i = 0; i < 3; i++) expect((await login(platform, '203.0.113.10')).statusCode).toBe(401);
    expect((await login(platform, '203.0.113.10')).statusCode).toBe(429);
    // Another client behind the same proxy still gets to try.
    expect((await login(platform, '203.0.113.20')).statusCode).toBe(401);
  });

  it('keys on the address the proxy saw, not one the client wrote in front of it', async () => {
    // The client sent "X-Forwarded-For: 192.0.2.<n>"; the proxy appended the address it saw.
    for (let i = 1; i <= 3; i++) expect((await login(platform, `192.0.2.${i}, 203.0.113.30`)).statusCode).toBe(401);
    expect((await login(platform, '192.0.2.99, 203.0.113.30')).statusCode).toBe(429);
  });

  it('applies the global limit per real client as well', async () => {
    for (let i = 0; i < 5; i++) expect((await probe(platform, '203.0.113.40')).statusCode).toBe(404);
    expect((await probe(platform, '203.0.113.40')).statusCode).toBe(429);
    expect((await probe(platform, '203.0.113.41')).statusCode).toBe(404);
  });
});
