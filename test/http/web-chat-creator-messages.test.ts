/**
 * A creator writing to a web chat visitor in a conversation they took over, over real sockets: the
 * visitor's open stream gets each message once, a reloaded page finds them in its history in
 * order, and no other visitor's stream ever sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { freePort } from '../support/free-port.js';
import { parseSse } from '../support/sse.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let base: string;
let alice: CreatorSession;
let botId: string;
const streams: LiveSse[] = [];

interface Exchange {
  texts: string[];
  state: string;
  reply: string | null;
  id?: string;
  from?: string;
}

/** A visitor's browser: whatever cookie the platform gave it. */
class Visitor {
  cookie: string | undefined;

  async ask(text: string): Promise<void> {
    const response = await platform.app.inject({
      method: 'POST',
      url: `/public/bots/${botId}/messages`,
      headers: this.cookie ? { cookie: this.cookie } : {},
      payload: { text },
    });
    expect(response.statusCode, response.body).toBe(200);
    // The turn is over (answered, or held while a person has the conversation).
    expect(parseSse(response.body).at(-1)?.event).toBe('done');
    const set = response.headers['set-cookie'];
    if (typeof set === 'string') this.cookie = set.split(';')[0];
  }

  async history(): Promise<Exchange[]> {
    const response = await platform.app.inject({ method: 'GET', url: `/public/bots/${botId}/history`, headers: this.cookie ? { cookie: this.cookie } : {} });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { exchanges: Exchange[] }).exchanges;
  }

  async stream(): Promise<LiveSse> {
    const stream = await openSse(`${base}/public/bots/${botId}/stream`, { headers: this.cookie ? { cookie: this.cookie } : {} });
    streams.push(stream);
    return stream;
  }
}

function creator(url: string, payload?: object) {
  return platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/conversations/${url}`, headers: alice.auth, ...(payload ? { payload } : {}) });
}

/** The inbox's id of the web conversation where `text` was written. */
async function conversationWith(text: string): Promise<string> {
  const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/conversations?channel=web&q=${encodeURIComponent(text)}`, headers: alice.auth });
  const found = (response.json() as { conversations: Array<{ id: string }> }).conversations;
  expect(found).toHaveLength(1);
  return found[0]!.id;
}

beforeAll(async () => {
  const port = await freePort();
  platform = await startTestPlatform();
  await platform.app.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
  const published = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${botId}/channels/web`, headers: alice.auth, payload: { title: 'Ask Alice' } });
  expect(published.statusCode, published.body).toBe(200);
});
afterAll(async () => {
  for (const stream of streams) stream.drop();
  await platform?.stop();
});

describe('GET /public/bots/:botId/stream', () => {
  it("relays the creator's messages to that visitor's open page once, keeps them in its history in order, and shows them to no other visitor", async () => {
    const eva = new Visitor();
    const sam = new Visitor();
    await eva.ask('How do I start running? (Eva)');
    await sam.ask('How do I sleep better? (Sam)');
    const evaChat = await conversationWith('(Eva)');
    const samChat = await conversationWith('(Sam)');

    const evaStream = await eva.stream();
    const samStream = await sam.stream();
    expect(evaStream.status).toBe(200);
    await evaStream.waitFor((e) => e.event === 'ready');
    await samStream.waitFor((e) => e.event === 'ready');

    expect((await creator(`${evaChat}/takeover`)).statusCode).toBe(200);
    // Taken over: the bot does not answer; the person does.
    await eva.ask('Is a person there?');
    for (const text of ['Hi Eva, Alice here.', 'Start with ten minutes a day.']) {
      const sent = await creator(`${evaChat}/messages`, { text });
      expect(sent.statusCode, sent.body).toBe(200);
    }
    const second = await evaStream.waitFor((e) => e.event === 'message' && e.data.text === 'Start with ten minutes a day.', 'the second message');
    const messages = evaStream.events.filter((e) => e.event === 'message');
    expect(messages.map((e) => e.data)).toEqual([
      { id: expect.any(String), text: 'Hi Eva, Alice here.', at: expect.any(String), from: 'person' },
      second.data,
    ]);
    expect(messages.map((e) => e.id)).toEqual(messages.map((e) => e.data.id));

    // The page reloads: everything in the order it happened, the creator's messages under the ids the stream gave.
    const history = await eva.history();
    expect(history.map((x) => ({ texts: x.texts, reply: x.reply, from: x.from, id: x.id }))).toEqual([
      { texts: ['How do I start running? (Eva)'], reply: expect.any(String), from: undefined, id: undefined },
      { texts: ['Is a person there?'], reply: null, from: undefined, id: undefined },
      { texts: [], reply: 'Hi Eva, Alice here.', from: 'person', id: messages[0]!.data.id },
      { texts: [], reply: 'Start with ten minutes a day.', from: 'person', id: messages[1]!.data.id },
    ]);

    // Sam's stream was open all along and saw none of it; the creator's message to Sam reaches only Sam.
    expect((await creator(`${samChat}/takeover`)).statusCode).toBe(200);
    expect((await creator(`${samChat}/messages`, { text: 'Hi Sam, Alice here.' })).statusCode).toBe(200);
    await samStream.waitFor((e) => e.event === 'message', "the creator's message to Sam");
    expect(samStream.events.filter((e) => e.event === 'message').map((e) => e.data.text)).toEqual(['Hi Sam, Alice here.']);
    expect((await sam.history()).map((x) => x.reply ?? x.texts[0])).toEqual([expect.any(String), 'Hi Sam, Alice here.']);
    expect(evaStream.events.filter((e) => e.event === 'message')).toHaveLength(2);
  });

  it('answers 404 without a session, for a session of another bot and for an unpublished bot, as the other visitor endpoints do', async () => {
    const noCookie = await fetch(`${base}/public/bots/${botId}/stream`);
    expect(noCookie.status).toBe(404);
    expect(((await noCookie.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');

    const other = (await createBot(platform.app, alice.auth, { name: 'Other' })).id;
    await platform.app.inject({ method: 'PUT', url: `/v1/bots/${other}/channels/web`, headers: alice.auth, payload: {} });
    const visitor = new Visitor();
    await visitor.ask('Hello there');
    const elsewhere = await fetch(`${base}/public/bots/${other}/stream`, { headers: { cookie: visitor.cookie! } });
    expect(elsewhere.status).toBe(404);

    await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${botId}/channels/web`, headers: alice.auth });
    const unpublished = await fetch(`${base}/public/bots/${botId}/stream`, { headers: { cookie: visitor.cookie! } });
    expect(unpublished.status).toBe(404);
  });

  it('refuses a site the creator did not allow, like the other visitor endpoints', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Embedded' })).id;
    await platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot}/channels/web`, headers: alice.auth, payload: { allowedOrigins: ['https://www.alice.example'] } });
    const refused = await fetch(`${base}/public/bots/${bot}/stream`, { headers: { origin: 'https://evil.example' } });
    expect(refused.status).toBe(403);
  });
});
