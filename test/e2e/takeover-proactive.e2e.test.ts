import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELD_REASON, SKIP_REASONS } from '../../src/coaching/proactive.service.js';
import { coachingOnTelegram, nextNoonUtc, travellingClock, type CoachingOnTelegram } from '../support/coaching-e2e.js';
import type { FakeTelegram } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import type { ConnectedBot } from '../support/telegram-e2e.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// The bot's own messages while a person has the conversation: program steps and habit check-ins
// wait for the release and then go out once, in order; a broadcast skips that contact and says why.
// The platform's clock starts at the next 12:00 UTC (contacts on UTC, quiet hours 21:00–08:00).

const noon = nextNoonUtc();
const { clock, travel } = travellingClock(noon);

let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;
let coaching: CoachingOnTelegram;
let nextUpdateId = 120_000;
let nextChatId = 12_100_000;

interface Scheduled {
  id: string;
  kind: string;
  effectKey: string;
  status: string;
  reason: string | null;
}

beforeAll(async () => {
  // Idle takeovers are handed back after a day here: the clock travels hours while one is held.
  coaching = await coachingOnTelegram(clock, { TAKEOVER_IDLE_RELEASE_MINUTES: '1440' });
  ({ telegram, platform, bot } = coaching);
});

afterAll(async () => {
  await coaching?.stop();
});

function api(method: 'GET' | 'POST', url: string, payload?: object) {
  return platform.app.inject({ method, url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

async function say(chatId: number, text: string) {
  expect((await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { chatId, updateId: nextUpdateId++ }))).status).toBe(200);
}

const texts = (chatId: number, count: number, what: string) => waitFor(() => (telegram.texts(chatId).length >= count ? telegram.texts(chatId) : null), { what });
const sendsOf = (text: string) => telegram.callsOf('sendMessage').filter((c) => c.params.text === text).length;

async function conversationOf(chatId: number): Promise<{ id: string; contactId: string }> {
  const { rows } = await platform.infrastructure.database.pool.query<{ id: string; contactId: string }>(
    `SELECT id, contact_id AS "contactId" FROM conversations WHERE bot_id = $1 AND external_chat_id = $2`,
    [bot.botId, String(chatId)],
  );
  return rows[0]!;
}

async function scheduled(contactId: string): Promise<Scheduled[]> {
  const response = await api('GET', `/scheduled-messages?contactId=${contactId}&limit=100`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().messages;
}

describe('proactive messages while a person has the conversation', () => {
  it('a program step and a habit check-in due during a takeover wait, and go out once, in order, after the release', async () => {
    const program = await api('POST', '/programs', {
      name: 'Calm mornings',
      slug: 'calm-mornings',
      steps: [{ text: 'Calm 1: breathe in for four.' }, { afterMinutes: 30, text: 'Calm 2: breathe out for six.' }, { afterMinutes: 30, text: 'Calm 3: repeat ten times.' }],
    });
    expect(program.statusCode, program.body).toBe(201);
    expect((await api('POST', '/habits', { name: 'Breathe', localTime: '12:45' })).statusCode).toBe(201);
    const chatId = nextChatId++;
    await say(chatId, '/start calm-mornings');
    await texts(chatId, 2, 'the enrollment reply and the first step');
    await say(chatId, '/habit Breathe');
    expect((await texts(chatId, 3, 'the habit joined'))[2]).toMatch(/joined “Breathe”/);
    const conversation = await conversationOf(chatId);

    // Taken over while the second step's job is already queued (due 12:30) and the check-in's (12:45).
    expect((await api('POST', `/conversations/${conversation.id}/takeover`)).statusCode).toBe(200);
    travel(50 * 60_000);
    const held = await waitFor(
      async () => {
        const due = (await scheduled(conversation.contactId)).filter((m) => m.status === 'scheduled' && m.reason === HELD_REASON);
        return due.length === 2 ? due : null;
      },
      { what: 'the step and the check-in held' },
    );
    expect(held.map((m) => m.kind).sort()).toEqual(['habit_ask', 'program_step']);
    // The person writes meanwhile; the bot's own messages stay out of it.
    const mine = await api('POST', `/conversations/${conversation.id}/messages`, { text: 'Maya here — how are the mornings going?' });
    expect(mine.statusCode, mine.body).toBe(200);
    await platform.coaching.proactive.reconcile(0);
    for (const send of held) expect(await platform.coaching.proactive.deliver(send.id)).toEqual({ outcome: 'held' });
    expect(telegram.texts(chatId)).toHaveLength(4);
    expect(sendsOf('Calm 2: breathe out for six.')).toBe(0);

    expect((await api('POST', `/conversations/${conversation.id}/release`)).statusCode).toBe(200);
    const after = await texts(chatId, 6, 'the held step and check-in after the release');
    expect(after.slice(4)).toEqual(['Calm 2: breathe out for six.', 'Habit check-in: “Breathe” — did you do it today?']);
    await waitFor(async () => (await scheduled(conversation.contactId)).filter((m) => held.some((h) => h.id === m.id)).every((m) => m.status === 'sent') || null, {
      what: 'both recorded sent',
    });

    // Sent once: the reconciler and a repeated job find them settled, and the program carries on.
    await platform.coaching.proactive.reconcile(0);
    for (const send of held) expect(await platform.coaching.proactive.deliver(send.id)).toMatchObject({ outcome: 'settled', settled: { status: 'sent' } });
    travel(30 * 60_000);
    expect((await texts(chatId, 7, 'the third step'))[6]).toBe('Calm 3: repeat ten times.');
    expect(sendsOf('Calm 2: breathe out for six.')).toBe(1);
    expect(telegram.texts(chatId).filter((t) => t.startsWith('Habit check-in'))).toHaveLength(1);
  });

  it('a broadcast skips the contact whose conversation is taken over, with the reason, and does not send it after the release', async () => {
    const [busy, free] = [nextChatId++, nextChatId++];
    for (const chatId of [busy, free]) {
      await say(chatId, '/help');
      await texts(chatId, 1, 'the /help answer');
    }
    const conversation = await conversationOf(busy);
    expect((await api('POST', `/conversations/${conversation.id}/takeover`)).statusCode).toBe(200);

    const text = 'New: an evening wind-down program is live.';
    const created = await api('POST', '/broadcasts', { text, segment: { type: 'all' } });
    expect(created.statusCode, created.body).toBe(202);
    const { id } = created.json();
    const done = await waitFor(
      async () => {
        const view = (await api('GET', `/broadcasts/${id}`)).json();
        return view.status === 'done' ? view : null;
      },
      { what: 'the broadcast done' },
    );
    expect(done.skipped).toBe(1);
    expect(done.sent).toBe(done.total - 1);
    const skipped = (await api('GET', `/broadcasts/${id}/recipients?status=skipped`)).json().recipients;
    expect(skipped).toEqual([expect.objectContaining({ contactId: conversation.contactId, reason: SKIP_REASONS.takenOver })]);
    expect(telegram.texts(free)).toContain(text);

    expect((await api('POST', `/conversations/${conversation.id}/release`)).statusCode).toBe(200);
    await platform.coaching.proactive.reconcile(0);
    await say(busy, '/help');
    await texts(busy, 2, 'the bot answering again');
    expect(telegram.texts(busy)).not.toContain(text);
  });

  it('an idle takeover handed back by the workers sends what was held', async () => {
    const program = await api('POST', '/programs', { name: 'Idle hands', slug: 'idle-hands', steps: [{ text: 'Idle 1' }, { afterMinutes: 30, text: 'Idle 2' }] });
    expect(program.statusCode, program.body).toBe(201);
    const chatId = nextChatId++;
    await say(chatId, '/start idle-hands');
    await texts(chatId, 2, 'the enrollment reply and the first step');
    const conversation = await conversationOf(chatId);
    expect((await api('POST', `/conversations/${conversation.id}/takeover`)).statusCode).toBe(200);
    travel(40 * 60_000);
    await waitFor(async () => (await scheduled(conversation.contactId)).some((m) => m.reason === HELD_REASON) || null, { what: 'the step held' });
    // Left alone past TAKEOVER_IDLE_RELEASE_MINUTES: handed back, and the held step goes out once.
    travel(24 * 3600_000);
    expect((await texts(chatId, 3, 'the held step after the idle release'))[2]).toBe('Idle 2');
    await waitFor(async () => (await scheduled(conversation.contactId)).every((m) => m.status === 'sent') || null, { what: 'the step recorded sent' });
    expect(sendsOf('Idle 2')).toBe(1);
  });
});
