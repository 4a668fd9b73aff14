import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatedBot, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let aliceBot: CreatedBot;
const contactIds: Record<string, string> = {};

// No workers: the broadcasts stay as created, so totals and listings are what the API stored.
beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  aliceBot = await createBot(platform.app, alice.auth, { name: 'Sleep coach' });
  // Contacts as the webhooks store them: two on Telegram, one on WhatsApp, each with a conversation.
  for (const [channel, externalId] of [
    ['telegram', '1001'],
    ['telegram', '1002'],
    ['whatsapp', '33612345678'],
  ] as const) {
    const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(
      `INSERT INTO contacts (bot_id, channel, external_id) VALUES ($1, $2, $3) RETURNING id`,
      [aliceBot.id, channel, externalId],
    );
    await platform.infrastructure.database.pool.query(`INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, $3, $4)`, [
      aliceBot.id,
      rows[0]!.id,
      channel,
      externalId,
    ]);
    contactIds[externalId] = rows[0]!.id;
  }
});
afterAll(async () => {
  await platform?.stop();
});

function request(method: 'GET' | 'POST' | 'DELETE', url: string, auth: { authorization: string }, payload?: object) {
  return platform.app.inject({ method, url, headers: auth, ...(payload !== undefined ? { payload } : {}) });
}

async function broadcastCount(botId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM broadcasts WHERE bot_id = $1`, [botId]);
  return rows[0]!.n;
}

describe('broadcasts API', () => {
  it('sends to every contact: the recipients are stored at once, shown with their totals, paged, and cancelled', async () => {
    const created = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'New guide out today', segment: { type: 'all' } });
    expect(created.statusCode, created.body).toBe(202);
    expect(created.json()).toEqual({ id: expect.any(String), status: 'sending' });
    const { id } = created.json();

    const one = await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}`, alice.auth);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id, text: 'New guide out today', segment: { type: 'all' }, status: 'sending', total: 3, sent: 0, failed: 0, skipped: 0, pending: 3 });
    expect(one.json().recipientsChosenAt).toEqual(expect.any(String));

    const recipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}/recipients`, alice.auth)).json().recipients;
    expect(recipients.map((r: { contactId: string }) => r.contactId).sort()).toEqual(Object.values(contactIds).sort());
    expect(recipients.every((r: { status: string }) => r.status === 'scheduled')).toBe(true);
    const firstPage = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}/recipients?limit=2`, alice.auth)).json().recipients;
    const secondPage = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}/recipients?limit=2&before=${firstPage[1].sendId}`, alice.auth)).json().recipients;
    expect([...firstPage, ...secondPage]).toEqual(recipients);

    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth)).json().broadcasts.map((b: { id: string }) => b.id)).toContain(id);

    const cancelled = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts/${id}/cancel`, alice.auth);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', total: 3, cancelled: 3, pending: 0 });
    const cancelledRecipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}/recipients?status=cancelled`, alice.auth)).json().recipients;
    expect(cancelledRecipients).toHaveLength(3);
    expect(cancelledRecipients[0].reason).toBe('The broadcast was cancelled');
  });

  it('chooses no recipients for a scheduled broadcast before its time; cancelled, it never starts', async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'Tomorrow: the spring challenge', segment: { type: 'all' }, sendAt });
    expect(created.statusCode, created.body).toBe(202);
    expect(created.json()).toEqual({ id: expect.any(String), status: 'scheduled' });
    const { id } = created.json();
    const one = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}`, alice.auth)).json();
    expect(one).toMatchObject({ status: 'scheduled', recipientsChosenAt: null, total: 0, pending: 0 });
    expect(new Date(one.sendAt).toISOString()).toBe(sendAt);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}/recipients`, alice.auth)).json().recipients).toEqual([]);

    const cancelled = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts/${id}/cancel`, alice.auth);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', total: 0 });
    // Its start job (or the reconciler) finds it cancelled and chooses nobody.
    const broadcastId: string = id;
    expect(await platform.coaching.broadcasts.startDue(aliceBot.id, broadcastId)).toEqual({ outcome: 'gone' });
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}`, alice.auth)).json()).toMatchObject({ status: 'cancelled', total: 0, recipientsChosenAt: null });
  });

  it('reaches one channel, a program’s active enrollments, or a habit’s subscribers', async () => {
    const whatsapp = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'WhatsApp only', segment: { type: 'channel', value: 'whatsapp' } });
    expect(whatsapp.statusCode).toBe(202);
    const recipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${whatsapp.json().id}/recipients`, alice.auth)).json().recipients;
    expect(recipients).toEqual([expect.objectContaining({ contactId: contactIds['33612345678'], channel: 'whatsapp', displayName: '+33612345678' })]);

    const program = (
      await request('POST', `/v1/bots/${aliceBot.id}/programs`, alice.auth, { name: 'Sleep', slug: 'sleep', steps: [{ text: 'Day 1', afterDays: 30 }] })
    ).json();
    expect((await request('POST', `/v1/bots/${aliceBot.id}/programs/${program.id}/enrollments`, alice.auth, { contactId: contactIds['1002'] })).statusCode).toBe(201);
    const toProgram = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'To the sleep group', segment: { type: 'program', value: program.id } });
    expect(toProgram.statusCode).toBe(202);
    const programRecipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${toProgram.json().id}/recipients`, alice.auth)).json().recipients;
    expect(programRecipients.map((r: { contactId: string }) => r.contactId)).toEqual([contactIds['1002']]);
    // The program's enrollments name their contacts and come in pages, newest first.
    expect((await request('POST', `/v1/bots/${aliceBot.id}/programs/${program.id}/enrollments`, alice.auth, { contactId: contactIds['1001'] })).statusCode).toBe(201);
    const enrollmentsUrl = `/v1/bots/${aliceBot.id}/programs/${program.id}/enrollments`;
    const firstEnrollments = (await request('GET', `${enrollmentsUrl}?limit=1`, alice.auth)).json();
    expect(firstEnrollments.enrollments).toEqual([
      expect.objectContaining({ contactId: contactIds['1001'], status: 'active', nextStep: 0, contact: { displayName: 'Telegram user 1001', channel: 'telegram' } }),
    ]);
    const lastEnrollments = (await request('GET', `${enrollmentsUrl}?limit=1&before=${firstEnrollments.nextCursor}`, alice.auth)).json();
    expect(lastEnrollments.enrollments.map((e: { contactId: string }) => e.contactId)).toEqual([contactIds['1002']]);
    expect((await request('GET', `${enrollmentsUrl}?limit=1&before=${lastEnrollments.nextCursor}`, alice.auth)).json()).toEqual({ enrollments: [], nextCursor: null });
    expect((await request('GET', `${enrollmentsUrl}?before=not-an-id`, alice.auth)).json().error.code).toBe('VALIDATION_FAILED');
    expect((await request('GET', enrollmentsUrl, bob.auth)).statusCode).toBe(404);
    await request('POST', `${enrollmentsUrl}/${firstEnrollments.enrollments[0].id}/leave`, alice.auth);

    const habit = (await request('POST', `/v1/bots/${aliceBot.id}/habits`, alice.auth, { name: 'Walk', localTime: '08:00' })).json();
    expect((await request('POST', `/v1/bots/${aliceBot.id}/habits/${habit.id}/subscriptions`, alice.auth, { contactId: contactIds['33612345678'] })).statusCode).toBe(201);
    const toHabit = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'To the walkers', segment: { type: 'habit', value: habit.id } });
    expect(toHabit.statusCode).toBe(202);
    const habitRecipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${toHabit.json().id}/recipients`, alice.auth)).json().recipients;
    expect(habitRecipients.map((r: { contactId: string }) => r.contactId)).toEqual([contactIds['33612345678']]);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${toHabit.json().id}`, alice.auth)).json().segment).toEqual({ type: 'habit', value: habit.id });

    // Tags match whatever their case.
    const tagged = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${aliceBot.id}/contacts/${contactIds['1001']}/tags`, headers: alice.auth, payload: { tags: ['VIP'] } });
    expect(tagged.json().tags).toEqual(['vip']);
    const toTag = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'For our VIPs', segment: { type: 'tag', value: ' Vip ' } });
    expect(toTag.statusCode, toTag.body).toBe(202);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${toTag.json().id}`, alice.auth)).json()).toMatchObject({ segment: { type: 'tag', value: 'vip' }, total: 1 });
    const tagRecipients = (await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${toTag.json().id}/recipients`, alice.auth)).json().recipients;
    expect(tagRecipients.map((r: { contactId: string }) => r.contactId)).toEqual([contactIds['1001']]);
  });

  it('refuses bad broadcasts with a precise 400 and stores nothing', async () => {
    const before = await broadcastCount(aliceBot.id);
    const bad: Array<[object, RegExp]> = [
      [{ text: '', segment: { type: 'all' } }, /text/],
      [{ text: 'Hi' }, /segment/],
      [{ text: 'Hi', segment: { type: 'everyone' } }, /segment/],
      [{ text: 'Hi', segment: { type: 'habit', value: 'water' } }, /habits/],
      [{ text: 'Hi', segment: { type: 'tag' } }, /must be a tag/],
      [{ text: 'Hi', segment: { type: 'tag', value: 'two words' } }, /must be a tag/],
      [{ text: 'Hi', segment: { type: 'channel', value: 'sms' } }, /channel/],
      [{ text: 'Hi', segment: { type: 'program' } }, /program/],
      [{ text: 'Hi', segment: { type: 'program', value: '00000000-0000-4000-8000-000000000000' } }, /program/],
      [{ text: 'Hi', segment: { type: 'all' }, sendAt: 'tomorrow' }, /sendAt/],
      [{ text: 'Hi', segment: { type: 'all' }, extra: true }, /extra|Unrecognized/i],
    ];
    for (const [payload, message] of bad) {
      const response = await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
      const { error } = response.json();
      expect(`${error.message} ${JSON.stringify(error.details ?? {})}`, JSON.stringify(payload)).toMatch(message);
    }
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/not-an-id`, alice.auth)).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts?before=nope`, alice.auth)).statusCode).toBe(400);
    expect(await broadcastCount(aliceBot.id)).toBe(before);
  });

  it("answers 404 for another creator's bot or broadcast", async () => {
    const id = (
      await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, alice.auth, { text: 'Private', segment: { type: 'all' }, sendAt: new Date(Date.now() + 3_600_000).toISOString() })
    ).json().id;
    expect((await request('POST', `/v1/bots/${aliceBot.id}/broadcasts`, bob.auth, { text: 'Hijack', segment: { type: 'all' } })).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}`, bob.auth)).statusCode).toBe(404);
    expect((await request('POST', `/v1/bots/${aliceBot.id}/broadcasts/${id}/cancel`, bob.auth)).statusCode).toBe(404);
    const bobBot = await createBot(platform.app, bob.auth, { name: 'Bob bot' });
    expect((await request('GET', `/v1/bots/${bobBot.id}/broadcasts/${id}`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${bobBot.id}/broadcasts/${id}/recipients`, bob.auth)).statusCode).toBe(404);
    expect((await request('POST', `/v1/bots/${bobBot.id}/broadcasts/${id}/cancel`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', `/v1/bots/${aliceBot.id}/broadcasts/${id}`, alice.auth)).json().status).toBe('scheduled');
  });

  it('lists the routes in the API document', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/bots/{botId}/broadcasts',
        '/v1/bots/{botId}/broadcasts/{broadcastId}',
        '/v1/bots/{botId}/broadcasts/{broadcastId}/cancel',
        '/v1/bots/{botId}/broadcasts/{broadcastId}/recipients',
      ]),
    );
  });
});
