import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { zip } from '../support/hostile-documents.js';
import { multipart } from '../support/multipart.js';
import { parseSse } from '../support/sse.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;
let bobBotId: string;
let sheetId: string;
// A published sheet (as a Google Sheets "publish as CSV" link serves it), changed between fetches.
let site: Server;
let siteCsv = 'Question,Answer\nDo you offer group calls?,Yes: every Thursday at 18:00.\n';

const PRICE_ANSWER = 'The six-week program costs 40 €, paid once. Pay by card or PayPal.';

async function faqSheet(): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('Plans').addRows([['Plan', 'Price', 'Duration'], ['Starter', '40 €', '6 weeks']]);
  book.addWorksheet('FAQ').addRows([
    ['Question', 'Answer'],
    ['How much does the coaching program cost?', PRICE_ANSWER],
    ['Can I pause my membership while travelling?', 'Yes, for up to four weeks from your account page.'],
  ]);
  return Buffer.from(await book.xlsx.writeBuffer());
}

type Faq = { id: string; question: string; answer: string; source: string; documentId: string | null; location: { label: string } | null };

async function listFaqs(session: CreatorSession, bot: string, query = ''): Promise<{ faqs: Faq[]; nextCursor: string | null }> {
  const response = await platform.app.inject({ url: `/v1/bots/${bot}/faqs${query}`, headers: session.auth });
  expect(response.statusCode).toBe(200);
  return response.json();
}

function post(session: CreatorSession, bot: string, payload: unknown) {
  return platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/faqs`, headers: session.auth, payload: payload as object });
}

async function ask(bot: string, sessionId: string, text: string): Promise<{ reply: string; sources: Array<{ title: string; documentId: string }> }> {
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/chat`, headers: alice.auth, payload: { sessionId, text } });
  const done = parseSse(response.body).at(-1);
  expect(done?.event).toBe('done');
  return done?.data as { reply: string; sources: Array<{ title: string; documentId: string }> };
}

beforeAll(async () => {
  site = createServer((request, response) => {
    if (request.url !== '/faq.csv') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(siteCsv);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  platform = await startTestPlatform({ URL_FETCH_ALLOW_PRIVATE: 'true', INGEST_MAX_DECOMPRESSED_BYTES: String(16 * 1024 * 1024) });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Move Coach', language: 'en' })).id;
  bobBotId = (await createBot(platform.app, bob.auth, { name: 'Bob Coach', language: 'en' })).id;
  const file = { name: 'coach.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes: await faqSheet() };
  sheetId = (await uploadAndIngest(platform.app, alice.auth, botId, file, { fields: { title: 'Coach sheet' } })).id;
});
afterAll(async () => {
  await platform?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('FAQ sheets', () => {
  it('lists the pairs of an uploaded FAQ sheet with their document and row', async () => {
    const { faqs } = await listFaqs(alice, botId);
    expect(faqs.map(({ question, source, documentId, location }) => ({ question, source, documentId, label: location?.label }))).toEqual([
      { question: 'How much does the coaching program cost?', source: 'document', documentId: sheetId, label: 'sheet FAQ, row 2' },
      { question: 'Can I pause my membership while travelling?', source: 'document', documentId: sheetId, label: 'sheet FAQ, row 3' },
    ]);
    // Rows of the other sheet are passages with their headers, found by search and located.
    const search = await platform.app.inject({ url: `/v1/bots/${botId}/search?q=starter%20plan%20price&k=1`, headers: alice.auth });
    expect(search.json().results[0]).toMatchObject({ text: 'Plan: Starter; Price: 40 €; Duration: 6 weeks', location: { kind: 'row', value: 2, section: 'Plans', label: 'sheet Plans, row 2' } });
  });

  it('answers a paraphrase of an FAQ question with the creator’s own answer, cited as FAQ, and not a different question', async () => {
    const paraphrase = await ask(botId, 'faq-1', 'Hi! How much does the program cost?');
    expect(paraphrase.reply).toBe(`${PRICE_ANSWER}\n\n— FAQ`);
    expect(paraphrase.sources).toEqual([{ documentId: sheetId, title: 'FAQ' }]);

    const nearMiss = await ask(botId, 'faq-2', 'How long does the coaching program last?');
    expect(nearMiss.reply).not.toContain(PRICE_ANSWER);
    expect(nearMiss.sources.map((s) => s.title)).not.toContain('FAQ');
  });

  it('keeps a sheet’s pairs tied to it: they cannot be edited here, and go with the document', async () => {
    const [pair] = (await listFaqs(alice, botId)).faqs;
    const patch = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${botId}/faqs/${pair!.id}`, headers: alice.auth, payload: { answer: 'Free!' } });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().error.code).toBe('FAQ_FROM_DOCUMENT');

    const other = await createBot(platform.app, alice.auth, { name: 'Second', language: 'en' });
    const file = { name: 'faq.csv', type: 'text/csv', bytes: Buffer.from('Q;A\nIs there an app?;Not yet.\n') };
    const doc = await uploadAndIngest(platform.app, alice.auth, other.id, file);
    expect((await listFaqs(alice, other.id)).faqs.map((f) => f.question)).toEqual(['Is there an app?']);
    const removed = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${other.id}/documents/${doc.id}`, headers: alice.auth });
    expect(removed.statusCode).toBe(204);
    expect((await listFaqs(alice, other.id)).faqs).toEqual([]);
  });

  it('replaces a sheet’s pairs when it is read again with new rows', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Synced', language: 'en' })).id;
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/faq.csv`;
    const added = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/documents`, headers: alice.auth, payload: { url } });
    expect(added.statusCode).toBe(202);
    const documentId = added.json().id as string;
    await waitFor(async () => (await listFaqs(alice, bot)).faqs.length === 1, { what: 'the published sheet’s pair' });

    siteCsv = 'Question,Answer\nDo you offer group calls?,Yes: Thursdays and Sundays at 18:00.\nIs there a replay?,Every call is recorded.\n';
    const again = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/documents/${documentId}/reingest`, headers: alice.auth });
    expect(again.statusCode).toBe(202);
    const { faqs } = await waitFor(async () => {
      const page = await listFaqs(alice, bot);
      return page.faqs.length === 2 ? page : undefined;
    }, { what: 'the pairs of the changed sheet' });
    expect(faqs.map((f) => [f.question, f.answer])).toEqual([
      ['Do you offer group calls?', 'Yes: Thursdays and Sundays at 18:00.'],
      ['Is there a replay?', 'Every call is recorded.'],
    ]);
  });
});

describe('unreadable spreadsheets', () => {
  it('fail with their reason, and the next sheet is read', async () => {
    const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    const bot = (await createBot(platform.app, alice.auth, { name: 'Hostile', language: 'en' })).id;
    // A sheet that claims 4 KB and unpacks to 32 MB of blanks; an encrypted workbook (an OLE file).
    const bomb = zip([
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook><sheets><sheet name="A" r:id="rId1"/></sheets></workbook>') },
      { name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(32 * 1024 * 1024, 0x20), declaredSize: 4096 },
    ]);
    const encrypted = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(4096)]);
    const ids: Record<string, string> = {};
    for (const [name, bytes] of [['bomb.xlsx', bomb], ['locked.xlsx', encrypted]] as const) {
      const body = multipart({ name, type: XLSX, bytes });
      const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/documents`, headers: { ...alice.auth, ...body.headers }, payload: body.payload });
      expect(response.statusCode).toBe(202);
      ids[name] = response.json().id;
    }
    const settled = async (id: string) =>
      waitFor(async () => {
        const doc = (await platform.app.inject({ url: `/v1/bots/${bot}/documents/${id}`, headers: alice.auth })).json();
        return doc.status === 'failed' || doc.status === 'ready' ? doc : undefined;
      }, { timeoutMs: 60_000, what: `document ${id} to settle` });
    expect(await settled(ids['bomb.xlsx']!)).toMatchObject({ status: 'failed', error: 'The document expands to more than 16 MB when unpacked' });
    expect(await settled(ids['locked.xlsx']!)).toMatchObject({ status: 'failed', error: expect.stringMatching(/password-protected or an old Excel file \(\.xls\)/) });
    const next = await uploadAndIngest(platform.app, alice.auth, bot, { name: 'ok.csv', type: 'text/csv', bytes: Buffer.from('Plan,Price\nStarter,40 €\n') });
    expect(next).toMatchObject({ status: 'ready', chunks: 1 });
  });
});

describe('/v1/bots/:botId/faqs', () => {
  it('adds, lists, changes and deletes a pair written by hand', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Manual', language: 'en' })).id;
    const created = await post(alice, bot, { question: '  When does the next group start? ', answer: 'On the first Monday of each month.' });
    expect(created.statusCode).toBe(201);
    const pair = created.json() as Faq;
    expect(pair).toMatchObject({ question: 'When does the next group start?', source: 'manual', documentId: null, location: null });

    const patched = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${bot}/faqs/${pair.id}`, headers: alice.auth, payload: { answer: 'Every first Monday.' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ question: 'When does the next group start?', answer: 'Every first Monday.' });
    const reply = await ask(bot, 'manual-1', 'When will the next group start?');
    expect(reply.reply).toBe('Every first Monday.\n\n— FAQ');

    const deleted = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${bot}/faqs/${pair.id}`, headers: alice.auth });
    expect(deleted.statusCode).toBe(204);
    expect((await platform.app.inject({ url: `/v1/bots/${bot}/faqs/${pair.id}`, headers: alice.auth })).statusCode).toBe(404);
    expect((await listFaqs(alice, bot)).faqs).toEqual([]);
  });

  it('pages through the pairs in the order they were added', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Paged', language: 'en' })).id;
    for (const n of [1, 2, 3]) expect((await post(alice, bot, { question: `Question ${n}?`, answer: `Answer ${n}.` })).statusCode).toBe(201);
    const first = await listFaqs(alice, bot, '?limit=2');
    expect(first.faqs.map((f) => f.question)).toEqual(['Question 1?', 'Question 2?']);
    const second = await listFaqs(alice, bot, `?limit=2&after=${first.nextCursor}`);
    expect(second).toMatchObject({ faqs: [{ question: 'Question 3?' }], nextCursor: null });
  });

  it('refuses bad input with a precise 400 and writes nothing', async () => {
    const bot = (await createBot(platform.app, alice.auth, { name: 'Strict', language: 'en' })).id;
    const cases: Array<[unknown, RegExp]> = [
      [{ question: '   ', answer: 'x' }, /question/],
      [{ question: 'Why?' }, /answer/],
      [{ question: 'Why?', answer: 'x'.repeat(4001) }, /answer/],
      [{ question: 'Why?', answer: 'Because.', extra: true }, /extra|unrecognized/i],
    ];
    for (const [payload, field] of cases) {
      const response = await post(alice, bot, payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
      expect(response.json().error.message).toMatch(field);
    }
    const pair = (await post(alice, bot, { question: 'Why?', answer: 'Because.' })).json() as Faq;
    const empty = await platform.app.inject({ method: 'PATCH', url: `/v1/bots/${bot}/faqs/${pair.id}`, headers: alice.auth, payload: {} });
    expect(empty.statusCode).toBe(400);
    expect((await platform.app.inject({ url: `/v1/bots/${bot}/faqs?after=abc`, headers: alice.auth })).statusCode).toBe(400);
    expect((await listFaqs(alice, bot)).faqs).toHaveLength(1);
  });

  it('answers 404 for another creator’s bot or pair, and changes nothing', async () => {
    const [pair] = (await listFaqs(alice, botId)).faqs;
    const ownBot = (await createBot(platform.app, alice.auth, { name: 'Own' })).id;
    const own = (await post(alice, ownBot, { question: 'Mine?', answer: 'Yes.' })).json() as Faq;
    const attempts = [
      platform.app.inject({ url: `/v1/bots/${botId}/faqs`, headers: bob.auth }),
      post(bob, botId, { question: 'Sneaky?', answer: 'No.' }),
      platform.app.inject({ url: `/v1/bots/${botId}/faqs/${pair!.id}`, headers: bob.auth }),
      platform.app.inject({ url: `/v1/bots/${bobBotId}/faqs/${own.id}`, headers: bob.auth }),
      platform.app.inject({ method: 'PATCH', url: `/v1/bots/${bobBotId}/faqs/${own.id}`, headers: bob.auth, payload: { answer: 'Hacked.' } }),
      platform.app.inject({ method: 'DELETE', url: `/v1/bots/${bobBotId}/faqs/${own.id}`, headers: bob.auth }),
      platform.app.inject({ url: `/v1/bots/not-a-uuid/faqs`, headers: bob.auth }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
    expect((await listFaqs(alice, botId)).faqs.map((f) => f.question)).not.toContain('Sneaky?');
    expect((await listFaqs(alice, ownBot)).faqs).toMatchObject([{ id: own.id, answer: 'Yes.' }]);
    expect((await platform.app.inject({ url: `/v1/bots/${bobBotId}/faqs`, headers: bob.auth })).json().faqs).toEqual([]);
  });
});
