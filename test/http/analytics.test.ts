import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextAsk } from '../../src/coaching/habit-days.js';
import { askKey } from '../../src/coaching/habit.service.js';
import { HabitRepository } from '../../src/db/habit.repository.js';
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

/** A Telegram contact of the bot living in `timeZone` (as they told the bot), with their conversation. */
async function contactIn(botId: string, name: string, timeZone: string): Promise<{ contactId: string; conversationId: string }> {
  const pool = platform.infrastructure.database.pool;
  const { rows: contact } = await pool.query<{ id: string }>(
    `INSERT INTO public.contacts (bot_id, channel, external_id) VALUES ($1, 'telegram', $2) RETURNING id`,
    [botId, name],
  );
  const contactId = contact[0]!.id;
  const { rows: conversation } = await pool.query<{ id: string }>(
    `INSERT INTO public.conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, 'telegram', $3) RETURNING id`,
    [botId, contactId, name],
  );
  await pool.query(`INSERT INTO public.contact_coaching (contact_id, bot_id, time_zone, time_zone_source) VALUES ($1, $2, $3, 'user')`, [
    contactId,
    botId,
    timeZone,
  ]);
  return { contactId, conversationId: conversation[0]!.id };
}

/** A step or habit ask as the proactive core leaves it once it is over. */
async function proactiveSend(
  botId: string,
  who: { contactId: string; conversationId: string },
  send: { effectKey: string; kind: 'habit_ask' | 'program_step'; at: Date | string; status: 'sent' | 'skipped' | 'failed' },
): Promise<void> {
  await platform.infrastructure.database.pool.query(
    `INSERT INTO public.proactive_sends (bot_id, contact_id, conversation_id, effect_key, kind, due_at, status, settled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $6)`,
    [botId, who.contactId, who.conversationId, send.effectKey, send.kind, new Date(send.at), send.status],
  );
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
    // The browser has the reply a moment before the worker records it as sent, and today's figures
    // stand for a minute once read: read them once every reply of the bot is recorded.
    const todayOf = async (botId: string) => {
      await waitFor(
        async () => {
          const { rows } = await platform.infrastructure.database.pool.query<{ open: number }>(
            `SELECT count(*)::int AS open FROM outbound_messages WHERE bot_id = $1 AND status <> 'sent'`,
            [botId],
          );
          return rows[0]!.open === 0;
        },
        { what: 'the reply to be recorded as sent' },
      );
      const date = today();
      return (await analytics(alice, botId, `from=${date}&to=${date}`)).json();
    };

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

  it("counts check-ins by each contact's own local date: exact across a DST change and a contact on the other side of the world", async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Walking coach' });
    const post = (payload: object) => platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/habits`, headers: alice.auth, payload });
    const walk = (await post({ name: 'Morning walk', localTime: '07:00' })).json() as { id: string };
    const reading = (await post({ name: 'Evening read', localTime: '20:00' })).json() as { id: string };
    const pool = platform.infrastructure.database.pool;
    const habits = new HabitRepository(pool);

    /** Subscribes the contact and leaves each day's 07:00 ask (computed as the habit code does) and its answer. */
    const follow = async (name: string, zone: string, days: Array<{ date: string; ask: 'sent' | 'skipped' | null; answer?: 'done' | 'skipped' }>) => {
      const who = await contactIn(bot.id, name, zone);
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO public.habit_subscriptions (habit_id, bot_id, contact_id, conversation_id, started_on) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [walk.id, bot.id, who.contactId, who.conversationId, days[0]!.date],
      );
      const subscriptionId = rows[0]!.id;
      let previous = new Date(Date.parse(days[0]!.date) - 86_400_000).toISOString().slice(0, 10);
      const sent: Date[] = [];
      for (const day of days) {
        const ask = nextAsk({ localTime: '07:00', daysOfWeek: [], timesPerWeek: null }, zone, new Date('2026-04-01T00:00:00Z'), previous);
        previous = ask.localDate;
        sent.push(ask.at);
        expect(ask.localDate).toBe(day.date);
        if (day.ask) await proactiveSend(bot.id, who, { effectKey: askKey(subscriptionId, day.date), kind: 'habit_ask', at: ask.at, status: day.ask });
        if (day.answer) await habits.checkIn(subscriptionId, { localDate: day.date, status: day.answer }, 'button');
      }
      return sent;
    };

    // Auckland: NZDT (+13) until 5 April 03:00 local, NZST (+12) after. Each 07:00 ask there goes out the
    // evening before in New York, so a count by when it went out would put every one on the wrong day.
    const auckland = await follow('kiri', 'Pacific/Auckland', [
      { date: '2026-04-03', ask: 'sent', answer: 'done' },
      { date: '2026-04-04', ask: 'sent', answer: 'done' },
      { date: '2026-04-05', ask: 'sent', answer: 'skipped' },
      { date: '2026-04-06', ask: 'sent', answer: 'done' },
      { date: '2026-04-07', ask: 'sent' },
    ]);
    expect(auckland.map((at) => at.toISOString())).toEqual([
      '2026-04-02T18:00:00.000Z',
      '2026-04-03T18:00:00.000Z',
      '2026-04-04T19:00:00.000Z',
      '2026-04-05T19:00:00.000Z',
      '2026-04-06T19:00:00.000Z',
    ]);
    // Los Angeles: the 5 April ask could not go out (still due: the contact was owed it); 6 April unanswered.
    await follow('lou', 'America/Los_Angeles', [
      { date: '2026-04-04', ask: 'sent', answer: 'done' },
      { date: '2026-04-05', ask: 'skipped' },
      { date: '2026-04-06', ask: 'sent' },
    ]);

    const expected = [
      { date: '2026-04-03', checkIns: { asked: 1, due: 1, done: 1, skipped: 0, adherence: 1 } },
      { date: '2026-04-04', checkIns: { asked: 2, due: 2, done: 2, skipped: 0, adherence: 1 } },
      // Auckland's 25-hour day: one ask, one answer ("not today"); Los Angeles' ask that could not go out.
      { date: '2026-04-05', checkIns: { asked: 1, due: 2, done: 0, skipped: 1, adherence: 0 } },
      { date: '2026-04-06', checkIns: { asked: 2, due: 2, done: 1, skipped: 0, adherence: 0.5 } },
      { date: '2026-04-07', checkIns: { asked: 1, due: 1, done: 0, skipped: 0, adherence: 0 } },
      { date: '2026-04-08', checkIns: { asked: 0, due: 0, done: 0, skipped: 0, adherence: null } },
    ];
    const read = async (tz: string) => {
      const response = await analytics(alice, bot.id, `from=2026-04-03&to=2026-04-08&tz=${tz}`);
      expect(response.statusCode).toBe(200);
      return response.json();
    };
    const newYork = await read('America/New_York');
    expect(newYork.days.map((d: { date: string; checkIns: unknown }) => ({ date: d.date, checkIns: d.checkIns }))).toEqual(expected);
    expect(newYork.habits).toEqual([
      { habitId: walk.id, name: 'Morning walk', asked: 7, due: 8, done: 4, skipped: 1, adherence: 0.5 },
      { habitId: reading.id, name: 'Evening read', asked: 0, due: 0, done: 0, skipped: 0, adherence: null },
    ]);
    // Read from the other side of the date line (and from the kept days the second time): the same days.
    for (const tz of ['Pacific/Kiritimati', 'Pacific/Kiritimati', 'America/New_York']) {
      expect((await read(tz)).days.map((d: { date: string; checkIns: unknown }) => ({ date: d.date, checkIns: d.checkIns }))).toEqual(expected);
    }

    // Los Angeles taps "Done" on the 6 April ask long after: the kept days count it.
    const { rows: lou } = await pool.query<{ id: string }>(
      `SELECT s.id FROM public.habit_subscriptions s JOIN public.contacts c ON c.id = s.contact_id WHERE s.bot_id = $1 AND c.external_id = 'lou'`,
      [bot.id],
    );
    await habits.checkIn(lou[0]!.id, { localDate: '2026-04-06', status: 'done' }, 'button');
    const sixth = { date: '2026-04-06', checkIns: { asked: 2, due: 2, done: 2, skipped: 0, adherence: 1 } };
    for (const tz of ['America/New_York', 'Pacific/Kiritimati']) {
      const days = (await read(tz)).days.map((d: { date: string; checkIns: unknown }) => ({ date: d.date, checkIns: d.checkIns }));
      expect(days).toEqual(expected.map((d) => (d.date === sixth.date ? sixth : d)));
    }
  });

  it('counts program enrollments, delivered steps, completions (last step delivered) and leaves per local day, and each program’s completion', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Program coach' });
    const post = (payload: object) => platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/programs`, headers: alice.auth, payload });
    const steps = [{ text: 'Day 1: pick a wake-up time.' }, { afterDays: 1, text: 'Day 2: get outside in the first hour.' }];
    const sleep = (await post({ name: 'Sleep reset', slug: 'sleep', steps })).json() as { id: string };
    const unused = (await post({ name: 'Unused', slug: 'unused', steps })).json() as { id: string };
    const pool = platform.infrastructure.database.pool;

    /** An enrollment as the program code leaves it: its steps' sends, and its status as of its last change. */
    const enrollment = async (name: string, e: { at: string; steps: Array<{ at: string; status: 'sent' | 'skipped' }>; status: 'active' | 'completed' | 'left'; changedAt?: string }) => {
      const who = await contactIn(bot.id, name, 'Europe/London');
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO public.program_enrollments (program_id, bot_id, contact_id, conversation_id, status, next_step, enrolled_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [sleep.id, bot.id, who.contactId, who.conversationId, e.status, e.steps.filter((s) => s.status === 'sent').length, e.at, e.changedAt ?? e.at],
      );
      for (const [index, step] of e.steps.entries()) {
        await proactiveSend(bot.id, who, { effectKey: `program:${rows[0]!.id}:${index}`, kind: 'program_step', at: step.at, status: step.status });
      }
    };
    // Sydney: AEDT (+11) until 5 April 03:00 local, AEST (+10) after.
    // Enrolled 4 April 23:30 local, first step at once; the last step delivered 5 April 23:30 (the 25th hour) completes it.
    await enrollment('p1', {
      at: '2026-04-04T12:30:00Z',
      steps: [
        { at: '2026-04-04T12:30:05Z', status: 'sent' },
        { at: '2026-04-05T13:30:00Z', status: 'sent' },
      ],
      status: 'completed',
      changedAt: '2026-04-05T13:30:01Z',
    });
    // Enrolled 5 April 12:00 local, left 6 April 00:30 local after one step.
    await enrollment('p2', { at: '2026-04-05T02:00:00Z', steps: [{ at: '2026-04-05T02:00:05Z', status: 'sent' }], status: 'left', changedAt: '2026-04-05T14:30:00Z' });
    // Enrolled 6 April; its first step could not go out (not delivered).
    await enrollment('p3', { at: '2026-04-06T01:00:00Z', steps: [{ at: '2026-04-06T01:00:05Z', status: 'skipped' }], status: 'active' });

    const body = (await analytics(alice, bot.id, 'from=2026-04-04&to=2026-04-07&tz=Australia/Sydney')).json();
    expect(body.days.map((d: { date: string; programs: unknown }) => [d.date, d.programs])).toEqual([
      ['2026-04-04', { enrolled: 1, stepsSent: 1, completed: 0, left: 0 }],
      ['2026-04-05', { enrolled: 1, stepsSent: 2, completed: 1, left: 0 }],
      ['2026-04-06', { enrolled: 1, stepsSent: 0, completed: 0, left: 1 }],
      ['2026-04-07', { enrolled: 0, stepsSent: 0, completed: 0, left: 0 }],
    ]);
    expect(body.programs).toEqual([
      { programId: sleep.id, name: 'Sleep reset', enrolled: 3, completed: 1, left: 1, completionRate: 1 / 3 },
      { programId: unused.id, name: 'Unused', enrolled: 0, completed: 0, left: 0, completionRate: null },
    ]);
    // Only the enrollments started in the range: from 5 April, p1 (enrolled the 4th) is not in the cohort.
    const later = (await analytics(alice, bot.id, 'from=2026-04-05&to=2026-04-07&tz=Australia/Sydney')).json();
    expect(later.programs[0]).toEqual({ programId: sleep.id, name: 'Sleep reset', enrolled: 2, completed: 0, left: 1, completionRate: 0 });
  });

  it('computes again a day kept before check-ins and programs were counted, and keeps it with them', async () => {
    const bot = await createBot(platform.app, alice.auth, { name: 'Upgraded coach' });
    await seed(bot.id, [{ contact: 'u1', at: '2026-05-04T09:00:00Z', text: 'Hello' }]);
    const habit = (await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/habits`, headers: alice.auth, payload: { name: 'Stretch', localTime: '09:00' } })).json() as {
      id: string;
    };
    const pool = platform.infrastructure.database.pool;
    const who = await contactIn(bot.id, 'u2', 'UTC');
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO public.habit_subscriptions (habit_id, bot_id, contact_id, conversation_id, started_on) VALUES ($1, $2, $3, $4, '2026-05-04') RETURNING id`,
      [habit.id, bot.id, who.contactId, who.conversationId],
    );
    await proactiveSend(bot.id, who, { effectKey: askKey(rows[0]!.id, '2026-05-04'), kind: 'habit_ask', at: '2026-05-04T09:00:00Z', status: 'sent' });
    await new HabitRepository(pool).checkIn(rows[0]!.id, { localDate: '2026-05-04', status: 'done' }, 'text');
    // The day as an earlier release kept it: settled, without the new figures.
    const { checkIns: _c, programs: _p, ...old } = { ...quiet('2026-05-04'), conversations: 1, activeContacts: 1, messagesIn: 1 };
    await pool.query(
      `INSERT INTO public.analytics_days (bot_id, time_zone, day, figures, settled) VALUES ($1, 'UTC', '2026-05-04', $2, true)`,
      [bot.id, JSON.stringify({ ...old, questions: [], uncoveredQuestions: [] })],
    );

    const day = { ...quiet('2026-05-04'), conversations: 1, activeContacts: 1, messagesIn: 1, checkIns: { asked: 1, due: 1, done: 1, skipped: 0, adherence: 1 } };
    const first = await analytics(alice, bot.id, 'from=2026-05-04&to=2026-05-04&tz=UTC');
    expect(first.statusCode).toBe(200);
    expect(first.json().days).toEqual([day]);
    expect(first.json().habits).toEqual([{ habitId: habit.id, name: 'Stretch', asked: 1, due: 1, done: 1, skipped: 0, adherence: 1 }]);
    // Kept again with the new figures, and served from there.
    const { rows: kept } = await pool.query<{ figures: { checkIns?: unknown } }>(`SELECT figures FROM public.analytics_days WHERE bot_id = $1`, [bot.id]);
    expect(kept[0]!.figures.checkIns).toEqual(day.checkIns);
    expect((await analytics(alice, bot.id, 'from=2026-05-04&to=2026-05-04&tz=UTC')).json().days).toEqual([day]);
  });
});
