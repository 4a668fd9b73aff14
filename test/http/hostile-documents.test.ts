import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { deeplyNestedDocx, deeplyNestedHtml, manyPagesPdf, manyParagraphsDocx, zipBombDocx } from '../support/hostile-documents.js';
import { multipart } from '../support/multipart.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

let platform: TestPlatform;
let creator: CreatorSession;
let botId: string;

beforeAll(async () => {
  // Limits lower than the defaults, so each hostile file proves its limit quickly.
  platform = await startTestPlatform({
    UPLOAD_MAX_BYTES: String(16 * 1024 * 1024),
    INGEST_CONCURRENCY: '4',
    INGEST_PARSE_PROCESSES: '2',
    INGEST_MAX_PAGES: '1000',
    INGEST_MAX_PARAGRAPHS: '10000',
    INGEST_MAX_DECOMPRESSED_BYTES: String(128 * 1024 * 1024),
  });
  creator = await signUpCreator(platform.app);
  botId = (await createBot(platform.app, creator.auth, { name: 'Coach', language: 'en' })).id;
});

afterAll(async () => {
  await platform?.stop();
});

async function upload(name: string, type: string, bytes: Buffer): Promise<string> {
  const body = multipart({ name, type, bytes });
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: { ...creator.auth, ...body.headers }, payload: body.payload });
  expect(response.statusCode).toBe(202);
  return response.json().id;
}

/**
 * Polls the document until it settles, asking /healthz on every round: the process answers HTTP
 * throughout. Reports whether it answered while the document was being processed.
 */
async function settledWhileHealthy(id: string): Promise<{ document: { status: string; error?: string }; answeredWhileProcessing: boolean }> {
  let answeredWhileProcessing = false;
  const document = await waitFor(
    async () => {
      const health = await platform.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      const current = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents/${id}`, headers: creator.auth })).json();
      if (current.status === 'processing') answeredWhileProcessing = true;
      return current.status === 'ready' || current.status === 'failed' ? current : undefined;
    },
    { timeoutMs: 90_000, what: `document ${id} to settle` },
  );
  return { document, answeredWhileProcessing };
}

describe('hostile documents', () => {
  it('fails a PDF of 100,000 empty pages with its reason while the API keeps answering', async () => {
    const id = await upload('pages.pdf', 'application/pdf', manyPagesPdf(100_000));
    const { document, answeredWhileProcessing } = await settledWhileHealthy(id);
    expect(document).toMatchObject({ status: 'failed', error: 'The PDF has more than 1,000 pages (100,000); split it into smaller files' });
    expect(answeredWhileProcessing).toBe(true);
  });

  it('fails Word documents with millions of paragraphs, a zip bomb and deeply nested markup, each with its reason', async () => {
    const paragraphs = manyParagraphsDocx(3_000_000);
    const bomb = zipBombDocx(256 * 1024 * 1024);
    // Small files that would take gigabytes or minutes to read.
    expect(paragraphs.length).toBeLessThan(1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const ids = {
      paragraphs: await upload('paragraphs.docx', DOCX, paragraphs),
      bomb: await upload('bomb.docx', DOCX, bomb),
      nestedWord: await upload('nested.docx', DOCX, deeplyNestedDocx(100_000)),
      nestedPage: await upload('nested.html', 'text/html', deeplyNestedHtml(100_000)),
    };
    const reasons = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, (await settledWhileHealthy(id)).document] as const)),
    );
    expect(reasons).toEqual({
      paragraphs: expect.objectContaining({ status: 'failed', error: 'The Word document has more than 10,000 paragraphs; split it into smaller files' }),
      bomb: expect.objectContaining({ status: 'failed', error: 'The document expands to more than 128 MB when unpacked' }),
      nestedWord: expect.objectContaining({ status: 'failed', error: 'The document is nested too deeply to be read' }),
      nestedPage: expect.objectContaining({ status: 'failed', error: 'The document is nested too deeply to be read' }),
    });
    // The creator is told, as for any unreadable upload.
    const outbox = (await platform.app.inject({ method: 'GET', url: '/v1/dev/outbox', headers: creator.auth })).json();
    expect(JSON.stringify(outbox)).toContain('more than 10,000 paragraphs');
  });

  it('fails a document that needs more memory than its reading process has, and reads the next one', async () => {
    // A second platform whose reading processes have a small heap and no paragraph limit to speak of.
    const small = await startTestPlatform({ INGEST_PARSE_MAX_HEAP_MB: '64', INGEST_MAX_PARAGRAPHS: '10000000' });
    try {
      const session = await signUpCreator(small.app);
      const bot = (await createBot(small.app, session.auth, { name: 'Coach', language: 'en' })).id;
      const send = async (name: string, type: string, bytes: Buffer) => {
        const body = multipart({ name, type, bytes });
        const response = await small.app.inject({ method: 'POST', url: `/v1/bots/${bot}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
        return response.json().id as string;
      };
      const settle = (id: string) =>
        waitFor(
          async () => {
            const current = (await small.app.inject({ method: 'GET', url: `/v1/bots/${bot}/documents/${id}`, headers: session.auth })).json();
            return current.status === 'ready' || current.status === 'failed' ? current : undefined;
          },
          { timeoutMs: 90_000, what: `document ${id} to settle` },
        );
      expect(await settle(await send('long.docx', DOCX, manyParagraphsDocx(150_000)))).toMatchObject({
        status: 'failed',
        error: 'The document needs more memory than allowed (64 MB) to be read; split it into smaller files',
      });
      expect(await settle(await send('notes.txt', 'text/plain', Buffer.from('Walk after lunch.')))).toMatchObject({ status: 'ready' });
    } finally {
      await small.stop();
    }
  });

  it('still reads an ordinary document afterwards', async () => {
    const id = await upload('notes.md', 'text/markdown', Buffer.from('# Notes\n\nBreathe in for four counts, out for six.'));
    expect((await settledWhileHealthy(id)).document).toMatchObject({ status: 'ready', chunks: 1 });
  });
});
