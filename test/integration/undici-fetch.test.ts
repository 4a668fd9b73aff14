import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUndiciFetch, undiciFetch } from '../../src/http-client/undici-fetch.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A real HTTP server whose routes answer the way the SDKs' servers do (JSON, errors, NDJSON
 * streams) or hold a response open until the test releases it, so aborts and broken bodies
 * happen at a known point.
 */
interface TestServer {
  url: string;
  /** Connections ever accepted. */
  connections: number;
  /** Requests whose connection closed before the server finished answering. */
  cutOff: string[];
  /** Bodies received, by path. */
  received: Map<string, { method: string; headers: IncomingMessage['headers']; body: string }>;
  /** Releases every response waiting on `/hold-*`. */
  release(): void;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const waiting = new Set<() => void>();
  const sockets = new Set<Socket>();
  const state: Omit<TestServer, 'url' | 'close' | 'release'> = { connections: 0, cutOff: [], received: new Map() };
  const held = (res: ServerResponse, path: string) =>
    new Promise<void>((resolve) => {
      waiting.add(resolve);
      res.on('close', () => {
        if (!res.writableFinished) state.cutOff.push(path);
        waiting.delete(resolve);
      });
    });

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? '/';
    state.received.set(path, { method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    switch (path) {
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
        res.end(JSON.stringify({ models: [{ name: 'llama3.2:3b' }] }));
        return;
      case '/not-found':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('model "mistral" not found');
        return;
      case '/telegram-error':
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error_code: 400, description: 'Bad Request: chat not found' }));
        return;
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
        return;
      case '/stream': {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        // Lines split across writes, as a model's tokens arrive.
        res.write('{"message":{"content":"Seven"},"done":false}\n{"message":{"con');
        res.write('tent":" to nine"},"done":false}\n');
        res.end('{"message":{"content":" hours."},"done":true}\n');
        return;
      }
      case '/hold-headers':
        await held(res, path);
        if (!res.destroyed) res.end('late');
        return;
      case '/hold-body':
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"message":{"content":"Seven"},"done":false}\n');
        await held(res, path);
        if (!res.destroyed) res.end('{"done":true}\n');
        return;
      case '/break-body':
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"message":{"content":"Seven"},"done":false}\n');
        await held(res, path);
        res.socket?.destroy();
        return;
      default:
        res.writeHead(500);
        res.end();
    }
  });
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    release: () => {
      for (const resolve of [...waiting]) resolve();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

async function readAll(body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>; releaseLock(): void } }): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    expect(value).toBeInstanceOf(Uint8Array);
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text + decoder.decode();
}

describe('undici-backed fetch', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterEach(() => {
    server.release();
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads a JSON answer: status, headers by any case, json()', async () => {
    const res = await undiciFetch(`${server.url}/json`);
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(res.statusText).toBe('OK');
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(res.headers.get('x-absent')).toBeNull();
    expect(await res.json()).toEqual({ models: [{ name: 'llama3.2:3b' }] });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toBeInstanceOf(TypeError);
  });

  it('passes error statuses through with their bodies, as text or JSON', async () => {
    const missing = await undiciFetch(`${server.url}/not-found`, { method: 'POST', body: '{}' });
    expect(missing.ok).toBe(false);
    expect(missing.status).toBe(404);
    expect(missing.statusText).toBe('Not Found');
    expect(await missing.text()).toBe('model "mistral" not found');

    const telegram = await undiciFetch(`${server.url}/telegram-error`, { method: 'POST', body: '{}' });
    expect(telegram.status).toBe(400);
    expect(await telegram.json()).toEqual({ ok: false, error_code: 400, description: 'Bad Request: chat not found' });
  });

  it('sends the method, headers and a string body, or a Node stream body (multipart uploads)', async () => {
    const json = await undiciFetch(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'keep-alive' },
      body: JSON.stringify({ chat_id: 42, text: 'Hi' }),
    });
    expect(await json.json()).toEqual({ method: 'POST', contentType: 'application/json', body: '{"chat_id":42,"text":"Hi"}' });

    const parts = ['--b\r\n', 'content-disposition: form-data; name="chat_id"\r\n\r\n42\r\n', '--b--\r\n'];
    const stream = Readable.from(
      parts.map((p) => new TextEncoder().encode(p)),
      { objectMode: false },
    );
    const upload = await undiciFetch(`${server.url}/echo`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'multipart/form-data; boundary=b' }),
      body: stream as unknown as BodyInit,
    });
    expect(await upload.json()).toEqual({ method: 'POST', contentType: 'multipart/form-data; boundary=b', body: parts.join('') });
  });

  it('takes a URL object, headers as pairs, byte bodies and the options it does not use (grammY adds agent, duplex, compress)', async () => {
    const byUrl = await undiciFetch(new URL(`${server.url}/json`));
    expect(await byUrl.json()).toEqual({ models: [{ name: 'llama3.2:3b' }] });

    const bytes = new TextEncoder().encode('{"model":"nomic-embed-text"}');
    const viaPairs = await undiciFetch(`${server.url}/echo`, { method: 'post', headers: [['content-type', 'application/json']], body: bytes });
    expect(await viaPairs.json()).toEqual({ method: 'POST', contentType: 'application/json', body: '{"model":"nomic-embed-text"}' });

    const grammyOptions = { method: 'POST', body: bytes.buffer, headers: { 'content-type': 'application/json' }, agent: {}, duplex: 'half', compress: true };
    const viaBuffer = await undiciFetch(`${server.url}/echo`, grammyOptions as RequestInit);
    expect(((await viaBuffer.json()) as { body: string }).body).toBe('{"model":"nomic-embed-text"}');
  });

  it('takes a Request, as whatsapp-api-js passes one: its method, headers and body are sent', async () => {
    const request = new Request(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      body: JSON.stringify({ messaging_product: 'whatsapp', to: '15551234567' }),
    });
    const res = await undiciFetch(request);
    expect(await res.json()).toEqual({ method: 'POST', contentType: 'application/json', body: '{"messaging_product":"whatsapp","to":"15551234567"}' });
    expect(server.received.get('/echo')?.headers.authorization).toBe('Bearer t');

    const overridden = await undiciFetch(new Request(`${server.url}/echo`, { method: 'POST', body: 'from the request' }), { body: 'from init' });
    expect(((await overridden.json()) as { body: string }).body).toBe('from init');
  });

  it('streams an NDJSON body through body.getReader() in order, lines split across chunks included', async () => {
    const res = await undiciFetch(`${server.url}/stream`, { method: 'POST', body: '{"stream":true}' });
    expect(res.body).not.toBeNull();
    const lines = (await readAll(res.body!)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message?: { content: string } });
    expect(lines.map((l) => l.message?.content).join('')).toBe('Seven to nine hours.');
  });

  it('reads a body as bytes with arrayBuffer()', async () => {
    const res = await undiciFetch(`${server.url}/json`);
    const bytes = await res.arrayBuffer();
    expect(bytes).toBeInstanceOf(ArrayBuffer);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ models: [{ name: 'llama3.2:3b' }] });
    expect(res.bodyUsed).toBe(true);
  });

  it('body.cancel() drops an unread body: the transfer is cut off and the body cannot be read after', async () => {
    server.cutOff.length = 0;
    const res = await undiciFetch(`${server.url}/hold-body`, { method: 'POST', body: '{}' });
    await res.body!.cancel();
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toBeInstanceOf(TypeError);
    await waitFor(() => server.cutOff.includes('/hold-body'), { what: 'the server to see the response cut off' });
    // The pool goes on serving requests after the dropped connection.
    expect(await (await undiciFetch(`${server.url}/json`)).json()).toMatchObject({ models: [{}] });
  });

  it('body.cancel() is refused while a reader holds the body; the reader cancels it instead', async () => {
    server.cutOff.length = 0;
    const res = await undiciFetch(`${server.url}/hold-body`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    await reader.read();
    await expect(res.body!.cancel()).rejects.toBeInstanceOf(TypeError);
    await reader.cancel();
    await waitFor(() => server.cutOff.includes('/hold-body'), { what: 'the server to see the response cut off' });
  });

  it('cancelling a body already read to its end leaves its connection in the pool', async () => {
    const fresh = await startServer();
    try {
      for (let i = 0; i < 5; i++) {
        const res = await undiciFetch(`${fresh.url}/stream`, { method: 'POST', body: '{}' });
        const reader = res.body!.getReader();
        let step = await reader.read();
        while (!step.done) step = await reader.read();
        await reader.cancel();
      }
      expect(fresh.cutOff).toEqual([]);
      expect(fresh.connections).toBeLessThanOrEqual(2);
    } finally {
      await fresh.close();
    }
  });

  it('keeps its connections alive: ten requests one after the other do not open ten', async () => {
    const fresh = await startServer();
    try {
      for (let i = 0; i < 10; i++) expect(await (await undiciFetch(`${fresh.url}/json`)).json()).toMatchObject({ models: [{}] });
      // The pool may open a second connection while the first is finishing its answer, as Node's fetch does.
      expect(fresh.connections).toBeLessThanOrEqual(2);
    } finally {
      await fresh.close();
    }
  });

  it('an abort while waiting for the headers rejects with the reason and closes the request', async () => {
    const controller = new AbortController();
    const pending = undiciFetch(`${server.url}/hold-headers`, { signal: controller.signal }).catch((err: unknown) => err);
    await waitFor(() => server.received.has('/hold-headers'), { what: 'the request to arrive' });
    const reason = new Error('user left');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await waitFor(() => server.cutOff.includes('/hold-headers'), { what: 'the server to see the request cut off' });
  });

  it('an abort without a reason rejects with an AbortError, as fetch does', async () => {
    const controller = new AbortController();
    controller.abort();
    const failure = await undiciFetch(`${server.url}/json`, { signal: controller.signal }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ name: 'AbortError' });
  });

  it('an abort mid-body rejects the next read with the reason and closes the response', async () => {
    server.cutOff.length = 0;
    const controller = new AbortController();
    const res = await undiciFetch(`${server.url}/hold-body`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('Seven');
    const reason = new Error('first-token timeout');
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
    await waitFor(() => server.cutOff.includes('/hold-body'), { what: 'the server to see the response cut off' });
  });

  it('the signal it was made with cancels its requests too, alongside each request signal', async () => {
    server.cutOff.length = 0;
    const call = new AbortController();
    const perCall = createUndiciFetch({ signal: call.signal });
    const sdkOwn = new AbortController();
    const res = await perCall(`${server.url}/hold-body`, { method: 'POST', body: '{}', signal: sdkOwn.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const reason = new Error('overall timeout');
    call.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
    await waitFor(() => server.cutOff.includes('/hold-body'), { what: 'the server to see the response cut off' });
    expect(sdkOwn.signal.aborted).toBe(false);
  });

  it('a body that breaks off fails the read with TypeError("terminated")', async () => {
    const res = await undiciFetch(`${server.url}/break-body`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    await reader.read();
    server.release();
    const failure = await reader.read().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: 'terminated' });
  });

  it('a refused connection rejects with TypeError("fetch failed") whose cause names the code', async () => {
    const dead = await startServer();
    await dead.close();
    const failure = await undiciFetch(`${dead.url}/json`).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  it('a server that does not answer within timeoutMs fails as fetch does on its headers timeout', async () => {
    const impatient = createUndiciFetch({ timeoutMs: 200 });
    const failure = await impatient(`${server.url}/hold-headers`).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toMatchObject({ message: 'fetch failed', cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
  });
});
