import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coachingOnTelegram, travellingClock, type CoachingOnTelegram } from '../support/coaching-e2e.js';
import type { FakeTelegram } from '../support/fake-telegram.js';
import { flushQueueKeys } from '../support/redis-keys.js';
import { textUpdate } from '../support/telegram-updates.js';
import type { ConnectedBot } from '../support/telegram-e2e.js';
import { testRedisUrl } from '../support/test-database.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// The platform's clock runs ahead of the real one: tests move it to make sends due.
const { clock, travel } = travellingClock();

let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;
let nextUpdateId = 50_000;
let nextChatId = 7_100_000;

let coaching: CoachingOnTelegram;

beforeAll(async () => {
  coaching = await coachingOnTelegram(clock, { REDIS_URL: testRedisUrl });
  ({ telegram, platform, bot } = coaching);
});

afterAll(async () => {
  await coaching?.stop();
});

async function say(chatId: number, text: string) {
  const response = await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { chatId, updateId: nextUpdateId++ }));
  expect(response.status).toBe(200);
}

/** Waits until the chat shows `count` messages from the bot and returns them. */
function botTexts(chatId: number, count: number, what: string) {
  return waitFor(() => (telegram.texts(chatId).length >= count ? telegram.texts(chatId) : null), { what });
}

async function sendsOf(chatId: number) {
  const { rows } = await platform.infrastructure.database.pool.query<{ effect_key: string; status: string; reason: string | null; ledger: number }>(
    `SELECT s.effect_key, s.status, s.reason,
            (SELECT count(*)::int FROM outbound_messages o WHERE o.dedupe_key = s.effect_key) AS ledger
       FROM proactive_sends s JOIN conversations c ON c.id = s.conversation_id
      WHERE c.bot_id = $1 AND c.external_chat_id = $2 ORDER BY s.due_at`,
    [bot.botId, String(chatId)],
  );
  return rows;
}

describe('reminders on Telegram', () => {
  it('confirms a reminder in the contact\'s zone at once, and sends it when due, exactly once', async () => {
    const chatId = nextChatId++;
    await say(chatId, '/timezone Europe/Paris');
    await botTexts(chatId, 1, 'the time zone confirmation');
    expect(telegram.texts(chatId)[0]).toBe('Got it — your time zone is now Europe/Paris.');

    await say(chatId, 'remind me in 10 minutes to stretch');
    const [, confirmation] = await botTexts(chatId, 2, 'the reminder confirmation');
    const expected = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
      new Date(clock().getTime() + 10 * 60_000),
    );
    expect(confirmation).toMatch(new RegExp(`^I'll remind you (at|tomorrow at) ${expected} \\(Europe/Paris\\) to stretch\\.$`));

    // Nothing before it is due.
    expect((await sendsOf(chatId))[0]).toMatchObject({ status: 'scheduled', ledger: 0 });
    travel(10 * 60_000);
    const texts = await botTexts(chatId, 3, 'the reminder');
    expect(texts[2]).toBe('⏰ Reminder: stretch');
    await waitFor(async () => (await sendsOf(chatId))[0]?.status === 'sent', { what: 'the send settled' });

    // Reconciler passes and a duplicate job change nothing.
    await platform.coaching.proactive.reconcile(0);
    const [send] = await sendsOf(chatId);
    const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(`SELECT id FROM proactive_sends WHERE effect_key = $1`, [send!.effect_key]);
    expect(await platform.coaching.proactive.deliver(rows[0]!.id)).toMatchObject({ outcome: 'settled', settled: { status: 'sent' } });
    expect(await sendsOf(chatId)).toEqual([expect.objectContaining({ status: 'sent', ledger: 1 })]);
    expect(telegram.texts(chatId).filter((t) => t.startsWith('⏰'))).toHaveLength(1);
  });

  it('asks for a time when the request has none', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'remind me to stretch');
    const [reply] = await botTexts(chatId, 1, 'the question');
    expect(reply).toMatch(/^When should I remind you\?/);
    expect(await sendsOf(chatId)).toEqual([]);
  });

  it('loses and doubles nothing when Redis loses its data mid-schedule', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'remind me in 30 minutes to drink water');
    await botTexts(chatId, 1, 'the first confirmation');
    await say(chatId, 'remind me in 40 minutes to walk');
    await botTexts(chatId, 2, 'the second confirmation');
    expect(await flushQueueKeys(platform.config.QUEUE_PREFIX)).toBeGreaterThan(0);
    travel(40 * 60_000);
    const texts = await botTexts(chatId, 4, 'both reminders after the reconciler re-queued them');
    expect(texts.slice(2).sort()).toEqual(['⏰ Reminder: drink water', '⏰ Reminder: walk']);
    await waitFor(async () => (await sendsOf(chatId)).every((s) => s.status === 'sent'), { what: 'both sends settled' });
    await platform.coaching.proactive.reconcile(0);
    expect(await sendsOf(chatId)).toEqual([expect.objectContaining({ status: 'sent', ledger: 1 }), expect.objectContaining({ status: 'sent', ledger: 1 })]);
    expect(telegram.texts(chatId)).toHaveLength(4);
  });
});

describe('opting out', () => {
  it('sends nothing after /stop is stored, even what was queued before, and /start opts back in', async () => {
    const chatId = nextChatId++;
    await say(chatId, 'remind me in 5 minutes to breathe');
    await botTexts(chatId, 1, 'the first confirmation');
    await say(chatId, 'remind me in 15 minutes to sleep');
    await botTexts(chatId, 2, 'the second confirmation');

    // The first reminder is in flight (held at Telegram) when the contact sends /stop.
    const held = telegram.holdNext('sendMessage', { chatId });
    travel(5 * 60_000);
    await held.arrived;
    await say(chatId, '/stop');
    // The opt-out waits for the send in flight: its update is blocked on the contact's coaching row.
    await waitFor(
      async () => {
        const { rows } = await platform.infrastructure.database.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM public.contact_coaching WHERE contact_id = $1 FOR UPDATE%'`,
        );
        return rows.length > 0;
      },
      { what: 'the opt-out waiting for the send in flight' },
    );
    held.release();
    const texts = await botTexts(chatId, 4, 'the reminder, then the opt-out reply');
    expect(texts[2]).toBe('⏰ Reminder: breathe');
    expect(texts[3]).toMatch(/^Okay — I won't send you any more messages of my own accord/);
    const { rows } = await platform.infrastructure.database.pool.query<{ sent_at: Date; opted_out_at: Date }>(
      `SELECT o.sent_at, cc.opted_out_at FROM outbound_messages o
         JOIN proactive_sends s ON s.effect_key = o.dedupe_key JOIN contact_coaching cc ON cc.contact_id = s.contact_id
         JOIN conversations c ON c.id = s.conversation_id
        WHERE s.status = 'sent' AND c.bot_id = $1 AND c.external_chat_id = $2`,
      [bot.botId, String(chatId)],
    );
    expect(rows).toHaveLength(1);
    for (const row of rows) expect(row.sent_at.getTime()).toBeLessThanOrEqual(row.opted_out_at.getTime());

    // The second was queued before the opt-out: skipped with the reason, nothing sent.
    travel(10 * 60_000);
    await waitFor(async () => (await sendsOf(chatId))[1]?.status === 'skipped', { what: 'the second reminder skipped' });
    expect((await sendsOf(chatId))[1]).toMatchObject({ status: 'skipped', reason: 'The contact opted out of proactive messages (/stop)', ledger: 0 });
    expect(telegram.texts(chatId)).toHaveLength(4);

    // Back in: /start clears the opt-out and reminders flow again.
    await say(chatId, '/start');
    const [welcomeBack] = (await botTexts(chatId, 5, 'the welcome back')).slice(4);
    expect(welcomeBack).toMatch(/^Welcome back/);
    await say(chatId, 'remind me in 1 minute to smile');
    await botTexts(chatId, 6, 'the confirmation');
    travel(60_000);
    expect((await botTexts(chatId, 7, 'the reminder after opting in'))[6]).toBe('⏰ Reminder: smile');
  });
});
