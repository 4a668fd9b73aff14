import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;
let nextUpdateId = 80_000;
let nextChatId = 8_100_000;

const steps = [
  { text: 'Day 1: pick a wake-up time and keep it all week.' },
  { afterMinutes: 30, passage: 'Light in the first hour after waking sets the body clock.', question: { text: 'Did you get outside this morning?', options: ['Yes', 'Not yet'] } },
  // 30 minutes + 10 hours after noon is 22:30: quiet hours move it to 08:00 the next morning.
  { afterMinutes: 600, text: 'Night check: screens away?' },
  { afterDays: 1, text: 'Day 2: same wake-up time.' },
];

let coaching: CoachingOnTelegram;

beforeAll(async () => {
  coaching = await coachingOnTelegram(clock);
  ({ telegram, platform, bot } = coaching);
});

afterAll(async () => {
  await coaching?.stop();
});

function api(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  return platform.app.inject({ method, url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

async function deliver(update: unknown) {
  expect((await telegram.deliverUpdate(bot.fakeBot.token, update)).status).toBe(200);
}

const say = (chatId: number, text: string) => deliver(textUpdate(text, { chatId, updateId: nextUpdateId++ }));
const texts = (chatId: number, count: number, what: string) => waitFor(() => (telegram.texts(chatId).length >= count ? telegram.texts(chatId) : null), { what });

describe('programs on Telegram', () => {
  it('enrolls by deep link, sends each step on the contact\'s own clock with quick replies, stores answers, and follows edits', async () => {
    const program = (await api('POST', '/programs', { name: 'Sleep reset', slug: 'sleep-reset', steps })).json();
    const chatId = nextChatId++;
    await say(chatId, '/start sleep-reset');
    const first = await texts(chatId, 2, 'the enrollment reply and the first step');
    // One reply to /start and the first step. The reply is normally "You've joined …"; when the turn is
    // run again after a failed first attempt (seen on a loaded machine), the enrollment already exists
    // and the reply says so, with the second step's time: the contact is enrolled once either way.
    expect(first).toHaveLength(2);
    expect(first).toContain(steps[0]!.text);
    expect(first.find((t) => t !== steps[0]!.text)).toMatch(/^(You've joined “Sleep reset”\. Your first message is on its way\.|You're in “Sleep reset” already\. Your next message arrives .+)$/);
    expect((await api('GET', `/programs/${program.id}/enrollments`)).json().enrollments).toHaveLength(1);

    travel(30 * 60_000);
    await texts(chatId, 3, 'the second step');
    const question = telegram.messages(chatId)[2]!;
    expect(question.text).toBe('“Light in the first hour after waking sets the body clock.”\n\nDid you get outside this morning?');
    const buttons = (question.replyMarkup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(['Yes', 'Not yet']);

    await deliver(telegramUpdate('callback_query', { updateId: nextUpdateId++, chatId, text: buttons[1]!.callback_data }));
    expect((await texts(chatId, 4, 'the answer acknowledged'))[3]).toBe('Thanks — I noted “Not yet”.');
    const enrollments = (await api('GET', `/programs/${program.id}/enrollments`)).json().enrollments;
    expect(enrollments).toEqual([expect.objectContaining({ status: 'active', nextStep: 2, answers: [expect.objectContaining({ stepIndex: 1, optionIndex: 1, answer: 'Not yet' })] })]);

    // The third step falls in the quiet hours: it waits for 08:00 (UTC for this contact).
    const scheduled = await waitFor(async () => {
      const list = (await api('GET', '/scheduled-messages?status=scheduled')).json().messages;
      return list.length === 1 ? list[0] : null;
    }, { what: 'the third step scheduled' });
    expect(scheduled).toMatchObject({ kind: 'program_step', dueAt: new Date(noon.getTime() + DAY - 4 * 3600_000).toISOString() });
    // At 22:30 (its own time) it is still not due: delivering it now moves nothing out.
    travel(10 * 3600_000);
    const early = await platform.coaching.proactive.deliver(scheduled.id);
    expect(early.outcome).toBe('not_due');
    // About nine and a half hours to go (22:30 → 08:00), less the real seconds the test has taken.
    expect(early.outcome === 'not_due' && early.waitMs).toBeGreaterThan(9 * 3600_000);
    expect(telegram.texts(chatId)).toHaveLength(4);

    // Edited before it is sent: the contact gets the new text.
    const edited = steps.map((s, i) => (i === 2 ? { ...s, text: 'Morning check: how did you sleep?' } : s));
    expect((await api('PATCH', `/programs/${program.id}`, { steps: edited })).statusCode).toBe(200);
    travel(10 * 3600_000);
    expect((await texts(chatId, 5, 'the third step after quiet hours'))[4]).toBe('Morning check: how did you sleep?');

    travel(DAY);
    expect((await texts(chatId, 6, 'the last step'))[5]).toBe('Day 2: same wake-up time.');
    await waitFor(async () => (await api('GET', `/programs/${program.id}/enrollments`)).json().enrollments[0].status === 'completed', { what: 'the enrollment completed' });
  });

  it('pauses, resumes and leaves by command and through the API', async () => {
    const program = (await api('POST', '/programs', { name: 'Focus', slug: 'focus', steps: [{ text: 'Focus 1' }, { afterMinutes: 60, text: 'Focus 2' }, { afterMinutes: 60, text: 'Focus 3' }] })).json();
    const chatId = nextChatId++;
    await say(chatId, 'hello');
    await texts(chatId, 1, 'an answer');
    const { rows } = await platform.infrastructure.database.pool.query<{ contact_id: string }>(
      `SELECT contact_id FROM conversations WHERE bot_id = $1 AND external_chat_id = $2`,
      [bot.botId, String(chatId)],
    );
    const enroll = await api('POST', `/programs/${program.id}/enrollments`, { contactId: rows[0]!.contact_id });
    expect(enroll.statusCode).toBe(201);
    expect((await api('POST', `/programs/${program.id}/enrollments`, { contactId: rows[0]!.contact_id })).statusCode).toBe(200);
    expect((await texts(chatId, 2, 'the first step'))[1]).toBe('Focus 1');

    await say(chatId, '/pause');
    expect((await texts(chatId, 3, 'the pause reply'))[2]).toBe('Paused “Focus”. Send /resume when you want to continue.');
    travel(2 * 3600_000);
    await waitFor(async () => (await api('GET', '/scheduled-messages?status=cancelled')).json().messages.length > 0, { what: 'the step cancelled' });
    await say(chatId, '/resume');
    expect((await texts(chatId, 4, 'the resume reply'))[3]).toBe('Welcome back — “Focus” continues.');
    // The resumed step counts its wait from the resume.
    travel(60 * 60_000);
    expect((await texts(chatId, 5, 'the second step'))[4]).toBe('Focus 2');
    await waitFor(async () => (await api('GET', '/scheduled-messages?status=scheduled')).json().messages.length === 1, { what: 'the third step scheduled' });

    const enrollmentId = enroll.json().id;
    const left = await api('POST', `/programs/${program.id}/enrollments/${enrollmentId}/leave`);
    expect(left.json()).toMatchObject({ status: 'left' });
    expect((await api('POST', `/programs/${program.id}/enrollments/${enrollmentId}/pause`)).statusCode).toBe(409);
    travel(2 * 3600_000);
    const cancelled = await waitFor(async () => {
      const list: Array<{ effectKey: string }> = (await api('GET', '/scheduled-messages?status=cancelled')).json().messages;
      return list.find((m) => m.effectKey === `program:${enrollmentId}:2`) ?? null;
    }, { what: 'the third step cancelled', timeoutMs: 40_000 });
    expect(cancelled).toMatchObject({ reason: 'The contact left the program' });
    expect(telegram.texts(chatId)).toHaveLength(5);
  });
});
