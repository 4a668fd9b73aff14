import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { parseSse } from '../support/sse.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
});
afterAll(async () => {
  await platform?.stop();
});

/** One thing a user wrote at `at`, and what became of the bot's reply. */
interface Said {
  contact: string;
  at: string;
  text: string;
  kind?: 'text' | 'reaction';
  /** Milliseconds from the message to the reply being sent; omitted: no reply sent. */
  replyAfterMs?: number;
  delivery?: 'sent' | 'failed' | 'pending';
  uncovered?: boolean;
}

/** Writes messages as the pipeline leaves them (contact, conversation, inbound row, turn, ledger row) at chosen times. */
async function seed(botId: string, said: Said[]): Promise<void> {
  const pool = platform.infrastructure.database.pool;
  for (const s of said) {
    const { rows: contact } = await pool.query<{ id: string }>(
      `INSERT INTO public.contacts (bot_id, channel, external_id) VALUES ($1, 'telegram', $2)
       ON CONFLICT (bot_id, channel, external_id) DO UPDATE SET updated_at = now() RETURNING id`,
      [botId, s.contact],
    );
    const contactId = contact[0]!.id;
    const { rows: conversation } = await pool.query<{ id: string }>(
      `INSERT INTO public.conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, 'telegram', $3)
       ON CONFLICT (bot_id, channel, external_chat_id) DO UPDATE SET updated_at = now() RETURNING id`,
      [botId, contactId, s.contact],
    );
    const conversationId = conversation[0]!.id;
    let turnId: string | null = null;
    if ((s.kind ?? 'text') === 'text') {
      const sentAt = s.delivery === 'sent' && s.replyAfterMs !== undefined ? new Date(Date.parse(s.at) + s.replyAfterMs) : null;
      const { rows: turn } = await pool.query<{ id: string }>(
        `INSERT INTO public.turns (bot_id, conversation_id, kind, status, texts, reply, uncovered, created_at, last_message_at, answered_at)
         VALUES ($1, $2, 'message', 'answered', $3, 'a reply', $4, $5, $5, $6) RETURNING id`,
        [botId, conversationId, [s.text], s.uncovered ?? false, s.at, sentAt],
      );
      turnId = turn[0]!.id;
      if (s.delivery) {
        await pool.query(
          `INSERT INTO public.outbound_messages (bot_id, conversation_id, turn_id, status, text, created_at, sent_at, reply_latency_ms)
           VALUES ($1, $2, $3, $4, 'a reply', $5, $6, $7)`,
          [botId, conversationId, turnId, s.delivery, s.at, sentAt, sentAt ? s.replyAfterMs : null],
        );
      }
    }
    await pool.query(
      `INSERT INTO public.inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at, turn_id)
       VALUES ($1, 'telegram', $2, $3, $4, $5, $6, '{}', $7, $8)`,
      [botId, randomUUID(), conversationId, contactId, s.kind ?? 'text', s.text, s.at, turnId],
    );
  }
}

function analytics(session: CreatorSession, botId: string, query: string) {
  return platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/analytics?${query}`, headers: session.auth });
}

/** A day without check-ins or program activity. */
const noCoaching = {
  checkIns: { asked: 0, due: 0, done: 0, skipped: 0, adherence: null },
  programs: { enrolled: 0, stepsSent: 0, completed: 0, left: 0 },
};

const quiet = (date: string) => ({
  date,
  conversations: 0,
  activeContacts: 0,
  messagesIn: 0,
  messagesOut: 0,
  replyLatencyMs: { p50: null, p95: null },
  uncovered: 0,
  deliveries: { pending: 0, sending: 0, sent: 0, failed: 0 },
  ...noCoaching,
});

describe('GET /v1/bots/:botId/analytics', () => {
  it('counts per local day across the end of daylight saving time in Sydney (a 25-hour day), quiet days as zeros', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Running coach' });
    // Another bot of the same creator, busy on the same days: never counted.
    const other = await createBot(platform.app, alice.auth, { name: 'Other coach' });
    await seed(other.id, [{ contact: 'c1', at: '2026-04-05T02:00:00Z', text: 'What shoes should I buy?', replyAfterMs: 100, delivery: 'sent', uncovered: true }]);
    // Sydney: AEDT (+11) until 2026-04-05 03:00 local, AEST (+10) after; 5 April runs 13:00Z (4 Apr) to 14:00Z (5 Apr).
    await seed(bot.id, [
      // 4 April 23:30 local.
      { contact: 'c1', at: '2026-04-04T12:30:00Z', text: 'Is stretching useful?', replyAfterMs: 3000, delivery: 'sent', uncovered: true },
      // 5 April 00:30 local, 07:00, 13:00.
      { contact: 'c1', at: '2026-04-04T13:30:00Z', text: 'How do I start running?', replyAfterMs: 2000, delivery: 'sent' },
      { contact: 'c1', at: '2026-04-04T20:00:00Z', text: 'how do i start   running', replyAfterMs: 4000, delivery: 'sent' },
      { contact: 'c1', at: '2026-04-04T20:00:01Z', text: '👍', kind: 'reaction' },
      { contact: 'c2', at: '2026-04-05T02:00:00Z', text: 'What shoes should I buy?', replyAfterMs: 1000, delivery: 'sent', uncovered: true },
      // 5 April 23:30 local: the 25th hour (a fixed +11 would call it 6 April).
      { contact: 'c3', at: '2026-04-05T13:30:00Z', text: 'How do I START running?!', replyAfterMs: 9000, delivery: 'failed' },
      // 6 April 00:30 local.
      { contact: 'c2', at: '2026-04-05T14:30:00Z', text: 'What shoes should I buy', replyAfterMs: 5000, delivery: 'sent', uncovered: true },
    ]);

    const response = await analytics(alice, bot.id, 'from=2026-04-04&to=2026-04-07&tz=Australia/Sydney');
    expect(response.statusCode).toBe(200);
    const expected = {
      botId: bot.id,
      timeZone: 'Australia/Sydney',
      from: '2026-04-04',
      to: '2026-04-07',
      days: [
        {
          date: '2026-04-04',
          conversations: 1,
          activeContacts: 1,
          messagesIn: 1,
          messagesOut: 1,
          replyLatencyMs: { p50: 3000, p95: 3000 },
          uncovered: 1,
          deliveries: { pending: 0, sending: 0, sent: 1, failed: 0 },
          ...noCoaching,
        },
        {
          date: '2026-04-05',
          conversations: 3,
          activeContacts: 3,
          // The reaction is not a message.
          messagesIn: 4,
          // c3's reply failed: not sent, no latency.
          messagesOut: 3,
          // Sent latencies 1000, 2000, 4000: nearest rank 2 of 3 and 3 of 3.
          replyLatencyMs: { p50: 2000, p95: 4000 },
          uncovered: 1,
          deliveries: { pending: 0, sending: 0, sent: 3, failed: 1 },
          ...noCoaching,
        },
        {
          date: '2026-04-06',
          conversations: 1,
          activeContacts: 1,
          messagesIn: 1,
          messagesOut: 1,
          replyLatencyMs: { p50: 5000, p95: 5000 },
          uncovered: 1,
          deliveries: { pending: 0, sending: 0, sent: 1, failed: 0 },
          ...noCoaching,
        },
        quiet('2026-04-07'),
      ],
      topQuestions: [
        { question: 'How do I START running?!', count: 3, uncovered: 0, lastAskedAt: '2026-04-05T13:30:00.000Z' },
        { question: 'What shoes should I buy', count: 2, uncovered: 2, lastAskedAt: '2026-04-05T14:30:00.000Z' },
        { question: 'Is stretching useful?', count: 1, uncovered: 1, lastAskedAt: '2026-04-04T12:30:00.000Z' },
      ],
      uncoveredQuestions: [
        { question: 'What shoes should I buy', count: 2, uncovered: 2, lastAskedAt: '2026-04-05T14:30:00.000Z' },
        { question: 'Is stretching useful?', count: 1, uncovered: 1, lastAskedAt: '2026-04-04T12:30:00.000Z' },
      ],
      habits: [],
      programs: [],
    };
    expect(response.json()).toEqual(expected);
    // The days are over and settled: asked again (now from the kept figures), the answer is the same.
    expect((await analytics(alice, bot.id, 'from=2026-04-04&to=2026-04-07&tz=Australia/Sydney')).json()).toEqual(expected);
    // A wider range: kept days in the middle, the days either side aggregated.
    const wider = (await analytics(alice, bot.id, 'from=2026-04-03&to=2026-04-08&tz=Australia/Sydney')).json();
    expect(wider.days).toEqual([quiet('2026-04-03'), ...expected.days, quiet('2026-04-08')]);
    expect(wider.topQuestions).toEqual(expected.topQuestions);
    // A narrower range reads the same kept days.
    const narrow = (await analytics(alice, bot.id, 'from=2026-04-05&to=2026-04-05&tz=Australia/Sydney')).json();
    expect(narrow.days).toEqual([expected.days[1]]);
    expect(narrow.topQuestions.map((q: { question: string; count: number }) => [q.question, q.count])).toEqual([
      ['How do I START running?!', 3],
      ['What shoes should I buy?', 1],
    ]);
  });

  it('follows the start of daylight saving time in Berlin (a 23-hour day), and UTC by default', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Berlin coach' });
    // Berlin: CET (+1) until 2026-03-29 02:00 local, CEST (+2) after; 29 March runs 23:00Z (28th) to 22:00Z (29th).
    await seed(bot.id, [
      { contact: 'a', at: '2026-03-28T22:30:00Z', text: 'one' }, // 28 March 23:30
      { contact: 'a', at: '2026-03-28T23:30:00Z', text: 'two' }, // 29 March 00:30
      { contact: 'b', at: '2026-03-29T21:30:00Z', text: 'three' }, // 29 March 23:30
      { contact: 'b', at: '2026-03-29T22:30:00Z', text: 'four' }, // 30 March 00:30 (a fixed +1 would call it the 29th)
    ]);
    const berlin = (await analytics(alice, bot.id, 'from=2026-03-28&to=2026-03-30&tz=Europe/Berlin')).json();
    expect(berlin.days.map((d: { date: string; messagesIn: number; activeContacts: number }) => [d.date, d.messagesIn, d.activeContacts])).toEqual([
      ['2026-03-28', 1, 1],
      ['2026-03-29', 2, 2],
      ['2026-03-30', 1, 1],
    ]);
    const utc = (await analytics(alice, bot.id, 'from=2026-03-28&to=2026-03-30')).json();
    expect(utc.timeZone).toBe('UTC');
    expect(utc.days.map((d: { date: string; messagesIn: number }) => [d.date, d.messagesIn])).toEqual([
      ['2026-03-28', 2],
      ['2026-03-29', 2],
      ['2026-03-30', 0],
    ]);
  });

  it('puts the same moment on different dates either side of the date line', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Pacific coach' });
    await seed(bot.id, [{ contact: 'p', at: '2026-06-10T10:30:00Z', text: 'Bula!' }]);
    const counts = async (tz: string) =>
      ((await analytics(alice, bot.id, `from=2026-06-09&to=2026-06-11&tz=${tz}`)).json().days as Array<{ messagesIn: number }>).map((d) => d.messagesIn);
    // Kiritimati (+14): 11 June 00:30. Pago Pago (-11): 9 June 23:30.
    expect(await counts('Pacific/Kiritimati')).toEqual([0, 0, 1]);
    expect(await counts('Pacific/Pago_Pago')).toEqual([1, 0, 0]);
  });

  it("records at answer time which answers the material did not cover, from the bot's own chat", async () => {
    const ask = async (botId: string, text: string) => {
      const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/chat`, headers: alice.auth, payload: { sessionId: 's1', text } });
      expect(response.statusCode).toBe(200);
      const last = parseSse(response.body).at(-1)!;
      expect(last, JSON.stringify(last)).toMatchObject({ event: 'done' });
      return last.data;
    };
    const today = () => new Date().toISOString().slice(0, 10);
    // The browser has the reply a moment before the ledger records it as sent: wait for that record.
    const todayOf = async (botId: string) =>
      waitFor(
        async () => {
          const date = today();
          const body = (await analytics(alice, botId, `from=${date}&to=${date}`)).json();
          return body.days[0]?.messagesOut > 0 && body;
        },
        { what: 'the reply to be recorded as sent' },
      );

    // Answered from the material: covered.
    const guided = await createBot(platform.app, alice.auth, { name: 'Habits coach', language: 'en' });
    const guide = { name: 'coaching-guide.md', type: 'text/markdown', bytes: readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url)) };
    await uploadAndIngest(platform.app, alice.auth, guided.id, guide, { fields: { title: 'Steady Habits Guide' } });
    expect(((await ask(guided.id, 'How much sleep do adults need?')).sources as unknown[]).length).toBeGreaterThan(0);
    const covered = await todayOf(guided.id);
    expect(covered.days[0]).toMatchObject({ conversations: 1, activeContacts: 1, messagesIn: 1, messagesOut: 1, uncovered: 0 });
    expect(covered.days[0].replyLatencyMs.p50).toEqual(expect.any(Number));
    expect(covered.topQuestions).toEqual([expect.objectContaining({ question: 'How much sleep do adults need?', count: 1, uncovered: 0 })]);
    expect(covered.uncoveredQuestions).toEqual([]);

    // Nothing to draw on: the default "I don't know" in the bot's language.
    const empty = await createBot(platform.app, alice.auth, { name: 'Empty coach', language: 'en' });
    expect((await ask(empty.id, 'What is the capital of Mongolia?')).sources).toEqual([]);
    const missed = await todayOf(empty.id);
    expect(missed.days[0]).toMatchObject({ messagesIn: 1, messagesOut: 1, uncovered: 1 });
    expect(missed.uncoveredQuestions).toEqual([expect.objectContaining({ question: 'What is the capital of Mongolia?', count: 1, uncovered: 1 })]);

    // A bot with its own "I don't know" (and a regional language) is recognised by that reply.
    const own = await createBot(platform.app, alice.auth, { name: 'Own words', language: 'pt-BR', settings: { unknownAnswer: '  Not in my notes yet.  ' } });
    expect((await ask(own.id, 'Anything?')).reply).toBe('Not in my notes yet.');
    expect((await todayOf(own.id)).days[0]).toMatchObject({ messagesIn: 1, messagesOut: 1, uncovered: 1 });
  });

  it('answers 404 for another creator’s bot or an unknown one, and takes an API key', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Private coach' });
    expect((await analytics(bob, bot.id, 'from=2026-01-01&to=2026-01-02')).statusCode).toBe(404);
    expect((await analytics(alice, randomUUID(), 'from=2026-01-01&to=2026-01-02')).statusCode).toBe(404);
    expect((await analytics(alice, 'not-a-bot', 'from=2026-01-01&to=2026-01-02')).statusCode).toBe(404);
    expect((await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.id}/analytics` })).statusCode).toBe(401);

    const key = (await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: alice.auth, payload: { name: 'reports' } })).json().key as string;
    const byKey = await platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.id}/analytics?from=2026-01-01&to=2026-01-02`, headers: { authorization: `Bearer ${key}` } });
    expect(byKey.statusCode).toBe(200);
    expect(byKey.json().days).toEqual([quiet('2026-01-01'), quiet('2026-01-02')]);
  });

  it('defaults to the last 30 days up to today in the zone', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Default coach' });
    const body = (await analytics(alice, bot.id, 'tz=UTC')).json();
    expect(body.days).toHaveLength(30);
    expect(body.to).toBe(new Date().toISOString().slice(0, 10));
  });

  it('refuses bad dates, unknown zones, reversed and overlong ranges with a 400 naming the problem', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Strict coach' });
    const cases: Array<[string, RegExp]> = [
      ['from=2026/04/01&to=2026-04-02', /from/],
      ['from=2026-02-30&to=2026-03-02', /from: "2026-02-30" is not a date/],
      ['from=2026-01-01&to=2026-13-01', /to: "2026-13-01" is not a date/],
      ['from=2026-01-01&to=2026-01-02&tz=Mars/Olympus_Mons', /unknown time zone/],
      ['from=2026-01-01&to=2026-01-02&tz=%2B02:00', /unknown time zone/],
      ['from=2026-01-01&to=2026-01-02&tz=', /unknown time zone/],
      ['from=2026-04-02&to=2026-04-01', /after/],
      ['from=2025-01-01&to=2026-01-02', /367 days; at most 366/],
    ];
    for (const [query, message] of cases) {
      const response = await analytics(alice, bot.id, query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code, query).toBe('VALIDATION_FAILED');
      expect(response.json().error.message, query).toMatch(message);
    }
    // 366 days is the most allowed.
    expect((await analytics(alice, bot.id, 'from=2025-01-02&to=2026-01-02')).statusCode).toBe(200);
  });
});
