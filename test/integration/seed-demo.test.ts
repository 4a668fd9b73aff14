import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT_NAME, DEMO_EMAIL, seedDemo } from '../../src/demo/seed-demo.js';
import { createLogger } from '../../src/observability/logger.js';
import { demoSeedDeps } from '../support/demo-seed.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
const printed: string[] = [];

const deps = () => demoSeedDeps(platform, { print: (text) => printed.push(text) });

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

describe('seedDemo', () => {
  it('on an empty platform creates a demo coach that works with the printed credentials', async () => {
    const seed = await seedDemo(deps(), { baseUrl: 'http://localhost:3000', showCredentials: true });
    expect(seed).not.toBeNull();
    const { botId, apiKey, password, documentId } = seed!;
    const block = printed.join('\n');
    // The printed link is the demo's public chat: anyone opens it, with no key.
    expect(seed!.chatUrl).toMatch(new RegExp(`^http://[^/]+/c/${botId}$`));
    expect(block).toContain(`  Web chat:  ${seed!.chatUrl}`);
    // The dashboard, where the printed login signs in.
    expect(block).toContain('  Dashboard: http://localhost:3000/app');
    expect(block).toContain(apiKey);
    expect(block).toContain(DEMO_EMAIL);
    expect(block).toContain(password);
    // The terminal line works as printed: the default address needs no --url.
    expect(block).toContain(`  Terminal:  npm run chat -- --bot ${botId} --token ${apiKey}\n`);

    // The printed key lists the demo bot; the printed password logs in.
    const auth = { authorization: `Bearer ${apiKey}` };
    const bots = await platform.app.inject({ method: 'GET', url: '/v1/bots', headers: auth });
    expect((bots.json() as { bots: Array<{ id: string; name: string }> }).bots.map((b) => [b.id, b.name])).toEqual([[botId, DEMO_BOT_NAME]]);
    const login = await platform.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: DEMO_EMAIL, password } });
    expect(login.statusCode).toBe(200);

    // The link is printed once the guide is read: the first question finds it.
    const document = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents/${documentId}`, headers: auth })).json() as { status: string; chunks: number };
    expect(document.status).toBe('ready');
    expect(document.chunks).toBeGreaterThan(0);

    // The chat page the link points to opens without any credential and greets the visitor.
    const page = await platform.app.inject({ method: 'GET', url: new URL(seed!.chatUrl).pathname });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Steady Habits coach');
  });

  it('does nothing once any creator exists', async () => {
    printed.length = 0;
    expect(await seedDemo(deps(), { baseUrl: 'http://localhost:3000', showCredentials: true })).toBeNull();
    expect(printed).toEqual([]);
    const { rows } = await platform.infrastructure.database.pool.query<{ creators: number; bots: number }>(
      `SELECT (SELECT count(*) FROM public.creators)::int AS creators, (SELECT count(*) FROM public.bots)::int AS bots`,
    );
    expect(rows[0]).toEqual({ creators: 1, bots: 1 });
  });
});

describe('seedDemo outside development', () => {
  let production: TestPlatform;
  beforeAll(async () => {
    production = await startTestPlatform({}, { workers: false });
  });
  afterAll(async () => {
    await production?.stop();
  });

  it('creates the demo but prints and logs neither its password nor its API key', async () => {
    const output: string[] = [];
    const logged: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    });
    const seed = await seedDemo(
      demoSeedDeps(production, { logger: createLogger('info', capture), print: (text) => output.push(text) }),
      // No workers here: the link is printed without waiting for the guide to be read.
      { baseUrl: 'https://coach.example.test', showCredentials: false, readWaitMs: 0 },
    );
    expect(seed).not.toBeNull();
    const everything = [...output, ...logged].join('\n');
    expect(output.join('\n')).toContain(`/c/${seed!.botId}`);
    expect(output.join('\n')).toContain('NODE_ENV=development');
    expect(everything).not.toContain(seed!.password);
    expect(everything).not.toContain(seed!.apiKey);
  });
});
