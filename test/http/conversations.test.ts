import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, ChannelName, InboundContact, InboundKind } from '../../src/conversation/channel.ports.js';
import type { TurnSource } from '../../src/conversation/types.js';
import { ContactRepository } from '../../src/db/contact.repository.js';
import { InboundRepository } from '../../src/db/inbound.repository.js';
import { NoticeRepository } from '../../src/db/notice.repository.js';
import { OutboundRepository } from '../../src/db/outbound.repository.js';
import { TurnRepository } from '../../src/db/turn.repository.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// The inbox read through the API. Conversations are written by the platform's own repositories
// (the path webhooks take: inbound rows, turns, the outbound ledger) or by the creator's web chat
// preview, which runs the whole pipeline inside the request. No worker runs: nothing answers
// behind the test's back.

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let aliceBot: string;
let bobBot: string;
let inbound: InboundRepository;
let turns: TurnRepository;
let ledger: OutboundRepository;
let notices: NoticeRepository;

const UNKNOWN = "I don't have that in my material yet.";

interface Listed {
  id: string;
  channel: ChannelName;
  contact: { id: string; displayName: string; username: string | null };
  lastMessage: { type: 'user' | 'reply' | 'notice' | 'creator'; text: string | null; at: string } | null;
  lastMessageAt: string;
  unanswered: boolean;
  unknown: boolean;
  takenOver: boolean;
  wantsHuman: boolean;
}
interface ListBody {
  conversations: Listed[];
  nextCursor: string | null;
}
type Item =
  | { type: 'user'; id: string; kind: string; text: string | null; attachments: Array<Record<string, unknown>>; at: string }
  | { type: 'reply' | 'notice' | 'creator'; id: string; text: string | null; sources: TurnSource[]; delivery: { status: string; error: string | null; sentAt: string | null }; at: string }
  | { type: 'event'; id: string; event: string; by: string; at: string; text?: undefined };
interface MessagesBody {
  items: Item[];
  nextCursor: string | null;
}

function get(session: CreatorSession, url: string) {
  return platform.app.inject({ method: 'GET', url, headers: session.auth });
}

async function list(session: CreatorSession, botId: string, query = ''): Promise<ListBody> {
  const response = await get(session, `/v1/bots/${botId}/conversations${query ? `?${query}` : ''}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as ListBody;
}

/** Every page of the list, following nextCursor; `between` runs after each page but the last. */
async function allPages(botId: string, query: string, between?: (page: number) => Promise<void>): Promise<Listed[][]> {
  const pages: Listed[][] = [];
  let cursor: string | null = null;
  do {
    const body: ListBody = await list(alice, botId, `${query}${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
    pages.push(body.conversations);
    cursor = body.nextCursor;
    if (cursor && between) await between(pages.length);
  } while (cursor);
  return pages;
}

async function transcript(botId: string, conversationId: string, query = ''): Promise<MessagesBody> {
  const response = await get(alice, `/v1/bots/${botId}/conversations/${conversationId}/messages${query ? `?${query}` : ''}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as MessagesBody;
}

/** A user message arriving on a channel, stored the way webhooks store it. */
async function userSays(
  botId: string,
  channel: ChannelName,
  chatId: string,
  text: string | undefined,
  options: { contact?: Partial<InboundContact>; kind?: InboundKind; attachments?: Attachment[] } = {},
): Promise<string> {
  const stored = await inbound.receive(botId, {
    channel,
    externalId: randomUUID(),
    conversationId: chatId,
    contact: { externalId: chatId, ...options.contact },
    kind: options.kind ?? 'text',
    text,
    attachments: options.attachments ?? [],
    sentAt: new Date(),
  });
  return stored.conversationId;
}

/** The bot answers the conversation's waiting messages; the reply is left pending, sent or failed. */
async function botAnswers(botId: string, conversationId: string, reply: string, outcome: 'pending' | 'sent' | 'failed', sources: TurnSource[] = []) {
  const turn = await turns.claimNext(conversationId);
  if (!turn) throw new Error('nothing to answer');
  const row = await ledger.open({ turnId: turn.id, botId, conversationId });
  if (outcome === 'pending') return;
  await turns.saveFinalReply({ turnId: turn.id, ledgerId: row.id }, reply, sources);
  if (outcome === 'sent') {
    await turns.finishSent({ turnId: turn.id, ledgerId: row.id }, [String(Math.floor(Math.random() * 1e9))]);
  } else {
    await ledger.markFailed(row.id, 'Bad Request: chat not found');
    await turns.finish(turn.id, 'failed', 'Bad Request: chat not found');
  }
}

async function previewChat(botId: string, sessionId: string, text: string) {
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/chat`, headers: alice.auth, payload: { sessionId, text } });
  expect(response.statusCode).toBe(200);
  expect(response.body).toMatch(/^event: done$/m);
}

beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
  const { pool } = platform.infrastructure.database;
  inbound = new InboundRepository(pool);
  turns = new TurnRepository(pool);
  ledger = new OutboundRepository(pool);
  notices = new NoticeRepository(pool);
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  aliceBot = (await createBot(platform.app, alice.auth, { name: 'Sleep coach', language: 'en', settings: { unknownAnswer: UNKNOWN } })).id;
  bobBot = (await createBot(platform.app, bob.auth, { name: 'Bob coach', language: 'en' })).id;
});
afterAll(async () => {
  await platform?.stop();
});

describe('GET /v1/bots/:botId/conversations', () => {
  let botId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    botId = (await createBot(platform.app, alice.auth, { name: 'Inbox', language: 'en', settings: { unknownAnswer: UNKNOWN } })).id;
    // Oldest first: Ana (Telegram, answered), Ben (WhatsApp, reply failed), @carla (Telegram, waiting),
    // a web visitor (answered "I don't know"), Dan (Telegram, reply being written).
    ids.ana = await userSays(botId, 'telegram', '1001', 'How long should I nap?', { contact: { displayName: 'Ana Lima', username: 'analima' } });
    await botAnswers(botId, ids.ana, 'Twenty minutes is plenty.', 'sent', [{ documentId: randomUUID(), title: 'Naps' }]);
    ids.ben = await userSays(botId, 'whatsapp', '4915112345678', 'Is coffee after lunch ok?', { contact: { displayName: 'Ben' } });
    await botAnswers(botId, ids.ben, 'Better before noon.', 'failed');
    ids.carla = await userSays(botId, 'telegram', '1002', 'Can I train every day?', { contact: { username: 'carla' } });
    ids.visitor = await userSays(botId, 'web', 'visitor-session-1', 'What is the capital of Peru?');
    await botAnswers(botId, ids.visitor, UNKNOWN, 'sent');
    ids.dan = await userSays(botId, 'telegram', '1003', 'My melatonin dose?', { contact: { displayName: 'Dan' } });
    await botAnswers(botId, ids.dan, '', 'pending');
  });

  it('lists conversations newest first, with contact, channel, last message and flags', async () => {
    const { conversations, nextCursor } = await list(alice, botId);
    expect(nextCursor).toBeNull();
    expect(conversations.map((c) => c.id)).toEqual([ids.dan, ids.visitor, ids.carla, ids.ben, ids.ana]);
    const byId = Object.fromEntries(conversations.map((c) => [c.id, c]));
    expect(byId[ids.ana!]).toMatchObject({
      channel: 'telegram',
      contact: { displayName: 'Ana Lima', username: 'analima' },
      lastMessage: { type: 'reply', text: 'Twenty minutes is plenty.' },
      unanswered: false,
      unknown: false,
    });
    expect(byId[ids.ben!]).toMatchObject({ channel: 'whatsapp', contact: { displayName: 'Ben' }, lastMessage: { type: 'reply' }, unanswered: true, unknown: false });
    expect(byId[ids.carla!]).toMatchObject({
      contact: { displayName: '@carla', username: 'carla' },
      lastMessage: { type: 'user', text: 'Can I train every day?' },
      unanswered: true,
    });
    expect(byId[ids.visitor!]!.contact.displayName).toMatch(/^Visitor [0-9a-f]{8}$/);
    expect(byId[ids.visitor!]).toMatchObject({ channel: 'web', lastMessage: { type: 'reply', text: UNKNOWN }, unanswered: false, unknown: true });
    // The reply is being written: the ledger row exists, its text does not yet.
    expect(byId[ids.dan!]).toMatchObject({ lastMessage: { type: 'reply', text: null }, unanswered: true });
    for (const c of conversations) expect(Date.parse(c.lastMessageAt)).toBeGreaterThan(0);
    expect(conversations.map((c) => c.lastMessageAt)).toEqual(conversations.map((c) => c.lastMessageAt).sort().reverse());
  });

  it('moves a conversation to the top when a message arrives, and not when one is delivered twice', async () => {
    const chatId = '1001';
    const message = { channel: 'telegram' as const, externalId: `dup-${randomUUID()}`, conversationId: chatId, contact: { externalId: chatId }, kind: 'text' as const, text: 'One more question', attachments: [], sentAt: new Date() };
    await inbound.receive(botId, message);
    expect((await list(alice, botId)).conversations[0]).toMatchObject({ id: ids.ana, lastMessage: { type: 'user', text: 'One more question' }, unanswered: true });
    await inbound.receive(botId, message);
    await userSays(botId, 'telegram', '1002', 'And on rest days?');
    const order = (await list(alice, botId)).conversations.map((c) => c.id);
    expect(order.slice(0, 2)).toEqual([ids.carla, ids.ana]);
    // Redelivered again after Carla wrote: Ana stays second.
    await inbound.receive(botId, message);
    expect((await list(alice, botId)).conversations.map((c) => c.id)).toEqual(order);
    await botAnswers(botId, ids.ana!, 'Ask away.', 'sent');
    await botAnswers(botId, ids.carla!, 'Rest days matter.', 'sent');
  });

  it('filters by channel and by status', async () => {
    const telegram = await list(alice, botId, 'channel=telegram');
    expect(telegram.conversations.map((c) => c.channel)).toEqual(['telegram', 'telegram', 'telegram']);
    expect((await list(alice, botId, 'channel=whatsapp')).conversations.map((c) => c.id)).toEqual([ids.ben]);
    expect((await list(alice, botId, 'status=unanswered')).conversations.map((c) => c.id)).toEqual([ids.dan, ids.ben]);
    expect((await list(alice, botId, 'status=unknown')).conversations.map((c) => c.id)).toEqual([ids.visitor]);
    expect((await list(alice, botId, 'status=unanswered&channel=whatsapp')).conversations.map((c) => c.id)).toEqual([ids.ben]);
  });

  it('searches the words of user messages and of replies', async () => {
    expect((await list(alice, botId, 'q=melatonin')).conversations.map((c) => c.id)).toEqual([ids.dan]);
    // "noon" is only in the bot's (failed) reply to Ben.
    expect((await list(alice, botId, 'q=NOON')).conversations.map((c) => c.id)).toEqual([ids.ben]);
    expect((await list(alice, botId, `q=${encodeURIComponent('coffee lunch')}`)).conversations.map((c) => c.id)).toEqual([ids.ben]);
    expect((await list(alice, botId, 'q=peru&channel=telegram')).conversations).toEqual([]);
    expect((await list(alice, botId, 'q=zzzunheardof')).conversations).toEqual([]);
    expect((await list(alice, botId, 'q=rest&status=unanswered')).conversations).toEqual([]);
    // Words said in different messages of one conversation, by the user ("nap") and the bot ("twenty").
    expect((await list(alice, botId, `q=${encodeURIComponent('nap twenty')}`)).conversations.map((c) => c.id)).toEqual([ids.ana]);
    // Bob's bot has its own words; Alice's search never reaches them.
    const bobsOther = (await createBot(platform.app, bob.auth, { name: 'Kettlebell coach', language: 'en' })).id;
    await userSays(bobsOther, 'telegram', '9001', 'Tell me about kettlebells');
    expect((await list(alice, botId, 'q=kettlebells')).conversations).toEqual([]);
    expect((await list(bob, bobsOther, 'q=kettlebells')).conversations).toHaveLength(1);
  });

  it('no longer finds a conversation by the words of a contact who asked to be forgotten', async () => {
    const forgetBot = (await createBot(platform.app, alice.auth, { name: 'Forgetful', language: 'en' })).id;
    const conversationId = await userSays(forgetBot, 'telegram', '4242', 'My secret word is xylophone');
    await botAnswers(forgetBot, conversationId, 'Noted: marimba.', 'sent');
    expect((await list(alice, forgetBot, 'q=xylophone')).conversations.map((c) => c.id)).toEqual([conversationId]);
    await new ContactRepository(platform.infrastructure.database.pool).forgetContact(conversationId, randomUUID());
    expect((await list(alice, forgetBot, 'q=xylophone')).conversations).toEqual([]);
    expect((await list(alice, forgetBot, 'q=marimba')).conversations).toEqual([]);
  });

  it('pages without gaps or repeats while messages arrive in seen, unseen and new conversations', async () => {
    const pagingBot = (await createBot(platform.app, alice.auth, { name: 'Paging', language: 'en' })).id;
    const chats = Array.from({ length: 9 }, (_, i) => `20${i}`);
    const conversation: Record<string, string> = {};
    for (const chat of chats) conversation[chat] = await userSays(pagingBot, 'telegram', chat, `hello from ${chat}`);
    const before = (await list(alice, pagingBot, 'limit=100')).conversations.map((c) => c.id);
    expect(before).toEqual(chats.map((c) => conversation[c]).reverse());

    const pages = await allPages(pagingBot, 'limit=2', async (page) => {
      if (page === 1) {
        // Already seen (the newest), not yet seen (the oldest), and a brand new conversation.
        await userSays(pagingBot, 'telegram', chats[8]!, 'seen one writes again');
        await userSays(pagingBot, 'telegram', chats[0]!, 'unseen one writes');
        await userSays(pagingBot, 'telegram', '299', 'a newcomer');
      }
      if (page === 3) {
        await userSays(pagingBot, 'telegram', chats[1]!, 'another unseen one writes');
        await botAnswers(pagingBot, conversation[chats[2]!]!, 'a reply', 'sent');
      }
    });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
    expect(pages.flat().map((c) => c.id)).toEqual(before);
    // A fresh first page shows what moved since.
    const fresh = (await list(alice, pagingBot, 'limit=4')).conversations;
    expect(fresh.map((c) => c.lastMessage?.text)).toEqual(['a reply', 'another unseen one writes', 'a newcomer', 'unseen one writes']);
  });

  it('gives one conversation as the list shows it, and 404 for another creator’s or an unknown one', async () => {
    const listed = (await list(alice, botId)).conversations.find((c) => c.id === ids.ben);
    const one = await get(alice, `/v1/bots/${botId}/conversations/${ids.ben}`);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual(listed);
    expect(one.json()).toMatchObject({ channel: 'whatsapp', contact: { displayName: 'Ben' }, unanswered: true, takenOver: false });
    for (const [session, url] of [
      [bob, `/v1/bots/${botId}/conversations/${ids.ben}`],
      [bob, `/v1/bots/${bobBot}/conversations/${ids.ben}`],
      [alice, `/v1/bots/${botId}/conversations/${randomUUID()}`],
      [alice, `/v1/bots/${botId}/conversations/not-a-uuid`],
    ] as const) {
      const response = await get(session, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('answers 404 for another creator’s bot and for unknown bots', async () => {
    for (const url of [`/v1/bots/${botId}/conversations`, `/v1/bots/${randomUUID()}/conversations`, `/v1/bots/not-a-uuid/conversations`]) {
      const response = await get(bob, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
    expect((await list(bob, bobBot)).conversations).toEqual([]);
  });

  it('refuses bad limits, filters and cursors with 400 and a message naming the parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['limit=0', /limit/],
      ['limit=101', /limit/],
      ['limit=ten', /limit/],
      ['channel=sms', /channel/],
      ['status=lost', /status/],
      ['before=not-a-cursor!', /before/],
      [`before=${Buffer.from('["c1","1","2","x"]').toString('base64url')}`, /before/],
      [`before=${Buffer.from('{"asOf":1}').toString('base64url')}`, /before/],
      [`q=${'a'.repeat(501)}`, /q/],
    ];
    for (const [query, message] of cases) {
      const response = await get(alice, `/v1/bots/${botId}/conversations?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code, query).toBe('VALIDATION_FAILED');
      expect(response.json().error.message, query).toMatch(message);
    }
    // A transcript's cursor is not a list's.
    const page = await transcript(botId, ids.ana!, 'limit=1');
    const wrong = await get(alice, `/v1/bots/${botId}/conversations?before=${page.nextCursor}`);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toMatch(/^before: /);
  });
});

describe('GET /v1/bots/:botId/conversations/:conversationId/messages', () => {
  let botId: string;
  let conversationId: string;
  let contactId: string;
  const docId = randomUUID();

  beforeAll(async () => {
    botId = (await createBot(platform.app, alice.auth, { name: 'Transcript', language: 'en' })).id;
    conversationId = await userSays(botId, 'telegram', '3001', 'Hi! Here is my sleep log', {
      contact: { displayName: 'Eva' },
      kind: 'attachment',
      attachments: [{ type: 'document', fileId: 'file-1', fileName: 'sleep-log.pdf', mimeType: 'application/pdf', sizeBytes: 2048 }],
    });
    await userSays(botId, 'telegram', '3001', 'What do you think?');
    await botAnswers(botId, conversationId, 'You sleep too late.', 'sent', [{ documentId: docId, title: 'Evening routine', page: 2 }]);
    const { rows } = await platform.infrastructure.database.pool.query<{ contact_id: string }>(`SELECT contact_id FROM conversations WHERE id = $1`, [conversationId]);
    contactId = rows[0]!.contact_id;
    const target = await notices.target(botId, contactId);
    const notice = await notices.open({ botId, conversationId: target!.conversationId, dedupeKey: `unlocked:${contactId}` });
    await ledger.markSending(notice.id, 'You are unlocked: enjoy premium.');
    await userSays(botId, 'telegram', '3001', 'Thanks, and naps?');
    await botAnswers(botId, conversationId, 'Keep them short.', 'failed');
    await userSays(botId, 'telegram', '3001', 'Hello?');
  });

  it('gives user messages, replies with sources and delivery state, and notices in time order', async () => {
    const { items, nextCursor } = await transcript(botId, conversationId);
    expect(nextCursor).toBeNull();
    expect(items.map((i) => [i.type, i.text])).toEqual([
      ['user', 'Hi! Here is my sleep log'],
      ['user', 'What do you think?'],
      ['reply', 'You sleep too late.'],
      ['notice', 'You are unlocked: enjoy premium.'],
      ['user', 'Thanks, and naps?'],
      ['reply', 'Keep them short.'],
      ['user', 'Hello?'],
    ]);
    expect(items[0]).toMatchObject({ type: 'user', kind: 'attachment', attachments: [{ type: 'document', fileName: 'sleep-log.pdf', mimeType: 'application/pdf', sizeBytes: 2048 }] });
    expect(items[0]!.type === 'user' && Object.keys(items[0]!.attachments[0]!)).not.toContain('fileId');
    expect(items[2]).toMatchObject({ sources: [{ documentId: docId, title: 'Evening routine', page: 2 }], delivery: { status: 'sent', error: null } });
    expect(items[2]!.type !== 'user' && items[2]!.type !== 'event' && items[2]!.delivery.sentAt).toEqual(expect.any(String));
    expect(items[3]).toMatchObject({ type: 'notice', sources: [], delivery: { status: 'sending', error: null, sentAt: null } });
    expect(items[5]).toMatchObject({ delivery: { status: 'failed', error: 'Bad Request: chat not found', sentAt: null } });
    expect(items.map((i) => i.at)).toEqual(items.map((i) => i.at).sort());
  });

  it('pages back in time without gaps or repeats, oldest first within each page', async () => {
    for (const limit of [1, 2, 3]) {
      const whole = (await transcript(botId, conversationId, 'limit=200')).items.map((i) => i.id);
      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: MessagesBody = await transcript(botId, conversationId, `limit=${limit}${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
        pages.push(page.items.map((i) => i.id));
        cursor = page.nextCursor;
        // New messages arriving while paging back change nothing in the older pages.
        if (pages.length === 1) await userSays(botId, 'telegram', '3001', `while paging ${limit}`);
      } while (cursor);
      expect(pages.slice().reverse().flat(), `limit ${limit}`).toEqual(whole);
      expect(pages.every((p) => p.length <= limit)).toBe(true);
    }
  });

  it('keeps messages stored together in their arrival order', async () => {
    // Messages that arrive together are stored by one statement and share one time.
    const chat = '3002';
    const burst = ['one', 'two', 'three', 'four'].map((text) =>
      inbound.receive(botId, { channel: 'telegram', externalId: randomUUID(), conversationId: chat, contact: { externalId: chat }, kind: 'text', text, attachments: [], sentAt: new Date() }),
    );
    const stored = await Promise.all(burst);
    const id = stored[0]!.conversationId;
    expect((await transcript(botId, id)).items.map((i) => i.text)).toEqual(['one', 'two', 'three', 'four']);
    const first = await transcript(botId, id, 'limit=3');
    const rest = await transcript(botId, id, `limit=3&before=${first.nextCursor}`);
    expect([...rest.items, ...first.items].map((i) => i.text)).toEqual(['one', 'two', 'three', 'four']);
  });

  it('answers 404 for a conversation of another bot or creator, and for unknown ids', async () => {
    const bobConversation = await userSays(bobBot, 'telegram', '9001', 'hi bob');
    const urls = [
      [alice, `/v1/bots/${botId}/conversations/${bobConversation}/messages`],
      [alice, `/v1/bots/${aliceBot}/conversations/${conversationId}/messages`],
      [bob, `/v1/bots/${botId}/conversations/${conversationId}/messages`],
      [bob, `/v1/bots/${bobBot}/conversations/${conversationId}/messages`],
      [alice, `/v1/bots/${botId}/conversations/${randomUUID()}/messages`],
      [alice, `/v1/bots/${botId}/conversations/nope/messages`],
    ] as const;
    for (const [session, url] of urls) {
      const response = await get(session, url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses bad limits and cursors with 400', async () => {
    const list = await get(alice, `/v1/bots/${botId}/conversations?limit=1`);
    const listCursor = (list.json() as ListBody).nextCursor;
    for (const query of ['limit=0', 'limit=201', `before=${listCursor}`, 'before=%7B%7D', `before=${Buffer.from('["m1","bot","12","not-a-uuid"]').toString('base64url')}`]) {
      const response = await get(alice, `/v1/bots/${botId}/conversations/${conversationId}/messages?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('human takeover: POST …/takeover, …/messages, …/release', () => {
  let botId: string;
  let telegramChat: string;
  let webChat: string;
  let bobsConversation: string;

  function post(session: CreatorSession, url: string, payload?: object) {
    return platform.app.inject({ method: 'POST', url, headers: session.auth, ...(payload ? { payload } : {}) });
  }

  beforeAll(async () => {
    botId = (await createBot(platform.app, alice.auth, { name: 'Takeover', language: 'en' })).id;
    telegramChat = await userSays(botId, 'telegram', '2001', 'Is anyone there?', { contact: { displayName: 'Eva' } });
    webChat = await userSays(botId, 'web', 'visitor-takeover', 'Hello from the website');
    bobsConversation = await userSays(bobBot, 'telegram', '3001', 'Hi Bob');
  });

  it('takes over and releases idempotently, one event each, and the list shows and filters it', async () => {
    const url = `/v1/bots/${botId}/conversations/${telegramChat}`;
    const first = await post(alice, `${url}/takeover`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ conversationId: telegramChat, takenOver: true, takenOverAt: expect.any(String), wantsHuman: false });
    const again = await post(alice, `${url}/takeover`);
    expect(again.json()).toEqual(first.json());

    const taken = await list(alice, botId, 'status=taken_over');
    expect(taken.conversations.map((c) => [c.id, c.takenOver])).toEqual([[telegramChat, true]]);
    expect((await list(alice, botId)).conversations.find((c) => c.id === webChat)).toMatchObject({ takenOver: false, wantsHuman: false });

    const released = await post(alice, `${url}/release`);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toEqual({ conversationId: telegramChat, takenOver: false, takenOverAt: null, wantsHuman: false });
    expect((await post(alice, `${url}/release`)).json()).toEqual(released.json());
    expect((await list(alice, botId, 'status=taken_over')).conversations).toEqual([]);

    const { items } = await transcript(botId, telegramChat);
    expect(items.map((i) => (i.type === 'event' ? `${i.event} by ${i.by}` : i.type))).toEqual([
      'user',
      'takeover by creator',
      'release by creator',
    ]);
  });

  it('refuses a creator message with 409: before the takeover, and when the channel is not connected, saying why', async () => {
    const url = `/v1/bots/${botId}/conversations/${telegramChat}`;
    const early = await post(alice, `${url}/messages`, { text: 'Hi, Alice here' });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('NOT_TAKEN_OVER');

    expect((await post(alice, `${url}/takeover`)).statusCode).toBe(200);
    const unconnected = await post(alice, `${url}/messages`, { text: 'Hi, Alice here', clientMessageId: 'tg-1' });
    expect(unconnected.statusCode).toBe(409);
    expect(unconnected.json().error).toMatchObject({ code: 'MESSAGE_NOT_DELIVERED', message: expect.stringContaining('telegram channel is not connected') });

    // Nothing was sent: the transcript holds no creator message.
    expect((await transcript(botId, telegramChat)).items.some((i) => i.type === 'creator')).toBe(false);
  });

  it('delivers a creator message to web chat: sent, and in the transcript', async () => {
    const webUrl = `/v1/bots/${botId}/conversations/${webChat}`;
    expect((await post(alice, `${webUrl}/takeover`)).statusCode).toBe(200);
    const web = await post(alice, `${webUrl}/messages`, { text: 'Hi, Alice here' });
    expect(web.statusCode, web.body).toBe(200);
    expect((await transcript(botId, webChat)).items.filter((i) => i.type === 'creator').map((i) => i.text)).toEqual(['Hi, Alice here']);
  });

  it('pages a transcript with takeover events in it one item at a time, without gaps or repeats', async () => {
    const chat = await userSays(botId, 'telegram', '2002', 'First question');
    const url = `/v1/bots/${botId}/conversations/${chat}`;
    for (const text of ['Second question', 'Third question']) {
      expect((await post(alice, `${url}/takeover`)).statusCode).toBe(200);
      await userSays(botId, 'telegram', '2002', text);
      expect((await post(alice, `${url}/release`)).statusCode).toBe(200);
    }
    await botAnswers(botId, chat, 'An answer', 'sent');
    // Events stored in the same instant as the first message and as the reply: the message comes first.
    await platform.infrastructure.database.pool.query(
      `INSERT INTO conversation_events (bot_id, conversation_id, kind, actor, created_at)
       SELECT bot_id, conversation_id, 'release', 'idle', received_at FROM inbound_messages WHERE conversation_id = $1 AND text = 'First question'
       UNION ALL
       SELECT bot_id, conversation_id, 'release', 'idle', created_at FROM outbound_messages WHERE conversation_id = $1`,
      [chat],
    );
    const whole = (await transcript(botId, chat)).items;
    expect(whole.map((i) => i.type)).toEqual(['user', 'event', 'event', 'user', 'event', 'event', 'user', 'event', 'reply', 'event']);
    const paged: Item[] = [];
    let cursor: string | null = null;
    do {
      const page: MessagesBody = await transcript(botId, chat, `limit=1${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
      paged.unshift(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole);
  });

  it('documents the takeover endpoints in the OpenAPI document', async () => {
    const doc = await platform.app.inject('/docs/json');
    expect(doc.statusCode).toBe(200);
    const paths = doc.json().paths as Record<string, Record<string, unknown>>;
    for (const action of ['takeover', 'release', 'messages']) {
      expect(paths[`/v1/bots/{botId}/conversations/{conversationId}/${action}`], action).toHaveProperty('post');
    }
  });

  it('refuses a bad message body with 400 naming the field', async () => {
    const url = `/v1/bots/${botId}/conversations/${telegramChat}/messages`;
    for (const [payload, field] of [
      [{}, 'text'],
      [{ text: '   ' }, 'text'],
      [{ text: 'x'.repeat(4001) }, 'text'],
      [{ text: 'Hi', clientMessageId: 'has spaces' }, 'clientMessageId'],
      [{ text: 'Hi', clientMessageId: 'x'.repeat(101) }, 'clientMessageId'],
    ] as const) {
      const response = await post(alice, url, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
      expect(response.body).toContain(field);
    }
  });

  it('answers 404 for another creator’s bot or conversation and for unknown ids, changing nothing', async () => {
    const unknown = randomUUID();
    const cases: Array<[CreatorSession, string, string]> = [
      [bob, botId, telegramChat],
      [alice, bobBot, bobsConversation],
      [alice, botId, bobsConversation],
      [alice, botId, unknown],
      [alice, botId, 'not-a-uuid'],
      [alice, unknown, telegramChat],
    ];
    for (const [session, bot, conversation] of cases) {
      for (const [action, payload] of [['takeover'], ['release'], ['messages', { text: 'Hello' }]] as const) {
        const response = await post(session, `/v1/bots/${bot}/conversations/${conversation}/${action}`, payload);
        expect(response.statusCode, `${action} ${bot} ${conversation}`).toBe(404);
        expect(response.json().error.code).toBe('NOT_FOUND');
      }
    }
    const bobs = (await list(bob, bobBot)).conversations.find((c) => c.id === bobsConversation);
    expect(bobs).toMatchObject({ takenOver: false });
  });
});

describe('the inbox after web chat', () => {
  it('shows a preview chat answered "I don\'t know" as unknown, and its transcript', async () => {
    // Web chat is answered by the converse worker, as every channel is (last test: the seeded
    // conversations above are settled by now). No documents: the bot can only say its unknown answer.
    platform.startWorkers();
    await previewChat(aliceBot, 'preview-1', 'What is the capital of Peru?');
    // The page shows the reply once it is final; the worker records the reply, then settles the turn
    // (answered) and marks it sent a moment later.
    const { conversations } = await waitFor(
      async () => {
        const listed = await list(alice, aliceBot);
        const first = listed.conversations[0];
        return first?.lastMessage?.type === 'reply' && !first.unanswered ? listed : null;
      },
      { what: 'the reply listed and its turn settled' },
    );
    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ channel: 'web', lastMessage: { type: 'reply', text: UNKNOWN }, unanswered: false, unknown: true });
    const { items } = await waitFor(async () => {
      const page = await transcript(aliceBot, conversations[0]!.id);
      const last = page.items.at(-1);
      return last && last.type !== 'user' && last.type !== 'event' && last.delivery.status === 'sent' ? page : null;
    }, { what: 'the reply marked sent' });
    expect(items).toMatchObject([
      { type: 'user', kind: 'text', text: 'What is the capital of Peru?' },
      { type: 'reply', text: UNKNOWN, sources: [], delivery: { status: 'sent' } },
    ]);
  });

  it('/human in a web chat flags the conversation and tells the visitor someone will answer', async () => {
    const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${aliceBot}/chat`, headers: alice.auth, payload: { sessionId: 'preview-human', text: '/human' } });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^event: done$/m);
    expect(response.body).toContain('Someone will answer you here');
    const flagged = await list(alice, aliceBot, 'status=wants_human');
    expect(flagged.conversations).toHaveLength(1);
    expect(flagged.conversations[0]).toMatchObject({ channel: 'web', wantsHuman: true, takenOver: false });
  });
});
