import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatedBot, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let aliceBot: CreatedBot;

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  aliceBot = await createBot(platform.app, alice.auth, { name: 'Sleep coach' });
});
afterAll(async () => {
  await platform?.stop();
});

function request(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, auth: { authorization: string }, payload?: object) {
  return platform.app.inject({ method, url, headers: auth, ...(payload !== undefined ? { payload } : {}) });
}

const sleepReset = {
  name: 'Sleep reset',
  slug: 'sleep-reset',
  steps: [
    { text: 'Day 1: pick a wake-up time and keep it all week.' },
    { afterDays: 1, passage: 'Light in the first hour after waking sets the body clock.', question: { text: 'Did you get outside this morning?', options: ['Yes', 'Not yet'] } },
  ],
};

describe('programs API', () => {
  it('creates, lists, reads, changes and deletes a program', async () => {
    const created = await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, sleepReset);
    expect(created.statusCode).toBe(201);
    const program = created.json();
    expect(program).toEqual({ id: expect.any(String), ...sleepReset, createdAt: expect.any(String), updatedAt: expect.any(String) });

    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs`, alice.auth)).json().programs).toEqual([program]);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs/${program.id}`, alice.auth)).json()).toEqual(program);

    const patched = await request('PATCH', `/v1/bots/${aliceBot.id}/programs/${program.id}`, alice.auth, { name: 'Sleep reset, 2nd edition' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Sleep reset, 2nd edition', slug: 'sleep-reset', steps: sleepReset.steps });

    expect((await request('DELETE', `/v1/bots/${aliceBot.id}/programs/${program.id}`, alice.auth)).statusCode).toBe(204);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs/${program.id}`, alice.auth)).statusCode).toBe(404);
  });

  it('refuses bad programs with a precise 4xx and stores nothing', async () => {
    const bad = [
      { ...sleepReset, slug: 'has spaces' },
      { ...sleepReset, steps: [] },
      { ...sleepReset, steps: [{ afterDays: 1 }] },
      { ...sleepReset, steps: [{ text: 'x', question: { text: 'Pick', options: [] } }] },
      { ...sleepReset, steps: [{ text: 'x', afterMinutes: -5 }] },
      { ...sleepReset, extra: true },
    ];
    for (const payload of bad) {
      const response = await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs`, alice.auth)).json().programs).toEqual([]);
  });

  it('answers 409 for a slug the bot uses already', async () => {
    expect((await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, { ...sleepReset, slug: 'focus' })).statusCode).toBe(201);
    const again = await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, { ...sleepReset, slug: 'focus' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('PROGRAM_SLUG_TAKEN');
  });

  it("answers 404 for another creator's bot, program, contact or enrollment", async () => {
    const program = (await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, { ...sleepReset, slug: 'private' })).json();
    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/programs/${program.id}`, bob.auth)).statusCode).toBe(404);
    expect((await request('PATCH', `/v1/bots/${aliceBot.id}/programs/${program.id}`, bob.auth, { name: 'mine' })).statusCode).toBe(404);
    expect((await request('DELETE', `/v1/bots/${aliceBot.id}/programs/${program.id}`, bob.auth)).statusCode).toBe(404);
    const bobBot = await createBot(platform.app, bob.auth, { name: 'Bob bot' });
    expect((await request('GET', `/v1/bots/${bobBot.id}/programs/${program.id}`, bob.auth)).statusCode).toBe(404);
    const enroll = await request('POST', `/v1/bots/${aliceBot.id}/programs/${program.id}/enrollments`, alice.auth, { contactId: '00000000-0000-4000-8000-000000000000' });
    expect(enroll.statusCode).toBe(404);
    expect(enroll.json().error.code).toBe('NOT_FOUND');
    const zone = await request('PUT', `/v1/bots/${aliceBot.id}/contacts/00000000-0000-4000-8000-000000000000/time-zone`, alice.auth, { timeZone: 'Europe/Paris' });
    expect(zone.statusCode).toBe(404);
    const badZone = await request('PUT', `/v1/bots/${aliceBot.id}/contacts/00000000-0000-4000-8000-000000000000/time-zone`, alice.auth, { timeZone: 'Mars/Olympus' });
    expect(badZone.statusCode).toBe(400);
  });

  it('lists the routes in the API document', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/bots/{botId}/programs',
        '/v1/bots/{botId}/programs/{programId}',
        '/v1/bots/{botId}/programs/{programId}/enrollments',
        '/v1/bots/{botId}/programs/{programId}/enrollments/{enrollmentId}/{action}',
        '/v1/bots/{botId}/contacts/{contactId}/time-zone',
        '/v1/bots/{botId}/scheduled-messages',
      ]),
    );
  });

  it('takes quiet hours as bot settings', async () => {
    const response = await request('PATCH', `/v1/bots/${aliceBot.id}`, alice.auth, { settings: { quietHoursStart: '22:30', quietHoursEnd: '07:00' } });
    expect(response.statusCode).toBe(200);
    expect(response.json().settings).toMatchObject({ quietHoursStart: '22:30', quietHoursEnd: '07:00' });
    expect((await request('PATCH', `/v1/bots/${aliceBot.id}`, alice.auth, { settings: { quietHoursStart: '25:00' } })).statusCode).toBe(400);
  });
});
