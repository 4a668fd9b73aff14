import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { zip } from '../support/hostile-documents.js';
import { epubBook, slideDeck, zipOf } from '../support/knowledge-files.js';
import { multipart } from '../support/multipart.js';
import { parseSse } from '../support/sse.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let botId: string;
const ids: Record<'book' | 'deck' | 'export', string> = { book: '', deck: '', export: '' };

const NOTION_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

beforeAll(async () => {
  // A small unpacked-size limit, so the zip bomb below proves it quickly.
  platform = await startTestPlatform({ INGEST_MAX_DECOMPRESSED_BYTES: String(4 * 1024 * 1024) });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Rest Coach', language: 'en' })).id;
  const book = epubBook('The Rest Book', [
    { title: 'Getting started', body: '<h1>Getting started</h1><p>This book is a gentle guide.</p>' },
    { title: 'Chapter 2: Box breathing', body: '<h1>Box breathing</h1><p>Box breathing means inhaling, holding, exhaling and holding again for four counts each.</p>' },
  ]);
  const deck = await slideDeck([
    { title: 'Welcome', texts: ['Six weeks to better evenings'] },
    { title: 'Screens', texts: ['Put the phone in another room an hour before bed'] },
    { title: 'Caffeine', texts: ['Your last coffee belongs before noon'], notes: 'Caffeine has a half-life of about five hours, so an afternoon espresso still keeps you awake at midnight.' },
  ]);
  const archive = zipOf({
    [`Course ${NOTION_ID}/Week 1/Journaling ${NOTION_ID}.md`]: '# Journaling\n\nWrite three gratitude lines in a notebook every night.',
    [`Course ${NOTION_ID}/Week 2/Walking ${NOTION_ID}.html`]: '<html><body><h1>Walking</h1><p>A brisk walk after lunch lifts the afternoon slump.</p></body></html>',
    [`Course ${NOTION_ID}/cover.png`]: 'PNG',
  });
  // Each kind once by its declared type alone and once by its name alone.
  const [bookDoc, deckDoc, exportDoc] = await Promise.all([
    uploadAndIngest(platform.app, alice.auth, botId, { name: 'book', type: 'application/epub+zip', bytes: book }),
    uploadAndIngest(platform.app, alice.auth, botId, { name: 'evenings.pptx', type: 'application/octet-stream', bytes: deck }, { fields: { title: 'Evening workshop' } }),
    uploadAndIngest(platform.app, alice.auth, botId, { name: 'notion-export', type: 'application/zip', bytes: archive }, { fields: { title: 'Course notes' } }),
  ]);
  Object.assign(ids, { book: bookDoc.id, deck: deckDoc.id, export: exportDoc.id });
});
afterAll(async () => {
  await platform?.stop();
});

async function search(q: string): Promise<Array<Record<string, unknown>>> {
  const response = await platform.app.inject({ url: `/v1/bots/${botId}/search?q=${encodeURIComponent(q)}&k=3`, headers: alice.auth });
  expect(response.statusCode).toBe(200);
  return response.json().results;
}

/** The chat preview's `done` event for one question (no model: the reply quotes the best passage and cites it). */
async function preview(sessionId: string, text: string): Promise<{ reply: string; sources: Array<Record<string, unknown>> }> {
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/chat`, headers: alice.auth, payload: { sessionId, text } });
  const done = parseSse(response.body).at(-1)!;
  expect(done.event).toBe('done');
  return done.data as { reply: string; sources: Array<Record<string, unknown>> };
}

async function upload(name: string, type: string, bytes: Buffer): Promise<string> {
  const body = multipart({ name, type, bytes });
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: { ...alice.auth, ...body.headers }, payload: body.payload });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

function settled(id: string) {
  return waitFor(
    async () => {
      const doc = (await platform.app.inject({ url: `/v1/bots/${botId}/documents/${id}`, headers: alice.auth })).json();
      return doc.status === 'ready' || doc.status === 'failed' ? doc : undefined;
    },
    { timeoutMs: 60_000, what: `document ${id} to settle` },
  );
}

describe('e-books, slide decks and workspace exports in the knowledge base', () => {
  it('finds a chapter of an e-book, headed by the chapter title, under the book title it declares, and the preview cites the chapter', async () => {
    const chapter = { kind: 'chapter', value: 2, section: 'Chapter 2: Box breathing', label: 'ch. 2 “Box breathing”' };
    const [best] = await search('box breathing four counts');
    expect(best).toMatchObject({
      documentId: ids.book,
      title: 'The Rest Book',
      text: 'Chapter 2: Box breathing\n\n# Box breathing\n\nBox breathing means inhaling, holding, exhaling and holding again for four counts each.',
      location: chapter,
    });

    const done = await preview('book', 'How does box breathing work?');
    expect(done.reply).toMatch(/holding again for four counts each/);
    expect(done.reply).toContain('— The Rest Book, ch. 2 “Box breathing”');
    expect(done.sources).toContainEqual({ documentId: ids.book, title: 'The Rest Book', location: chapter });
  });

  it('finds a slide with its speaker notes, and the preview cites the slide', async () => {
    const [best] = await search('afternoon espresso caffeine half-life');
    expect(best).toMatchObject({ documentId: ids.deck, title: 'Evening workshop', location: { kind: 'slide', value: 3, label: 'slide 3' } });
    expect(best!.text).toContain('Speaker notes:\nCaffeine has a half-life of about five hours');

    const done = await preview('deck', 'Why does an afternoon espresso keep me awake?');
    expect(done.reply).toMatch(/half-life of about five hours/);
    expect(done.reply).toContain('— Evening workshop, slide 3');
    expect(done.sources).toContainEqual({ documentId: ids.deck, title: 'Evening workshop', location: { kind: 'slide', value: 3, label: 'slide 3' } });
  });

  it('finds a page of a Notion export under its folder path, Notion ids stripped, HTML pages included, and the preview cites the path', async () => {
    const [journaling] = await search('gratitude notebook');
    expect(journaling).toMatchObject({
      documentId: ids.export,
      text: 'Course/Week 1/Journaling\n\n# Journaling\n\nWrite three gratitude lines in a notebook every night.',
      location: { kind: 'path', value: 1, section: 'Course/Week 1/Journaling', label: 'Course/Week 1/Journaling' },
    });
    const [walking] = await search('brisk walk after lunch');
    expect(walking).toMatchObject({
      documentId: ids.export,
      text: 'Course/Week 2/Walking\n\n# Walking\n\nA brisk walk after lunch lifts the afternoon slump.',
      location: { kind: 'path', value: 2, label: 'Course/Week 2/Walking' },
    });

    const done = await preview('export', 'What should I write in my gratitude notebook?');
    expect(done.reply).toMatch(/three gratitude lines/);
    expect(done.reply).toContain('— Course notes, Course/Week 1/Journaling');
  });

  it('fails a damaged e-book, a password-protected deck and a zip bomb with their reason, and keeps reading the next upload', async () => {
    const book = epubBook('Cut', [{ title: 'One', body: '<p>Text.</p>' }]);
    const encryptedDeck = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504), Buffer.from('EncryptedPackage', 'utf16le')]);
    const bomb = zip([{ name: 'Notes/Plan.md', data: Buffer.alloc(64 * 1024 * 1024, 0x20), declaredSize: 10 }]);
    expect(bomb.length).toBeLessThan(256 * 1024);
    const failing = {
      book: await upload('cut.epub', 'application/epub+zip', book.subarray(0, book.length - 30)),
      deck: await upload('locked.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation', encryptedDeck),
      bomb: await upload('export.zip', 'application/zip', bomb),
    };
    const next = await upload('notes.md', 'text/markdown', Buffer.from('# Notes\n\nStretch your calves after the walk.'));
    expect(await settled(failing.book)).toMatchObject({ status: 'failed', error: 'The e-book could not be read (it may be damaged)' });
    expect(await settled(failing.deck)).toMatchObject({ status: 'failed', error: 'The presentation is password-protected; remove the password in PowerPoint and upload it again' });
    expect(await settled(failing.bomb)).toMatchObject({ status: 'failed', error: 'The document expands to more than 4 MB when unpacked' });
    expect(await settled(next)).toMatchObject({ status: 'ready', chunks: 1 });
  });
});
