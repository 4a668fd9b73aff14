import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
});
afterAll(async () => {
  await platform?.stop();
});

async function createKey(auth: { authorization: string }, name = 'CI script') {
  const response = await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: auth, payload: { name } });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: string; name: string; prefix: string; key: string; createdAt: string };
}

function listBots(authorization: string) {
  return platform.app.inject({ method: 'GET', url: '/v1/bots', headers: { authorization } });
}

describe('API keys', () => {
  it('work as a bearer token for the creator who made them', async () => {
    const creator = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, creator.auth, { name: 'Key test bot' });
    const created = await createKey(creator.auth);
    expect(created.key).toMatch(/^ck_[\w-]{40,}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBeLessThan(created.key.length / 2);

    const response = await listBots(`Bearer ${created.key}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().bots.map((b: { id: string }) => b.id)).toEqual([bot.id]);
  });

  it('are listed without their secret, with when they were last used', async () => {
    const creator = await signUpCreator(platform.app);
    const created = await createKey(creator.auth, 'Zapier');
    const before = (await platform.app.inject({ method: 'GET', url: '/v1/api-keys', headers: creator.auth })).json();
    expect(before.apiKeys).toEqual([{ id: created.id, name: 'Zapier', prefix: created.prefix, createdAt: created.createdAt, lastUsedAt: null }]);

    await listBots(`Bearer ${created.key}`);
    const after = await platform.app.inject({ method: 'GET', url: '/v1/api-keys', headers: creator.auth });
    expect(after.body).not.toContain(created.key);
    expect(after.json().apiKeys[0].lastUsedAt).toEqual(expect.any(String));

    // Stored only as a hash: a database leak does not hand out working keys.
    const { rows } = await platform.infrastructure.database.pool.query('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(JSON.stringify(rows)).not.toContain(created.key);
  });

  it('stop working once deleted', async () => {
    const creator = await signUpCreator(platform.app);
    const created = await createKey(creator.auth);
    const deleted = await platform.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: creator.auth });
    expect(deleted.statusCode).toBe(204);
    const rejected = await listBots(`Bearer ${created.key}`);
    expect(rejected.statusCode).toBe(401);
    expect(rejected.json().error.code).toBe('UNAUTHORIZED');
    expect((await platform.app.inject({ method: 'GET', url: '/v1/api-keys', headers: creator.auth })).json().apiKeys).toEqual([]);
  });

  it('cannot be seen or deleted by another creator', async () => {
    const owner = await signUpCreator(platform.app);
    const other = await signUpCreator(platform.app);
    const created = await createKey(owner.auth);
    expect((await platform.app.inject({ method: 'GET', url: '/v1/api-keys', headers: other.auth })).json().apiKeys).toEqual([]);
    const response = await platform.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: other.auth });
    expect(response.statusCode).toBe(404);
    expect((await listBots(`Bearer ${created.key}`)).statusCode).toBe(200);
  });

  it('answer 404 for unknown and malformed ids, 401 for made-up keys, 400 without a name', async () => {
    const creator = await signUpCreator(platform.app);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await platform.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: creator.auth });
      expect(response.statusCode, id).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
    expect((await listBots('Bearer ck_made-up-key')).statusCode).toBe(401);
    const noName = await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: creator.auth, payload: {} });
    expect(noName.statusCode).toBe(400);
    expect(noName.json().error.message).toContain('body.name');
  });

  it('need authentication to manage', async () => {
    expect((await platform.app.inject({ method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(401);
    expect((await platform.app.inject({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x' } })).statusCode).toBe(401);
  });
});
