import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { fixture } from '../support/fixtures.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import { multipart } from '../support/multipart.js';

const UPLOAD_LIMIT = 64 * 1024;

let platform: TestPlatform;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;

beforeAll(async () => {
  // A small upload limit so "too large" needs no large test files.
  platform = await startTestPlatform({ UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT) });
  alice = await signUpCreator(platform.app);
  bob = await signUpCreator(platform.app);
  botId = (await createBot(platform.app, alice.auth, { name: 'Coach', language: 'en' })).id;
});

afterAll(async () => {
  await platform?.stop();
});

function upload(session: CreatorSession, bot: string, file: { name: string; type: string; bytes: Buffer }, fields?: Record<string, string>) {
  const body = multipart(file, fields);
  return platform.app.inject({ method: 'POST', url: `/v1/bots/${bot}/documents`, headers: { ...session.auth, ...body.headers }, payload: body.payload });
}

function getDocument(session: CreatorSession, bot: string, id: string) {
  return platform.app.inject({ method: 'GET', url: `/v1/bots/${bot}/documents/${id}`, headers: session.auth });
}

async function settled(id: string) {
  return waitFor(
    async () => {
      const body = (await getDocument(alice, botId, id)).json();
      return body.status === 'ready' || body.status === 'failed' ? body : undefined;
    },
    // The first PDF or Word file starts a reading process (seconds on a busy machine), within the test's minute.
    { what: `document ${id} to settle`, timeoutMs: 45_000 },
  );
}

describe('documents API', () => {
  let pdfId: string;

  it('accepts a PDF upload at once and reports it ready with pages and chunks', async () => {
    const response = await upload(alice, botId, { name: 'ligatures.pdf', type: 'application/pdf', bytes: fixture('docs/pdfjs__copy_paste_ligatures.pdf') });
    expect(response.statusCode).toBe(202);
    const accepted = response.json();
    expect(accepted).toEqual({ id: expect.any(String), status: 'queued', title: 'ligatures.pdf' });
    pdfId = accepted.id;

    const ready = await settled(pdfId);
    expect(ready).toMatchObject({
      id: pdfId,
      title: 'ligatures.pdf',
      status: 'ready',
      chunks: 1,
      pages: 1,
      progress: 1,
      // Nothing answers at the test platform's OLLAMA_HOST: full-text search only, and the API says so.
      retrievalMode: 'lexical',
      filename: 'ligatures.pdf',
      mediaType: 'application/pdf',
      sizeBytes: fixture('docs/pdfjs__copy_paste_ligatures.pdf').length,
    });
    expect(ready.error).toBeUndefined();
    expect(Date.parse(ready.ingestedAt)).toBeGreaterThanOrEqual(Date.parse(ready.createdAt));
  });

  it('takes the title from the form and reads Word documents', async () => {
    const response = await upload(
      alice,
      botId,
      { name: 'lists.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: fixture('docs/pandoc__lists.docx') },
      { title: 'Nested lists' },
    );
    expect(response.statusCode).toBe(202);
    expect(response.json().title).toBe('Nested lists');
    expect(await settled(response.json().id)).toMatchObject({ status: 'ready', title: 'Nested lists', chunks: 1 });
    expect((await settled(response.json().id)).pages).toBeUndefined();
  });

  it('lists the bot’s documents', async () => {
    const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents`, headers: alice.auth });
    expect(response.statusCode).toBe(200);
    const titles = response.json().documents.map((d: { title: string }) => d.title);
    expect(titles).toEqual(['ligatures.pdf', 'Nested lists']);
  });

  it('refuses files over the upload limit with 413, whether announced or only streamed', async () => {
    const countBefore = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents`, headers: alice.auth })).json().documents.length;
    // Within the multipart allowance of Content-Length, so the streaming limit is what stops it.
    const slightlyOver = await upload(alice, botId, { name: 'big.txt', type: 'text/plain', bytes: Buffer.alloc(UPLOAD_LIMIT + 1024, 'a') });
    expect(slightlyOver.statusCode).toBe(413);
    expect(slightlyOver.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(slightlyOver.json().error.message).toBe('The file is larger than the upload limit of 64 KB');
    // Announced by Content-Length: refused before the body is read.
    const farOver = await upload(alice, botId, { name: 'huge.txt', type: 'text/plain', bytes: Buffer.alloc(2 * 1024 * 1024, 'a') });
    expect(farOver.statusCode).toBe(413);
    expect(farOver.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const countAfter = (await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents`, headers: alice.auth })).json().documents.length;
    expect(countAfter).toBe(countBefore);
  });

  it('refuses unsupported types with 415 listing the supported ones, and empty files with 400', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64)]);
    const unsupported = await upload(alice, botId, { name: 'photo.png', type: 'image/png', bytes: png });
    expect(unsupported.statusCode).toBe(415);
    expect(unsupported.json().error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { supported: ['application/pdf', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'text/html', 'text/plain', 'text/markdown', 'application/x-subrip', 'text/vtt', 'application/epub+zip', 'application/vnd.openxmlformats-officedocument.presentationml.presentation', 'application/zip', 'text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'] },
    });
    const empty = await upload(alice, botId, { name: 'empty.txt', type: 'text/plain', bytes: Buffer.alloc(0) });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toBe('The file is empty');
    const wrongField = multipart({ name: 'a.txt', type: 'text/plain', bytes: Buffer.from('hi') }, {}, 'document');
    const misnamed = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: { ...alice.auth, ...wrongField.headers }, payload: wrongField.payload });
    expect(misnamed.statusCode).toBe(400);
  });

  it('adds a web address; one on the server’s own network fails with the reason', async () => {
    const response = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${botId}/documents`,
      headers: alice.auth,
      payload: { url: 'http://127.0.0.1:9/internal', title: 'Internal wiki' },
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'queued', title: 'Internal wiki' });
    const failed = await settled(response.json().id);
    expect(failed).toMatchObject({ status: 'failed', error: 'Address 127.0.0.1 is not allowed: it is a loopback address', sourceUrl: 'http://127.0.0.1:9/internal' });

    const badScheme = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: alice.auth, payload: { url: 'file:///etc/passwd' } });
    expect(badScheme.statusCode).toBe(400);
    const noUrl = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents`, headers: alice.auth, payload: { title: 'x' } });
    expect(noUrl.statusCode).toBe(400);
  });

  it('re-ingest answers 202 with the current status', async () => {
    const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/documents/${pdfId}/reingest`, headers: alice.auth });
    expect(response.statusCode).toBe(202);
    // Same bytes, already ingested (and no embedding model to add): nothing to do.
    expect(response.json()).toMatchObject({ id: pdfId, status: 'ready', chunks: 1 });
  });

  it('hides one creator’s documents from another (404, never 403)', async () => {
    const bobsBot = (await createBot(platform.app, bob.auth)).id;
    const asBob = [
      { method: 'GET' as const, url: `/v1/bots/${botId}/documents` },
      { method: 'GET' as const, url: `/v1/bots/${botId}/documents/${pdfId}` },
      { method: 'DELETE' as const, url: `/v1/bots/${botId}/documents/${pdfId}` },
      { method: 'POST' as const, url: `/v1/bots/${botId}/documents/${pdfId}/reingest` },
      // Bob's own bot with Alice's document id.
      { method: 'GET' as const, url: `/v1/bots/${bobsBot}/documents/${pdfId}` },
      { method: 'DELETE' as const, url: `/v1/bots/${bobsBot}/documents/${pdfId}` },
      { method: 'GET' as const, url: `/v1/bots/${bobsBot}/documents/not-a-uuid` },
    ];
    for (const request of asBob) {
      const response = await platform.app.inject({ ...request, headers: bob.auth });
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(404);
    }
    const bobUpload = await upload(bob, botId, { name: 'x.txt', type: 'text/plain', bytes: Buffer.from('sneaky') });
    expect(bobUpload.statusCode).toBe(404);
    expect((await getDocument(alice, botId, pdfId)).json().status).toBe('ready');
  });

  it('documents the endpoints in the OpenAPI description', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/bots/{botId}/documents',
        '/v1/bots/{botId}/documents/{documentId}',
        '/v1/bots/{botId}/documents/{documentId}/reingest',
      ]),
    );
  });

  it('describes the upload in the OpenAPI document as "Try it out" sends it, a file field or a web address', async () => {
    const spec = (await platform.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const content = spec.paths['/v1/bots/{botId}/documents'].post.requestBody.content;
    const form = content['multipart/form-data'].schema;
    expect(form.required).toEqual(['file']);
    expect(form.properties.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(content['application/json'].schema).toMatchObject({ required: ['url'], properties: { url: { type: 'string' } } });

    // A form built from the description alone is accepted.
    const [fileField] = form.required as string[];
    const body = multipart({ name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('Walk ten minutes after lunch.') }, { title: 'Walking' }, fileField);
    const response = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${botId}/documents`,
      headers: { ...alice.auth, ...body.headers },
      payload: body.payload,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ title: 'Walking' });
  });

  it('requires authentication', async () => {
    const response = await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/documents` });
    expect(response.statusCode).toBe(401);
  });

  it('deletes a document with its chunks', async () => {
    const before = await platform.infrastructure.database.pool.query('SELECT count(*)::int AS n FROM chunks WHERE document_id = $1', [pdfId]);
    expect(before.rows[0].n).toBe(1);
    const response = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${botId}/documents/${pdfId}`, headers: alice.auth });
    expect(response.statusCode).toBe(204);
    expect((await getDocument(alice, botId, pdfId)).statusCode).toBe(404);
    const after = await platform.infrastructure.database.pool.query('SELECT count(*)::int AS n FROM chunks WHERE document_id = $1', [pdfId]);
    expect(after.rows[0].n).toBe(0);
    const again = await platform.app.inject({ method: 'DELETE', url: `/v1/bots/${botId}/documents/${pdfId}`, headers: alice.auth });
    expect(again.statusCode).toBe(404);
  });
});
