import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { uploadAndIngest } from '../support/documents.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;

const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

function publish(session: CreatorSession, bot: string, payload: object) {
  return platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot}/channels/web`, headers: session.auth, payload });
}

beforeAll(async () => {
  platform = await startTestPlatform({ PUBLIC_URL: 'https://coach.example.test' });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
  await uploadAndIngest(platform.app, alice.auth, botId, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide }, { fields: { title: 'Steady Habits Guide' } });
});
afterAll(async () => {
  await platform?.stop();
});

describe('PUT /v1/bots/:botId/channels/web', () => {
  it('publishes the web chat and answers its public address and a one-tag embed snippet', async () => {
    const response = await publish(alice, botId, { allowedOrigins: ['https://www.alice.example'], title: 'Ask Alice', accentColor: '#0F766E', welcome: 'Hi! Ask me about habits.' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      chatUrl: `https://coach.example.test/c/${botId}`,
      embedSnippet: `<script src="https://coach.example.test/widget.js" data-bot="${botId}" async></script>`,
    });
  });

  it('refuses origins with a path, non-http schemes, bad colours and overlong texts, naming the field', async () => {
    for (const [payload, field] of [
      [{ allowedOrigins: ['https://alice.example/page'] }, 'allowedOrigins'],
      [{ allowedOrigins: ['javascript:alert(1)'] }, 'allowedOrigins'],
      [{ allowedOrigins: ['alice.example'] }, 'allowedOrigins'],
      [{ accentColor: 'red' }, 'accentColor'],
      [{ accentColor: '#12345g' }, 'accentColor'],
      [{ title: 'x'.repeat(81) }, 'title'],
      [{ welcome: 'x'.repeat(501) }, 'welcome'],
    ] as const) {
      const response = await publish(alice, botId, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect((response.json() as { error: { message: string } }).error.message).toContain(field);
    }
  });

  it("answers 404 for another creator's bot, and 401 without credentials", async () => {
    expect((await publish(bob, botId, {})).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${botId}/channels/web`, headers: bob.auth })).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'PUT', url: `/v1/bots/${botId}/channels/web`, payload: {} })).statusCode).toBe(401);
  });

  it('unpublishes with DELETE (204), then a second DELETE is 404', async () => {
    const other = (await createBot(platform.app, alice.auth, { name: 'Short-lived' })).id;
    expect((await publish(alice, other, {})).statusCode).toBe(200);
    const first = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other}/channels/web`, headers: alice.auth });
    expect(first.statusCode).toBe(204);
    const second = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other}/channels/web`, headers: alice.auth });
    expect(second.statusCode).toBe(404);
  });
});
