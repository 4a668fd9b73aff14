import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotService } from '../../src/bots/bot.service.js';
import { BotRepository } from '../../src/db/bot.repository.js';
import { SecretBox } from '../../src/security/secret-box.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
});
afterAll(async () => {
  await platform?.stop();
});

function request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, auth: { authorization: string }, payload?: object) {
  return platform.app.inject({ method, url, headers: auth, ...(payload !== undefined ? { payload } : {}) });
}

describe('bots CRUD', () => {
  it('creates a bot with defaults filled in', async () => {
    const response = await request('POST', '/v1/bots', alice.auth, { name: 'Habit coach' });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({
      id: expect.any(String),
      name: 'Habit coach',
      persona: '',
      language: 'en',
      settings: { temperature: 0.3, citeSources: true, mergeWindowMs: 1500 },
      channels: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('reads, lists, partially updates and deletes', async () => {
    const creator = await signUpCreator(platform.app);
    const bot = await createBot(platform.app, creator.auth, {
      name: 'Running coach',
      persona: 'Encouraging, brief.',
      language: 'pt-BR',
      settings: { temperature: 0.7, citeSources: false, welcomeMessage: 'Olá!' },
    });
    expect(bot.settings).toEqual({ temperature: 0.7, citeSources: false, welcomeMessage: 'Olá!', mergeWindowMs: 1500 });

    expect((await request('GET', `/v1/bots/${bot.id}`, creator.auth)).json()).toEqual(bot);
    expect((await request('GET', '/v1/bots', creator.auth)).json()).toEqual({ bots: [bot] });

    const renamed = await request('PATCH', `/v1/bots/${bot.id}`, creator.auth, { name: 'Marathon coach', settings: { temperature: 1.2 } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({
      name: 'Marathon coach',
      persona: 'Encouraging, brief.',
      language: 'pt-BR',
      // Only the given setting changed; the others kept their stored values.
      settings: { temperature: 1.2, citeSources: false, welcomeMessage: 'Olá!', mergeWindowMs: 1500 },
    });

    const reset = await request('PATCH', `/v1/bots/${bot.id}`, creator.auth, { settings: { citeSources: null, welcomeMessage: null } });
    expect(reset.json().settings).toEqual({ temperature: 1.2, citeSources: true, mergeWindowMs: 1500 });
    expect((await request('GET', `/v1/bots/${bot.id}`, creator.auth)).json().settings).toEqual(reset.json().settings);

    expect((await request('DELETE', `/v1/bots/${bot.id}`, creator.auth)).statusCode).toBe(204);
    expect((await request('GET', `/v1/bots/${bot.id}`, creator.auth)).statusCode).toBe(404);
    expect((await request('GET', '/v1/bots', creator.auth)).json()).toEqual({ bots: [] });
  });

  it('rejects invalid fields and names them', async () => {
    const cases: Array<[object, string]> = [
      [{ name: 'x', settings: { temperature: 3 } }, 'body.settings.temperature'],
      [{ name: 'x', settings: { mergeWindowMs: 1.5 } }, 'body.settings.mergeWindowMs'],
      [{ name: 'x', settings: { temprature: 0.5 } }, 'body.settings'],
      [{ name: 'x', language: 'English' }, 'body.language'],
      [{ name: '' }, 'body.name'],
      [{ persona: 'no name' }, 'body.name'],
    ];
    for (const [payload, field] of cases) {
      const response = await request('POST', '/v1/bots', alice.auth, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
      expect(response.json().error.message).toContain(field);
    }
    const bot = await createBot(platform.app, alice.auth);
    const patch = await request('PATCH', `/v1/bots/${bot.id}`, alice.auth, { settings: { citeSources: 'yes' } });
    expect(patch.statusCode).toBe(400);
    expect(patch.json().error.message).toContain('body.settings.citeSources');
  });

  it('answers 404 for unknown and malformed bot ids', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '1']) {
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const response = await request(method, `/v1/bots/${id}`, alice.auth, method === 'PATCH' ? { name: 'x' } : undefined);
        expect(response.statusCode, `${method} ${id}`).toBe(404);
        expect(response.json().error.code).toBe('NOT_FOUND');
      }
    }
  });

  it('needs authentication', async () => {
    expect((await platform.app.inject({ method: 'POST', url: '/v1/bots', payload: { name: 'x' } })).statusCode).toBe(401);
    expect((await platform.app.inject({ method: 'GET', url: '/v1/bots' })).statusCode).toBe(401);
  });
});

describe('tenant isolation', () => {
  it("hides one creator's bot from another: 404 on GET, PATCH and DELETE, absent from the list", async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Alice private bot' });
    expect((await request('GET', `/v1/bots/${bot.id}`, bob.auth)).statusCode).toBe(404);
    expect((await request('PATCH', `/v1/bots/${bot.id}`, bob.auth, { name: 'pwned' })).statusCode).toBe(404);
    expect((await request('DELETE', `/v1/bots/${bot.id}`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', '/v1/bots', bob.auth)).json().bots.map((b: { id: string }) => b.id)).not.toContain(bot.id);

    const intact = await request('GET', `/v1/bots/${bot.id}`, alice.auth);
    expect(intact.statusCode).toBe(200);
    expect(intact.json().name).toBe('Alice private bot');
  });
});

describe('channel credentials', () => {
  const token = '7351234567:AAHk-secret-telegram-token_9x';

  it('are sealed at rest, never returned by the API, and open again for the platform', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Telegram bot' });
    const channel = await platform.bots.service.setChannelCredentials(alice.creatorId, bot.id, 'telegram', { token }, { username: 'anna_coach_bot' });
    expect(channel).toEqual({ channel: 'telegram', username: 'anna_coach_bot' });

    const responses = [
      await request('GET', `/v1/bots/${bot.id}`, alice.auth),
      await request('GET', '/v1/bots', alice.auth),
      await request('PATCH', `/v1/bots/${bot.id}`, alice.auth, { persona: 'Warm' }),
    ];
    for (const response of responses) {
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain(token);
      expect(response.body).not.toContain('AAHk');
    }
    expect(responses[0]!.json().channels).toEqual([{ channel: 'telegram', username: 'anna_coach_bot' }]);

    const { rows } = await platform.infrastructure.database.pool.query('SELECT credentials FROM bot_channels WHERE bot_id = $1', [bot.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].credentials).not.toContain(token);
    expect(rows[0].credentials).not.toContain('AAHk');

    expect(await platform.bots.service.getChannelCredentials(bot.id, 'telegram')).toEqual({ token });
    expect(await platform.bots.service.getChannelCredentials(bot.id, 'whatsapp')).toBeNull();
    expect(await platform.bots.service.getChannelCredentials('not-a-uuid', 'telegram')).toBeNull();
  });

  it("cannot be set on another creator's bot, and disappear when the channel is removed", async () => {
    const bot = await createBot(platform.app, alice.auth);
    await expect(platform.bots.service.setChannelCredentials(bob.creatorId, bot.id, 'telegram', { token }, {})).rejects.toMatchObject({ status: 404 });
    expect(await platform.bots.service.getChannelCredentials(bot.id, 'telegram')).toBeNull();

    await platform.bots.service.setChannelCredentials(alice.creatorId, bot.id, 'telegram', { token }, { username: 'x_bot' });
    await expect(platform.bots.service.removeChannel(bob.creatorId, bot.id, 'telegram')).rejects.toMatchObject({ status: 404 });
    expect(await platform.bots.service.removeChannel(alice.creatorId, bot.id, 'telegram')).toBe(true);
    expect(await platform.bots.service.getChannelCredentials(bot.id, 'telegram')).toBeNull();
    expect((await request('GET', `/v1/bots/${bot.id}`, alice.auth)).json().channels).toEqual([]);
  });
});

describe('bot deletion', () => {
  function serviceWith(onBotDeleted: Array<(botId: string) => Promise<void>>) {
    return new BotService({
      bots: new BotRepository(platform.infrastructure.database.pool),
      secretBox: new SecretBox(platform.config.ENCRYPTION_KEY),
      onBotDeleted,
    });
  }

  it('tells cleanup listeners and removes the bot with its documents', async () => {
    const bot = await createBot(platform.app, alice.auth);
    await platform.infrastructure.database.pool.query(`INSERT INTO documents (bot_id, title, source_kind) VALUES ($1, 'Guide', 'upload')`, [bot.id]);
    const cleaned: string[] = [];
    await serviceWith([async (id) => void cleaned.push(id)]).delete(alice.creatorId, bot.id);
    expect(cleaned).toEqual([bot.id]);
    const { rows } = await platform.infrastructure.database.pool.query('SELECT count(*)::int AS n FROM documents WHERE bot_id = $1', [bot.id]);
    expect(rows[0].n).toBe(0);
    expect((await request('GET', `/v1/bots/${bot.id}`, alice.auth)).statusCode).toBe(404);
  });

  it('keeps the bot when a cleanup fails, so the deletion can be retried', async () => {
    const bot = await createBot(platform.app, alice.auth);
    await expect(serviceWith([async () => Promise.reject(new Error('vector store down'))]).delete(alice.creatorId, bot.id)).rejects.toThrow(
      'vector store down',
    );
    expect((await request('GET', `/v1/bots/${bot.id}`, alice.auth)).statusCode).toBe(200);
  });

  it("does not run cleanups for another creator's bot", async () => {
    const bot = await createBot(platform.app, alice.auth);
    const cleaned: string[] = [];
    await expect(serviceWith([async (id) => void cleaned.push(id)]).delete(bob.creatorId, bot.id)).rejects.toMatchObject({ status: 404 });
    expect(cleaned).toEqual([]);
  });
});
