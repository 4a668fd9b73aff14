/**
 * Stream tickets over HTTP on a platform whose clock the test moves: a ticket opens its bot's
 * events stream until it expires, then answers 401; an open stream outlives its ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadDocument } from '../../scripts/eval-retrieval.js';
import { travellingClock } from '../support/coaching-e2e.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { freePort } from '../support/free-port.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const TTL_SECONDS = 30;

let platform: TestPlatform;
let base: string;
let creator: CreatorSession;
let botId: string;
const time = travellingClock();
const streams: LiveSse[] = [];

beforeAll(async () => {
  const port = await freePort();
  platform = await startTestPlatform({ EVENTS_TICKET_TTL_SECONDS: String(TTL_SECONDS) }, { clock: time.clock });
  await platform.app.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  creator = await signUpCreator(platform.app);
  botId = (await createBot(platform.app, creator.auth, { name: 'Ticketed', language: 'en' })).id;
});
afterAll(async () => {
  for (const stream of streams) stream.drop();
  await platform?.stop();
});

async function ticket(): Promise<string> {
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/events/ticket`, headers: creator.auth });
  expect(response.statusCode).toBe(201);
  return (response.json() as { ticket: string }).ticket;
}

async function openWith(value: string): Promise<LiveSse> {
  const stream = await openSse(`${base}/v1/bots/${botId}/events?ticket=${encodeURIComponent(value)}`);
  streams.push(stream);
  return stream;
}

describe('stream tickets', () => {
  it('open the stream until they expire, and an open stream outlives its ticket', async () => {
    const issued = await ticket();
    time.travel((TTL_SECONDS - 1) * 1000);
    const open = await openWith(issued);
    expect(open.status).toBe(200);
    await open.waitFor((e) => e.event === 'ready');

    time.travel(2000);
    const late = await openWith(issued);
    expect(late.status).toBe(401);
    await late.ended;
    const refused = await fetch(`${base}/v1/bots/${botId}/events?ticket=${encodeURIComponent(issued)}`);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');

    // The stream opened in time still carries the bot's events.
    const documentId = await uploadDocument(platform.app, creator.auth, botId, { filename: 'note.md', bytes: '# Note\n\nWalk after lunch.\n', mediaType: 'text/markdown' });
    await open.waitFor((e) => e.event === 'document' && e.data.documentId === documentId, 'the new document');
  });

  it('are issued only over an authenticated request, never for a bot that is not the caller’s', async () => {
    expect((await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/events/ticket` })).statusCode).toBe(401);
    const stranger = await signUpCreator(platform.app);
    expect((await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/events/ticket`, headers: stranger.auth })).statusCode).toBe(404);
  });
});
