import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { travellingClock, type TravellingClock } from '../support/coaching-e2e.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { openSse, type LiveSse } from '../support/sse-client.js';
import { textUpdate } from '../support/telegram-updates.js';
import { connectedBot, freePort, ledger, turnsOf, type ConnectedBot } from '../support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// Human takeover end to end: a Telegram user writes through the fake Bot API, the creator takes the
// conversation over, writes to them and hands it back through the API, and the workers answer (or
// hold) the user's turns with the model behind the fake Ollama.

const REPLY = 'Keep the same wake-up time every day, weekends included.';
const HANDOFF_PHRASE = 'talk to a human';

let telegram: FakeTelegram;
let ollama: FakeOllama;
let platform: TestPlatform;
let bot: ConnectedBot;
let time: TravellingClock;
let nextUpdateId = 50_000;
let nextChatId = 7_000;
let base: string;

interface Listed {
  id: string;
  takenOver: boolean;
  wantsHuman: boolean;
  unanswered: boolean;
  lastMessage: { type: string; text: string | null } | null;
}
type Item =
  | { type: 'user'; text: string | null; held: boolean }
  | { type: 'reply' | 'notice' | 'creator'; text: string | null; delivery: { status: string } }
  | { type: 'event'; event: string; by: string };

beforeAll(async () => {
  telegram = await startFakeTelegram();
  ollama = await startFakeOllama({ chatReply: REPLY });
  time = travellingClock();
  const port = await freePort();
  platform = await startTestPlatform(
    {
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OLLAMA_HOST: ollama.url,
      TELEGRAM_THROTTLE: 'false',
      RECONCILE_INTERVAL_MS: '200',
      RECONCILE_GRACE_MS: '2000',
      TAKEOVER_IDLE_RELEASE_MINUTES: '30',
    },
    { clock: time.clock },
  );
  await platform.app.listen({ host: '127.0.0.1', port });
  base = `http://127.0.0.1:${port}`;
  bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0, humanHandoffPhrases: [HANDOFF_PHRASE] } });
});

afterEach(() => {
  ollama.holdChatsAfter(null);
  ollama.releaseChats();
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await ollama?.close();
});

async function say(chatId: number, text: string): Promise<void> {
  const response = await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { updateId: nextUpdateId++, chatId }));
  expect(response.status).toBe(200);
}

function api(method: 'GET' | 'POST', url: string, payload?: object) {
  return platform.app.inject({ method, url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

async function conversationOf(chatId: number): Promise<string> {
  return waitFor(
    async () => {
      const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(`SELECT id FROM conversations WHERE bot_id = $1 AND external_chat_id = $2`, [
        bot.botId,
        String(chatId),
      ]);
      return rows[0]?.id;
    },
    { what: `the conversation of chat ${chatId}` },
  );
}

async function listed(conversationId: string, query = ''): Promise<Listed | undefined> {
  const response = await api('GET', `/conversations?limit=100${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { conversations: Listed[] }).conversations.find((c) => c.id === conversationId);
}

async function transcript(conversationId: string): Promise<Item[]> {
  const response = await api('GET', `/conversations/${conversationId}/messages?limit=200`);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { items: Item[] }).items;
}

/** Messages the bot (or the creator through it) sent into the chat: sendMessage calls, drafts aside. */
function sentTo(chatId: number): string[] {
  return telegram.callsOf('sendMessage').filter((c) => c.params.chat_id === chatId).map((c) => String(c.params.text));
}

/** Waits until the chat's ledger rows are all recorded sent (a moment after Telegram has the message). */
async function allSent(chatId: number) {
  await waitFor(async () => (await ledger(platform, bot.botId, chatId)).every((r) => r.status === 'sent'), { what: `chat ${chatId}'s messages recorded sent` });
}

/** Waits until every turn of the chat is settled and `count` of them exist. */
async function settled(chatId: number, count: number) {
  return waitFor(
    async () => {
      const turns = await turnsOf(platform, bot.botId, chatId);
      return turns.length === count && turns.every((t) => t.status !== 'processing') ? turns : undefined;
    },
    { what: `${count} settled turns in chat ${chatId}` },
  );
}

describe('a creator takes a Telegram conversation over', () => {
  it('holds the bot while taken over, sends the creator’s text exactly once, and the bot answers again after the release', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'How much sleep do I need?');
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the bot’s first reply' });
    await allSent(chatId);
    const conversationId = await conversationOf(chatId);
    expect(await listed(conversationId)).toMatchObject({ takenOver: false, wantsHuman: false });

    // Taken over after the reply went out: the reply stays as it was.
    const taken = await api('POST', `/conversations/${conversationId}/takeover`);
    expect(taken.statusCode, taken.body).toBe(200);
    expect(taken.json()).toMatchObject({ conversationId, takenOver: true, wantsHuman: false });
    expect(taken.json().takenOverAt).toEqual(expect.any(String));
    expect(telegram.texts(chatId)).toHaveLength(1);
    expect((await ledger(platform, bot.botId, chatId)).map((r) => r.status)).toEqual(['sent']);
    expect(await listed(conversationId, '&status=taken_over')).toMatchObject({ takenOver: true });

    // The user writes again: stored and shown, not answered, and not left looking unanswered forever.
    await say(chatId, 'Are you a real person?');
    const turns = await settled(chatId, 2);
    expect(turns[1]).toMatchObject({ status: 'held', texts: ['Are you a real person?'] });
    expect(telegram.texts(chatId)).toHaveLength(1);
    expect(await listed(conversationId)).toMatchObject({ takenOver: true, unanswered: false, lastMessage: { type: 'user', text: 'Are you a real person?' } });

    // The creator answers; the same clientMessageId posted again sends nothing twice.
    const text = 'Yes! This is Maya herself. Seven to nine hours suits most adults.';
    const first = await api('POST', `/conversations/${conversationId}/messages`, { text, clientMessageId: 'reply-1' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ clientMessageId: 'reply-1', text, status: 'sent', error: null });
    const again = await api('POST', `/conversations/${conversationId}/messages`, { text, clientMessageId: 'reply-1' });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ id: first.json().id, status: 'sent' });
    expect(sentTo(chatId).filter((t) => t === text)).toHaveLength(1);
    expect(telegram.texts(chatId)).toEqual([expect.stringContaining(REPLY), text]);
    expect(await listed(conversationId)).toMatchObject({ lastMessage: { type: 'creator', text } });

    const released = await api('POST', `/conversations/${conversationId}/release`);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toMatchObject({ takenOver: false, takenOverAt: null });
    expect(await listed(conversationId, '&status=taken_over')).toBeUndefined();

    // Handed back: the bot answers the next message.
    await say(chatId, 'What time should I wake up?');
    await waitFor(() => telegram.texts(chatId).length === 3, { what: 'the bot’s reply after the release' });
    expect(telegram.texts(chatId)[2]).toContain(REPLY);
    await allSent(chatId);

    // The transcript tells the story in order.
    const story = (await transcript(conversationId)).map((item) =>
      item.type === 'event' ? `${item.event} by ${item.by}` : item.type === 'user' ? `user${item.held ? ' (held)' : ''}: ${item.text}` : `${item.type} ${item.delivery.status}`,
    );
    expect(story).toEqual([
      'user: How much sleep do I need?',
      'reply sent',
      'takeover by creator',
      'user (held): Are you a real person?',
      'creator sent',
      'release by creator',
      'user: What time should I wake up?',
      'reply sent',
    ]);
  });

  it('a turn already generating when the takeover is stored sends nothing', async () => {
    const chatId = nextChatId++;
    ollama.holdChatsAfter(2);
    const held = ollama.waitForHeldChat();
    await say(chatId, 'How do I stop waking up at 4am?');
    await held;
    const conversationId = await conversationOf(chatId);
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    ollama.releaseChats();
    const [turn] = await settled(chatId, 1);
    expect(turn!.status).toBe('held');
    // The user may have glimpsed a draft while the model wrote; no message was sent.
    expect(sentTo(chatId)).toEqual([]);
    expect(telegram.texts(chatId)).toEqual([]);
    expect(await ledger(platform, bot.botId, chatId)).toEqual([]);
    expect(await listed(conversationId)).toMatchObject({ takenOver: true, unanswered: false });
    expect((await transcript(conversationId)).map((i) => i.type)).toEqual(['user', 'event']);
  });

  it('in a group, the preview being edited when the takeover is stored is deleted, not left as an answer', async () => {
    const groupId = -(nextChatId++);
    ollama.holdChatsAfter(2);
    const held = ollama.waitForHeldChat();
    const update = textUpdate('How long should a nap be?', { updateId: nextUpdateId++, chatId: groupId, fromId: 4_242 });
    expect((await telegram.deliverUpdate(bot.fakeBot.token, update)).status).toBe(200);
    await held;
    // Groups have no drafts: the reply grows in a real message, edited as it is written.
    await waitFor(() => telegram.texts(groupId).length === 1, { what: 'the growing preview in the group' });
    const conversationId = await conversationOf(groupId);
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    ollama.releaseChats();
    const [turn] = await settled(groupId, 1);
    expect(turn!.status).toBe('held');
    await waitFor(() => telegram.texts(groupId).length === 0, { what: 'the preview deleted' });
    expect(telegram.callsOf('deleteMessage').filter((c) => c.params.chat_id === groupId)).toHaveLength(1);
    expect(await ledger(platform, bot.botId, groupId)).toEqual([]);
  });

  it('a /stop sent while taken over still opts the contact out, without a reply from the bot', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'Hi there');
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the bot’s reply' });
    const conversationId = await conversationOf(chatId);
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    await say(chatId, '/stop');
    const turns = await settled(chatId, 2);
    expect(turns[1]).toMatchObject({ kind: 'command', status: 'held' });
    expect(telegram.texts(chatId)).toHaveLength(1);
    const { rows } = await platform.infrastructure.database.pool.query<{ opted_out_at: Date | null }>(
      `SELECT cc.opted_out_at FROM contact_coaching cc JOIN conversations c ON c.contact_id = cc.contact_id WHERE c.id = $1`,
      [conversationId],
    );
    expect(rows[0]?.opted_out_at).toBeInstanceOf(Date);
  });

  it('an idle takeover goes back to the bot after TAKEOVER_IDLE_RELEASE_MINUTES', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'Is a nap after lunch a good idea?');
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the bot’s reply' });
    const conversationId = await conversationOf(chatId);
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    time.travel(31 * 60_000);
    await waitFor(async () => (await listed(conversationId))?.takenOver === false, { what: 'the idle release' });
    expect((await transcript(conversationId)).filter((i) => i.type === 'event')).toEqual([
      expect.objectContaining({ event: 'takeover', by: 'creator' }),
      expect.objectContaining({ event: 'release', by: 'idle' }),
    ]);
    await say(chatId, 'And how long should it be?');
    await waitFor(() => telegram.texts(chatId).length === 2, { what: 'the bot answering again' });
  });
});

describe('a user asks for a person', () => {
  async function humanRequestEmails() {
    const response = await platform.app.inject({ url: '/v1/dev/outbox?limit=100', headers: bot.session.auth });
    expect(response.statusCode).toBe(200);
    return (response.json() as { entries: Array<{ category: string; subject: string; text: string }> }).entries.filter((e) => e.category === 'human-requested');
  }

  it('/human flags the conversation, emails the creator once per request and tells the user someone will answer', async () => {
    const chatId = nextChatId++;
    const before = (await humanRequestEmails()).length;
    await say(chatId, '/human');
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the polite answer' });
    expect(telegram.texts(chatId)[0]).toMatch(/someone will answer you here/i);
    const conversationId = await conversationOf(chatId);
    expect(await listed(conversationId, '&status=wants_human')).toMatchObject({ wantsHuman: true, takenOver: false });
    const [email] = await waitFor(async () => {
      const emails = await humanRequestEmails();
      return emails.length === before + 1 ? emails : undefined;
    }, { what: 'the email to the creator' });
    expect(email!.subject).toMatch(/would like to talk to a person/);

    // Asking again while the request is open: answered again, but no second email.
    await say(chatId, '/human');
    await waitFor(() => telegram.texts(chatId).length === 2, { what: 'the second polite answer' });
    await settled(chatId, 2);
    expect(await humanRequestEmails()).toHaveLength(before + 1);

    // Taking over answers the request.
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).json()).toMatchObject({ takenOver: true, wantsHuman: false });
    expect(await listed(conversationId, '&status=wants_human')).toBeUndefined();
    expect((await transcript(conversationId)).filter((i) => i.type === 'event').map((i) => (i as { event: string }).event)).toEqual(['human_requested', 'takeover']);
  });

  it('the bot’s handoff phrase works as /human does, inside a longer message', async () => {
    const chatId = nextChatId++;
    const before = (await humanRequestEmails()).length;
    await say(chatId, 'Honestly, can I Talk to a HUMAN, please?');
    await waitFor(() => telegram.texts(chatId).length === 1, { what: 'the polite answer' });
    expect(telegram.texts(chatId)[0]).toMatch(/someone will answer you here/i);
    const conversationId = await conversationOf(chatId);
    expect(await listed(conversationId)).toMatchObject({ wantsHuman: true });
    await waitFor(async () => (await humanRequestEmails()).length === before + 1, { what: 'the email to the creator' });
    // No model call answered it.
    expect(ollama.chatRequests.some((r) => JSON.stringify(r.messages).includes('Talk to a HUMAN'))).toBe(false);
  });
});

describe('the bot’s live events', () => {
  let stream: LiveSse | undefined;
  afterEach(() => stream?.drop());

  /** The conversation's `conversation` events so far, as "change by who". */
  const changes = (conversationId: string) =>
    stream!.events.filter((e) => e.event === 'conversation' && e.data.conversationId === conversationId).map((e) => `${String(e.data.change)} by ${String(e.data.by)}`);

  it('tell the dashboard of a request for a person, takeovers, held messages, the creator’s messages and releases, each once', async () => {
    stream = await openSse(`${base}/v1/bots/${bot.botId}/events`, { headers: bot.session.auth });
    await stream.waitFor((e) => e.event === 'ready', 'the ready event');
    const chatId = nextChatId++;
    await say(chatId, '/human');
    const conversationId = await conversationOf(chatId);
    await stream.waitFor((e) => e.event === 'conversation' && e.data.conversationId === conversationId && e.data.change === 'human_requested', 'the request for a person');

    // Taken over twice, released twice: only the changes are told.
    for (let i = 0; i < 2; i++) expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    // The contact's message while taken over is settled unanswered: the inbox hears that too.
    await say(chatId, 'Anyone there?');
    await stream.waitFor((e) => e.event === 'conversation' && e.data.conversationId === conversationId && e.data.change === 'message_held', 'the held message');
    const sent = await api('POST', `/conversations/${conversationId}/messages`, { text: 'Maya here, how can I help?', clientMessageId: 'live-1' });
    expect(sent.statusCode, sent.body).toBe(200);
    expect((await api('POST', `/conversations/${conversationId}/messages`, { text: 'Maya here, how can I help?', clientMessageId: 'live-1' })).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await api('POST', `/conversations/${conversationId}/release`)).statusCode).toBe(200);
    // Left idle, a takeover is released by the workers, and the dashboard hears of it too.
    expect((await api('POST', `/conversations/${conversationId}/takeover`)).statusCode).toBe(200);
    time.travel(31 * 60_000);
    await stream.waitFor((e) => e.event === 'conversation' && e.data.conversationId === conversationId && e.data.by === 'idle', 'the idle release');
    expect(changes(conversationId)).toEqual([
      'human_requested by contact',
      'takeover by creator',
      'message_held by contact',
      'creator_message_sent by creator',
      'release by creator',
      'takeover by creator',
      'release by idle',
    ]);
  });
});
