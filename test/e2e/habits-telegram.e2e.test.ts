import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantAt } from '../../src/coaching/local-time.js';
import { coachingOnTelegram, nextNoonUtc, travellingClock, type CoachingOnTelegram } from '../support/coaching-e2e.js';
import type { FakeTelegram } from '../support/fake-telegram.js';
import { telegramUpdate, textUpdate } from '../support/telegram-updates.js';
import type { ConnectedBot } from '../support/telegram-e2e.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// The platform's clock starts at the next 12:00 UTC and the tests move it forward.
const DAY = 24 * 3600_000;
const noon = nextNoonUtc();
const { clock, travel } = travellingClock(noon);
const dateOf = (instant: Date) => instant.toISOString().slice(0, 10);

let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;
let nextUpdateId = 90_000;
const chatId = 9_100_000;

let coaching: CoachingOnTelegram;

beforeAll(async () => {
  coaching = await coachingOnTelegram(clock);
  ({ telegram, platform, bot } = coaching);
});

afterAll(async () => {
  await coaching?.stop();
});

function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, botId = bot.botId) {
  return platform.app.inject({ method, url: `/v1/bots/${botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

async function deliver(update: unknown) {
  expect((await telegram.deliverUpdate(bot.fakeBot.token, update)).status).toBe(200);
}

const say = (text: string) => deliver(textUpdate(text, { chatId, updateId: nextUpdateId++ }));
const tap = (data: string) => deliver(telegramUpdate('callback_query', { updateId: nextUpdateId++, chatId, text: data }));
const texts = (count: number, what: string) => waitFor(() => (telegram.texts(chatId).length >= count ? telegram.texts(chatId) : null), { what });
const buttonsOf = (index: number) =>
  (telegram.messages(chatId)[index]!.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
const habitSends = async () =>
  ((await api('GET', '/scheduled-messages?limit=100')).json().messages as Array<{ kind: string; effectKey: string; status: string; dueAt: string }>).filter((m) => m.kind === 'habit_ask');

describe('habits on Telegram', () => {
  it('validates habits, answers 404 for another bot, and lists them in the OpenAPI document', async () => {
    expect((await api('POST', '/habits', { name: 'Walk', localTime: '25:00' })).json().error.code).toBe('VALIDATION_FAILED');
    expect((await api('POST', '/habits', { name: 'Walk', localTime: '08:00', daysOfWeek: [0] })).statusCode).toBe(400);
    expect((await api('POST', '/habits', { name: 'Walk', localTime: '08:00', daysOfWeek: [1, 2], timesPerWeek: 3 })).statusCode).toBe(400);
    expect((await api('POST', '/habits', { name: 'Walk', localTime: '08:00' }, randomUUID())).statusCode).toBe(404);
    const walk = await api('POST', '/habits', { name: 'Walk', localTime: '08:00', daysOfWeek: [1, 3, 5], timesPerWeek: 2 });
    expect(walk.statusCode).toBe(201);
    expect(walk.json()).toMatchObject({ name: 'Walk', localTime: '08:00', daysOfWeek: [1, 3, 5], timesPerWeek: 2 });
    const patched = await api('PATCH', `/habits/${walk.json().id}`, { timesPerWeek: null, name: 'Evening walk' });
    expect(patched.json()).toMatchObject({ name: 'Evening walk', timesPerWeek: null, daysOfWeek: [1, 3, 5] });
    expect((await api('GET', `/habits/${walk.json().id}`, undefined, randomUUID())).statusCode).toBe(404);
    expect((await api('DELETE', `/habits/${walk.json().id}`)).statusCode).toBe(204);
    expect((await api('GET', `/habits/${walk.json().id}`)).statusCode).toBe(404);
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/bots/{botId}/habits', '/v1/bots/{botId}/habits/{habitId}/subscriptions']));
  });

  it('joins from a button, asks at local time with buttons, records Done and a plain "done", and asks once a day', async () => {
    const habit = (await api('POST', '/habits', { name: 'Stretch', localTime: '13:00' })).json();
    await say('/habits');
    expect((await texts(1, 'the habits list'))[0]).toContain('• Stretch — 13:00');
    const join = buttonsOf(0);
    expect(join.map((b) => b.text)).toEqual(['Stretch']);
    await tap(join[0]!.callback_data);
    expect((await texts(2, 'the join reply'))[1]).toBe("You've joined “Stretch”. I'll ask you at 13:00 (UTC).");

    const day1 = dateOf(noon);
    travel(3600_000);
    expect((await texts(3, 'the first ask'))[2]).toBe('Habit check-in: “Stretch” — did you do it today?');
    const answers = buttonsOf(2);
    expect(answers.map((b) => b.text)).toEqual(['Done', 'Not today']);
    await tap(answers[0]!.callback_data);
    expect((await texts(4, 'the check-in acknowledged'))[3]).toBe('Nice — “Stretch” done.');
    // A second tap on the same button changes nothing.
    await tap(answers[0]!.callback_data);
    expect((await texts(5, 'the second tap acknowledged'))[4]).toBe('Nice — “Stretch” done.');

    // The next day's ask is scheduled once, for 13:00 tomorrow.
    const tomorrow = new Date(noon.getTime() + DAY + 3600_000);
    const scheduled = await waitFor(async () => {
      const sends = await habitSends();
      return sends.some((s) => s.status === 'scheduled') ? sends : null;
    }, { what: "tomorrow's ask scheduled" });
    expect(scheduled.map((s) => [s.effectKey.slice(-10), s.status, s.dueAt]).sort()).toEqual(
      [
        [day1, 'sent', new Date(noon.getTime() + 3600_000).toISOString()],
        [dateOf(tomorrow), 'scheduled', tomorrow.toISOString()],
      ].sort(),
    );

    travel(DAY);
    expect((await texts(6, "the next day's ask"))[5]).toBe('Habit check-in: “Stretch” — did you do it today?');
    await say('done');
    expect((await texts(7, 'the plain answer acknowledged'))[6]).toBe("Nice — “Stretch” done. That's 2 days in a row.");
    await say('/streak');
    expect((await texts(8, 'the streak'))[7]).toBe('Your streaks:\n• Stretch: 2 days in a row (best 2, last 7 days 2/2)');

    // Exactly one ask per local day went out, the third is waiting for tomorrow.
    const sends = await waitFor(async () => {
      const list = await habitSends();
      return list.length === 3 ? list : null;
    }, { what: 'the third ask scheduled' });
    expect(sends.filter((s) => s.status === 'sent')).toHaveLength(2);
    expect(telegram.texts(chatId).filter((t) => t.startsWith('Habit check-in'))).toHaveLength(2);

    const subscriptions = (await api('GET', `/habits/${habit.id}/subscriptions`)).json().subscriptions;
    expect(subscriptions).toEqual([
      expect.objectContaining({
        status: 'active',
        startedOn: day1,
        timeZone: 'UTC',
        stats: { currentStreak: 2, longestStreak: 2, streakUnit: 'days', last7: { done: 2, due: 2, rate: 1 }, last30: { done: 2, due: 2, rate: 1 } },
      }),
    ]);

    await say('/habit stop stretch');
    expect((await texts(9, 'the leave reply'))[8]).toBe('You\'ve left “Stretch”. I won\'t ask about it any more.');
    await waitFor(async () => ((await habitSends()).some((s) => s.status === 'cancelled') ? true : null), { what: 'the next ask cancelled' });

    // Joining again the same day: today was asked already, so the next ask is tomorrow's.
    const day3 = dateOf(new Date(noon.getTime() + 2 * DAY));
    await say('/habit stretch');
    expect((await texts(10, 'the rejoin reply'))[9]).toBe("You're in “Stretch”. I'll ask you tomorrow at 13:00 (UTC).");
    // A new zone moves the pending ask to 13:00 there, for the same local day.
    await say('/timezone Europe/Paris');
    expect((await texts(11, 'the zone reply'))[10]).toBe('Got it — your time zone is now Europe/Paris.');
    const parisAsk = instantAt({ year: Number(day3.slice(0, 4)), month: Number(day3.slice(5, 7)), day: Number(day3.slice(8, 10)), hour: 13, minute: 0 }, 'Europe/Paris');
    const pending = (await habitSends()).filter((s) => s.status === 'scheduled');
    expect(pending.map((s) => [s.effectKey.slice(-10), s.dueAt])).toEqual([[day3, parisAsk.toISOString()]]);
  });
});
