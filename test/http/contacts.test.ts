import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatedBot, type CreatorSession } from '../support/creator-session.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let aliceBot: CreatedBot;
let bobBot: CreatedBot;
// Alice's contacts, oldest first.
const contacts: string[] = [];
let bobContact: string;

async function addContact(botId: string, channel: 'telegram' | 'whatsapp', externalId: string, displayName: string | null): Promise<string> {
  const { pool } = platform.infrastructure.database;
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO contacts (bot_id, channel, external_id, display_name, created_at) VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second') RETURNING id`,
    [botId, channel, externalId, displayName, contacts.length],
  );
  await pool.query(`INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, $3, $4)`, [botId, rows[0]!.id, channel, externalId]);
  return rows[0]!.id;
}

// No workers: the API and the database are what is tested.
beforeAll(async () => {
  platform = await startTestPlatform({}, { workers: false });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  aliceBot = await createBot(platform.app, alice.auth, { name: 'Sleep coach' });
  bobBot = await createBot(platform.app, bob.auth, { name: 'Bob bot' });
  for (const [channel, externalId, name] of [
    ['telegram', '2001', 'Ana'],
    ['telegram', '2002', null],
    ['whatsapp', '33611111111', 'Chloé'],
    ['telegram', '2004', 'Dev'],
    ['telegram', '2005', 'Eve'],
  ] as const) {
    contacts.push(await addContact(aliceBot.id, channel, externalId, name));
  }
  bobContact = await addContact(bobBot.id, 'telegram', '9001', 'Zed');
});
afterAll(async () => {
  await platform?.stop();
});

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
function request(method: Method, url: string, auth: { authorization: string }, payload?: unknown) {
  return platform.app.inject({ method, url: `/v1/bots/${url}`, headers: auth, ...(payload !== undefined ? { payload: payload as object } : {}) });
}
const tagsUrl = (botId: string, contactId: string) => `${botId}/contacts/${contactId}/tags`;

describe('contact tags', () => {
  it('replaces, adds and removes a contact’s tags, stored trimmed and in lower case', async () => {
    const contact = contacts[0]!;
    const put = await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: [' IG_Spring ', 'vip', 'VIP', 'Étudiant'] });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({ contactId: contact, tags: ['ig_spring', 'vip', 'étudiant'].sort() });

    const post = await request('POST', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['Newsletter', 'vip'] });
    expect(post.statusCode, post.body).toBe(200);
    expect(post.json().tags).toEqual(['ig_spring', 'newsletter', 'vip', 'étudiant'].sort());

    const removed = await request('DELETE', `${tagsUrl(aliceBot.id, contact)}/IG_SPRING`, alice.auth);
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().tags).toEqual(['newsletter', 'vip', 'étudiant'].sort());
    // Removing a tag the contact does not have changes nothing.
    expect((await request('DELETE', `${tagsUrl(aliceBot.id, contact)}/nope`, alice.auth)).json().tags).toEqual(removed.json().tags);

    const replaced = await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['vip'] });
    expect(replaced.json().tags).toEqual(['vip']);
    expect((await request('GET', tagsUrl(aliceBot.id, contact), alice.auth)).json()).toEqual({ contactId: contact, tags: ['vip'] });
    expect((await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: [] })).json().tags).toEqual([]);
  });

  it('works with an API key as well as a session', async () => {
    const key = (await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: alice.auth, payload: { name: 'CRM sync' } })).json().key as string;
    const response = await request('POST', tagsUrl(aliceBot.id, contacts[1]!), { authorization: `Bearer ${key}` }, { tags: ['from-crm'] });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().tags).toEqual(['from-crm']);
  });

  it('refuses malformed tags and too many with a precise 400, changing nothing', async () => {
    const contact = contacts[2]!;
    await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['keep'] });
    const bad: Array<[Method, string, unknown, RegExp]> = [
      ['PUT', '', { tags: ['two words'] }, /tags must be/],
      ['PUT', '', { tags: [''] }, /tags must be/],
      ['PUT', '', { tags: ['-leading'] }, /tags must be/],
      ['PUT', '', { tags: ['a'.repeat(65)] }, /tags must be/],
      ['PUT', '', { tags: ['emoji🙂'] }, /tags must be/],
      ['POST', '', { tags: ['semi;colon'] }, /tags must be/],
      ['PUT', '', { tags: 'vip' }, /tags/],
      ['PUT', '', {}, /tags/],
      ['PUT', '', { tags: ['vip'], extra: 1 }, /extra|Unrecognized/i],
      ['PUT', '', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, /at most 50 tags/],
      ['POST', '', { tags: Array.from({ length: 50 }, (_, i) => `t${i}`) }, /at most 50 tags/],
      ['DELETE', '/two%20words', undefined, /tag must be/],
    ];
    for (const [method, suffix, payload, message] of bad) {
      const response = await request(method, `${tagsUrl(aliceBot.id, contact)}${suffix}`, alice.auth, payload);
      expect(response.statusCode, `${method} ${JSON.stringify(payload)}`).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(`${error.message} ${JSON.stringify(error.details ?? {})}`, JSON.stringify(payload)).toMatch(message);
    }
    expect((await request('GET', tagsUrl(aliceBot.id, contact), alice.auth)).json().tags).toEqual(['keep']);
    // Exactly the limit is fine.
    const fifty = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    expect((await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: fifty })).json().tags).toEqual(fifty);
    await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['keep'] });
    expect((await request('GET', `${aliceBot.id}/contacts?limit=0`, alice.auth)).statusCode).toBe(400);
    expect((await request('GET', `${aliceBot.id}/contacts?before=nope`, alice.auth)).statusCode).toBe(400);
    expect((await request('GET', `${aliceBot.id}/contacts?tag=two%20words`, alice.auth)).statusCode).toBe(400);
  });

  it("answers 404 for another creator's bot or contact, and for a contact of another bot", async () => {
    const contact = contacts[3]!;
    await request('PUT', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['private'] });
    for (const method of ['GET', 'PUT', 'POST'] as const) {
      const payload = method === 'GET' ? undefined : { tags: ['hijack'] };
      expect((await request(method, tagsUrl(aliceBot.id, contact), bob.auth, payload)).statusCode, `${method} on Alice's bot`).toBe(404);
      expect((await request(method, tagsUrl(bobBot.id, contact), bob.auth, payload)).statusCode, `${method} through Bob's bot`).toBe(404);
      expect((await request(method, tagsUrl(aliceBot.id, bobContact), alice.auth, payload)).statusCode, `${method} on Bob's contact`).toBe(404);
      expect((await request(method, tagsUrl(aliceBot.id, '00000000-0000-4000-8000-000000000000'), alice.auth, payload)).statusCode).toBe(404);
      expect((await request(method, tagsUrl(aliceBot.id, 'not-an-id'), alice.auth, payload)).statusCode).toBe(404);
    }
    expect((await request('DELETE', `${tagsUrl(aliceBot.id, contact)}/private`, bob.auth)).statusCode).toBe(404);
    expect((await request('DELETE', `${tagsUrl(bobBot.id, contact)}/private`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', `${aliceBot.id}/contacts`, bob.auth)).statusCode).toBe(404);
    expect((await request('GET', tagsUrl(aliceBot.id, contact), alice.auth)).json().tags).toEqual(['private']);
    // Bob's list never shows Alice's contacts, even asked for her tag.
    expect((await request('GET', `${bobBot.id}/contacts?tag=private`, bob.auth)).json().contacts).toEqual([]);
  });
});

describe('the contact list', () => {
  it('lists contacts newest first with tags and flags, filtered by tag (any case) and paged', async () => {
    const { pool } = platform.infrastructure.database;
    for (const contact of [contacts[0]!, contacts[2]!, contacts[4]!]) await request('POST', tagsUrl(aliceBot.id, contact), alice.auth, { tags: ['spring'] });
    await pool.query(`INSERT INTO contact_coaching (contact_id, bot_id, opted_out_at, opted_out_by) VALUES ($1, $2, now(), 'user')`, [contacts[2], aliceBot.id]);
    await pool.query(`UPDATE contacts SET blocked_at = now() WHERE id = $1`, [contacts[4]]);

    const all = await request('GET', `${aliceBot.id}/contacts`, alice.auth);
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().contacts.map((c: { id: string }) => c.id)).toEqual([...contacts].reverse());
    expect(all.json().nextCursor).toBeNull();

    const spring = (await request('GET', `${aliceBot.id}/contacts?tag=SPRING`, alice.auth)).json();
    expect(spring.contacts).toEqual([
      { id: contacts[4], channel: 'telegram', displayName: 'Eve', username: null, tags: ['spring'], optedOut: false, blocked: true, createdAt: expect.any(String) },
      { id: contacts[2], channel: 'whatsapp', displayName: 'Chloé', username: null, tags: ['keep', 'spring'], optedOut: true, blocked: false, createdAt: expect.any(String) },
      { id: contacts[0], channel: 'telegram', displayName: 'Ana', username: null, tags: ['spring'], optedOut: false, blocked: false, createdAt: expect.any(String) },
    ]);

    const first = (await request('GET', `${aliceBot.id}/contacts?tag=spring&limit=2`, alice.auth)).json();
    expect(first.contacts.map((c: { id: string }) => c.id)).toEqual([contacts[4], contacts[2]]);
    expect(first.nextCursor).toBe(contacts[2]);
    const second = (await request('GET', `${aliceBot.id}/contacts?tag=spring&limit=2&before=${first.nextCursor}`, alice.auth)).json();
    expect(second.contacts.map((c: { id: string }) => c.id)).toEqual([contacts[0]]);
    expect(second.nextCursor).toBeNull();

    // A contact with no name on the channel gets the same stand-in as in the inbox.
    expect(all.json().contacts.find((c: { id: string }) => c.id === contacts[1]).displayName).toBe('Telegram user 2002');
  });

  it('shows each conversation’s contact id and tags in the inbox', async () => {
    await request('PUT', tagsUrl(aliceBot.id, contacts[3]!), alice.auth, { tags: ['b-side', 'a-side'] });
    const inbox = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${aliceBot.id}/conversations?limit=100`, headers: alice.auth })).json();
    const byContact = new Map(inbox.conversations.map((c: { contact: { id: string; tags: string[] } }) => [c.contact.id, c.contact.tags]));
    expect(byContact.get(contacts[3])).toEqual(['a-side', 'b-side']);
    expect(byContact.get(contacts[1])).toEqual(['from-crm']);
  });

  it('lists the routes in the API document', async () => {
    const doc = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/bots/{botId}/contacts', '/v1/bots/{botId}/contacts/{contactId}/tags', '/v1/bots/{botId}/contacts/{contactId}/tags/{tag}']),
    );
  });
});
