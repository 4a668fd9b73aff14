import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadDocument, waitUntilReady } from '../../scripts/eval-retrieval.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { fixture } from '../support/fixtures.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let aliceBot: string;

const notes = [
  { title: 'Evening routine', text: 'Dim the lights an hour before bed and keep the phone out of the bedroom to fall asleep faster.' },
  { title: 'Morning light', text: 'Get daylight within thirty minutes of waking; it anchors the body clock and improves sleep at night.' },
  { title: 'Strength basics', text: 'Add weight only when every set is done with good form; progressive overload builds strength.' },
  { title: 'Hydration', text: 'Keep a water bottle on the desk and drink a glass with every meal.' },
  { title: 'Protein', text: 'Build each meal around a palm-sized portion of protein such as eggs, fish, tofu or lentils.' },
  { title: 'Walking', text: 'A short walk after lunch helps digestion and lifts the afternoon energy dip.' },
  { title: 'Breathing', text: 'Box breathing: in for four, hold for four, out for four, hold for four, to calm down quickly.' },
];

function search(session: CreatorSession | undefined, botId: string, query: string) {
  return platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/search?${query}`, headers: session?.auth ?? {} });
}

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  aliceBot = (await createBot(platform.app, alice.auth, { name: 'Sleep coach', language: 'en' })).id;
  for (const note of notes) {
    await uploadDocument(platform.app, alice.auth, aliceBot, { title: note.title, filename: `${note.title}.txt`, bytes: note.text, mediaType: 'text/plain' });
  }
  await uploadDocument(platform.app, alice.auth, aliceBot, {
    title: 'Tracing JIT paper',
    filename: 'tracemonkey.pdf',
    bytes: fixture('docs/pdfjs__tracemonkey.pdf'),
    mediaType: 'application/pdf',
  });
  await waitUntilReady(platform.app, alice.auth, aliceBot, notes.length + 1);
});
afterAll(async () => {
  await platform?.stop();
});

describe('GET /v1/bots/:botId/search', () => {
  it('returns the best passages with document, title, text and score, best first', async () => {
    const response = await search(alice, aliceBot, `q=${encodeURIComponent('how do I fall asleep faster at night?')}`);
    expect(response.statusCode).toBe(200);
    const { results } = response.json() as { results: Array<{ documentId: string; title: string; text: string; page?: number; score: number }> };
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThanOrEqual(5);
    expect(results[0]).toEqual({ documentId: expect.any(String), title: 'Evening routine', text: expect.stringContaining('fall asleep faster'), score: expect.any(Number) });
    const scores = results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s > 0)).toBe(true);
  });

  it('gives the page of passages from paged documents', async () => {
    const response = await search(alice, aliceBot, `q=${encodeURIComponent('trace trees type-specialized loops')}&k=3`);
    expect(response.statusCode).toBe(200);
    const { results } = response.json() as { results: Array<{ title: string; page?: number; location?: { kind: string; value: number; label: string } }> };
    expect(results[0]?.title).toBe('Tracing JIT paper');
    expect(results.every((r) => r.title !== 'Tracing JIT paper' || (Number.isInteger(r.page) && r.page! >= 1))).toBe(true);
    // The same page as a location, labelled the way citations name it.
    expect(results[0]?.location).toEqual({ kind: 'page', value: results[0]?.page, label: `p. ${results[0]?.page}` });
  });

  it('returns k passages, 5 by default', async () => {
    const all = await search(alice, aliceBot, `q=${encodeURIComponent('sleep walk water protein breathing strength weight lights')}`);
    expect(all.json().results).toHaveLength(5);
    const two = await search(alice, aliceBot, `q=${encodeURIComponent('sleep walk water protein breathing strength weight lights')}&k=2`);
    expect(two.json().results).toHaveLength(2);
  });

  it('returns no results, not an error, when nothing matches', async () => {
    const response = await search(alice, aliceBot, 'q=zyxwvut');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ results: [] });
  });

  it('rejects a missing, empty or over-long query and an out-of-range k', async () => {
    for (const query of ['', 'q=', 'q=%20%20', `q=${'a'.repeat(1001)}`, 'q=sleep&k=0', 'q=sleep&k=51', 'q=sleep&k=two']) {
      const response = await search(alice, aliceBot, query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await search(alice, aliceBot, `q=${'a'.repeat(1000)}&k=50`)).statusCode).toBe(200);
  });

  it('needs authentication', async () => {
    const response = await search(undefined, aliceBot, 'q=sleep');
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('UNAUTHORIZED');
  });

  it('answers 404 for another creator’s bot, exactly as for an unknown one', async () => {
    const foreign = await search(bob, aliceBot, 'q=sleep');
    const unknown = await search(bob, '00000000-0000-4000-8000-000000000000', 'q=sleep');
    const malformed = await search(bob, 'not-a-bot', 'q=sleep');
    for (const response of [foreign, unknown, malformed]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    }
    expect(foreign.body).toBe(unknown.body);
  });
});
