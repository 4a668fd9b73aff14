import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { broadcastStartJobId } from '../../workers/proactive.worker.js';
import { coachingOnTelegram, nextNoonUtc, travellingClock, type CoachingOnTelegram } from '../support/coaching-e2e.js';
import type { FakeTelegram } from '../support/fake-telegram.js';
import { textUpdate } from '../support/telegram-updates.js';
import type { ConnectedBot } from '../support/telegram-e2e.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const HOUR = 3600_000;
const { clock, travel } = travellingClock(nextNoonUtc());

let coaching: CoachingOnTelegram;
let telegram: FakeTelegram;
let platform: TestPlatform;
let bot: ConnectedBot;
let nextUpdateId = 120_000;
let nextChatId = 7_700_000;

beforeAll(async () => {
  // The reconciler stays out of the way unless a test calls it: a scheduled broadcast starts by its own job.
  coaching = await coachingOnTelegram(clock, { RECONCILE_INTERVAL_MS: '600000' });
  ({ telegram, platform, bot } = coaching);
});

afterAll(async () => {
  await coaching?.stop();
});

function api(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  return platform.app.inject({ method, url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
}

/** A new contact who writes `text` and gets its answer; resolves to their chat id and contact id. */
async function contactSaying(text: string): Promise<{ chatId: number; contactId: string }> {
  const chatId = nextChatId++;
  const before = telegram.texts(chatId).length;
  expect((await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { chatId, updateId: nextUpdateId++ }))).status).toBe(200);
  await waitFor(() => telegram.texts(chatId).length > before || null, { what: `the answer to ${text}` });
  const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(`SELECT id FROM contacts WHERE bot_id = $1 AND external_id = $2`, [
    bot.botId,
    String(chatId),
  ]);
  return { chatId, contactId: rows[0]!.id };
}

async function say(chatId: number, text: string): Promise<void> {
  const before = telegram.texts(chatId).length;
  expect((await telegram.deliverUpdate(bot.fakeBot.token, textUpdate(text, { chatId, updateId: nextUpdateId++ }))).status).toBe(200);
  await waitFor(() => telegram.texts(chatId).length > before || null, { what: `the answer to ${text}` });
}

const received = (chatId: number, text: string) => telegram.texts(chatId).filter((t) => t === text).length;

async function untilSettled(id: string) {
  return waitFor(
    async () => {
      const view = (await api('GET', `/broadcasts/${id}`)).json();
      return view.status === 'done' ? view : null;
    },
    { what: 'the broadcast done' },
  );
}

describe('contact tags on Telegram', () => {
  it('tags contacts who arrive by a deep link that names no program, and a tag broadcast reaches exactly them, once', async () => {
    expect((await api('POST', '/programs', { name: 'Sleep', slug: 'sleep', steps: [{ text: 'Day 1: same bedtime', afterDays: 30 }] })).statusCode).toBe(201);
    const fromInstagram = [await contactSaying('/start ig_spring'), await contactSaying('/start IG_Spring')];
    const enrolled = await contactSaying('/start sleep');
    const plain = await contactSaying('/help');
    const otherCampaign = await contactSaying('/start newsletter_may');

    const tagged = (await api('GET', '/contacts?tag=ig_spring')).json().contacts;
    expect(tagged.map((c: { id: string }) => c.id).sort()).toEqual(fromInstagram.map((c) => c.contactId).sort());
    expect(tagged.every((c: { tags: string[] }) => c.tags.join() === 'ig_spring')).toBe(true);
    // A program's slug enrolls rather than tags.
    expect((await api('GET', `/contacts/${enrolled.contactId}/tags`)).json().tags).toEqual([]);
    expect((await api('GET', `/contacts/${otherCampaign.contactId}/tags`)).json().tags).toEqual(['newsletter_may']);

    const text = 'Spring offer: the first week is free';
    const created = await api('POST', '/broadcasts', { text, segment: { type: 'tag', value: 'IG_SPRING' } });
    expect(created.statusCode, created.body).toBe(202);
    const done = await untilSettled(created.json().id);
    expect(done).toMatchObject({ segment: { type: 'tag', value: 'ig_spring' }, total: 2, sent: 2, skipped: 0, failed: 0 });
    for (const { chatId } of fromInstagram) expect(received(chatId, text), `chat ${chatId}`).toBe(1);
    for (const { chatId } of [enrolled, plain, otherCampaign]) expect(received(chatId, text), `chat ${chatId}`).toBe(0);
    expect(telegram.callsOf('sendMessage').filter((c) => c.params.text === text)).toHaveLength(2);
  });

  it('chooses a scheduled broadcast’s recipients when it starts: tagged or joined meanwhile receive it, opted out meanwhile do not', async () => {
    const early = await contactSaying('/help');
    const stopper = await contactSaying('/help');
    for (const { contactId } of [early, stopper]) expect((await api('POST', `/contacts/${contactId}/tags`, { tags: ['launch'] })).statusCode).toBe(200);

    const text = 'The course opens today!';
    const sendAt = new Date(clock().getTime() + 2 * HOUR).toISOString();
    const created = await api('POST', '/broadcasts', { text, segment: { type: 'tag', value: 'launch' }, sendAt });
    expect(created.statusCode, created.body).toBe(202);
    const { id } = created.json();
    expect((await api('GET', `/broadcasts/${id}`)).json()).toMatchObject({ status: 'scheduled', total: 0, recipientsChosenAt: null });
    expect(await platform.infrastructure.queues.jobState('proactive', broadcastStartJobId(id))).toBe('delayed');

    // Between creation and the send: one contact is tagged, one joins by a deep link, one opts out.
    const taggedLater = await contactSaying('/help');
    expect((await api('PUT', `/contacts/${taggedLater.contactId}/tags`, { tags: ['Launch'] })).statusCode).toBe(200);
    const joinedLater = await contactSaying('/start launch');
    await say(stopper.chatId, '/stop');
    const untagged = await contactSaying('/help');

    travel(2 * HOUR + 60_000);
    // The start job's time has come (BullMQ's delay runs on the real clock, so it is woken now).
    expect(await platform.infrastructure.queues.redelay('proactive', broadcastStartJobId(id), 0)).toBe(true);
    const done = await untilSettled(id);
    expect(done).toMatchObject({ total: 4, sent: 3, skipped: 1, failed: 0, recipientsChosenAt: expect.any(String) });
    for (const { chatId } of [early, taggedLater, joinedLater]) expect(received(chatId, text), `chat ${chatId}`).toBe(1);
    expect(received(stopper.chatId, text)).toBe(0);
    expect(received(untagged.chatId, text)).toBe(0);
    const skipped = (await api('GET', `/broadcasts/${id}/recipients?status=skipped`)).json().recipients;
    expect(skipped).toEqual([expect.objectContaining({ contactId: stopper.contactId, reason: 'The contact opted out of proactive messages (/stop)' })]);
  });

  it('starts a due broadcast whose start job was lost from the reconciler, and a late job then adds nobody', async () => {
    const contact = await contactSaying('/start webinar');
    const text = 'Webinar in one hour';
    const { id } = (await api('POST', '/broadcasts', { text, segment: { type: 'tag', value: 'webinar' }, sendAt: new Date(clock().getTime() + HOUR).toISOString() })).json();
    travel(HOUR + 60_000);
    expect(await platform.coaching.broadcasts.reconcile(0)).toBe(1);
    expect(await untilSettled(id)).toMatchObject({ total: 1, sent: 1 });
    // The job, still waiting on the real clock, finds the broadcast started: its recipients are sent already.
    await platform.infrastructure.queues.redelay('proactive', broadcastStartJobId(id), 0);
    await waitFor(async () => (await platform.infrastructure.queues.jobState('proactive', broadcastStartJobId(id))) === 'completed' || null, { what: 'the late start job done' });
    expect(await platform.coaching.broadcasts.reconcile(0)).toBe(0);
    await platform.coaching.proactive.reconcile(0);
    expect(received(contact.chatId, text)).toBe(1);
    expect((await api('GET', `/broadcasts/${id}`)).json()).toMatchObject({ total: 1, sent: 1 });
  });
});
