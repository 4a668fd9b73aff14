import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { multipart } from '../support/multipart.js';
import { parseSse } from '../support/sse.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let botId: string;
let documentId: string;

// A lesson's subtitles as a course platform exports them (CRLF, numbered cues, styling).
const lesson = [
  '1',
  '00:00:02,000 --> 00:00:05,000',
  'Welcome back to the course.',
  '',
  '2',
  '00:00:05,500 --> 00:00:08,000',
  'This week is all about <i>evening routines</i>.',
  '',
  '3',
  '00:04:31,400 --> 00:04:35,000',
  'Keep your bedroom cool, around eighteen degrees,',
  '',
  '4',
  '00:04:35,200 --> 00:04:39,000',
  'and your thermostat will help you fall asleep faster.',
  '',
  '5',
  '00:09:10,000 --> 00:09:14,000',
  'Next week we look at morning light.',
  '',
].join('\r\n');

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Sleep Coach', language: 'en' })).id;
  const file = { name: 'week-2-lesson.srt', type: 'application/x-subrip', bytes: Buffer.from(lesson) };
  documentId = (await uploadAndIngest(platform.app, alice.auth, botId, file, { fields: { title: 'Week 2 video' } })).id;
});
afterAll(async () => {
  await platform?.stop();
});

describe('subtitles in the knowledge base', () => {
  it('finds a passage of an uploaded SRT with the time it is said at', async () => {
    const response = await platform.app.inject({
      url: `/v1/bots/${botId}/search?q=${encodeURIComponent('thermostat bedroom temperature')}&k=3`,
      headers: alice.auth,
    });
    expect(response.statusCode).toBe(200);
    const [best] = response.json().results as Array<Record<string, unknown>>;
    expect(best).toEqual({
      documentId,
      title: 'Week 2 video',
      text: 'Keep your bedroom cool, around eighteen degrees, and your thermostat will help you fall asleep faster.',
      location: { kind: 'time', value: 271.4, label: 'at 04:31' },
      score: expect.any(Number),
    });
    // Subtitles have no pages: `page` stays for paged documents only.
    expect(best).not.toHaveProperty('page');
  });

  it('answers in the preview (no model: quoting the material) and cites the video at 04:31', async () => {
    const response = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${botId}/chat`,
      headers: alice.auth,
      payload: { sessionId: 'subtitles', text: 'What should the thermostat be set to in the bedroom?' },
    });
    expect(response.statusCode).toBe(200);
    const done = parseSse(response.body).at(-1)!;
    expect(done.event).toBe('done');
    const reply = done.data.reply as string;
    expect(reply).toMatch(/eighteen degrees/);
    expect(reply).toContain('— Week 2 video, at 04:31');
    expect(done.data.sources).toEqual([{ documentId, title: 'Week 2 video', location: { kind: 'time', value: 271.4, label: 'at 04:31' } }]);

    // The inbox transcript shows the reply with the same located source.
    const conversations = (await platform.app.inject({ url: `/v1/bots/${botId}/conversations`, headers: alice.auth })).json().conversations as Array<{ id: string }>;
    expect(conversations).toHaveLength(1);
    const messages = (await platform.app.inject({ url: `/v1/bots/${botId}/conversations/${conversations[0]!.id}/messages`, headers: alice.auth })).json();
    const answer = (messages.items as Array<{ type: string; sources?: unknown }>).find((item) => item.type === 'reply');
    expect(answer?.sources).toEqual([{ documentId, title: 'Week 2 video', location: { kind: 'time', value: 271.4, label: 'at 04:31' } }]);
  });

  it('refuses a corrupt SRT with the line that is wrong', async () => {
    const broken = ['1', '00:00:01,000 --> 00:00:02,000', 'Fine.', '', '2', 'half past four', 'Broken.', ''].join('\n');
    const body = multipart({ name: 'broken.srt', type: 'application/x-subrip', bytes: Buffer.from(broken) });
    const upload = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: { ...alice.auth, ...body.headers }, payload: body.payload });
    expect(upload.statusCode).toBe(202);
    const failed = await waitFor(
      async () => {
        const doc = (await platform.app.inject({ url: `/v1/bots/${botId}/documents/${upload.json().id}`, headers: alice.auth })).json();
        return doc.status === 'failed' ? doc : undefined;
      },
      { what: 'the broken subtitles to fail' },
    );
    expect(failed.error).toBe('The SRT subtitles could not be read: line 6: expected a timestamp like 00:01:02,500 --> 00:01:04,000');
  });
});
