import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A minimal Ollama chat server with the failure modes the LLM adapter must survive: the next N
 * chats failing with a status, a slow first token (headers included, as a loading model does),
 * and a connection that breaks mid-reply. test/support/fake-ollama.ts covers the wider API.
 */
export interface FakeOllamaChat {
  readonly url: string;
  /** Models `/api/tags` lists and `/api/chat` accepts. */
  models: string[];
  /** The streamed reply, one NDJSON line per token. */
  tokens: string[];
  /** Delay before the response starts (status line and first token). */
  firstTokenDelayMs: number;
  /** Delay between tokens. */
  tokenDelayMs: number;
  /** After this many tokens the reply stalls until `breakConnections()`, when set. */
  breakAfterTokens: number | undefined;
  /** `/api/chat` requests received, failed ones included. */
  readonly chatBodies: Array<{ model: string; messages: Array<{ role: string; content: string }>; options?: Record<string, unknown> }>;
  /** Makes the next `count` chat requests answer `status` with an Ollama error body. */
  failNextChats(count: number, status?: number): void;
  /** Drops every open connection mid-reply. */
  breakConnections(): void;
  /** Stops listening and drops connections: the server is down until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      try {
        resolve(chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {});
      } catch (err) {
        reject(err);
      }
    });
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

/** Waits `ms` unless the client goes away first (then resolves false). */
function pause(response: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!response.destroyed);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve(!response.destroyed);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    response.once('close', onClose);
  });
}

/** Starts the fake on 127.0.0.1 and an ephemeral port. */
export async function startFakeOllamaChat(options: { models?: string[]; tokens?: string[] } = {}): Promise<FakeOllamaChat> {
  const failures: number[] = [];
  const sockets = new Set<Socket>();
  const fake = {
    models: options.models ?? ['llama3.2:3b'],
    tokens: options.tokens ?? ['Hello', ' there', '!'],
    firstTokenDelayMs: 0,
    tokenDelayMs: 0,
    breakAfterTokens: undefined as number | undefined,
    chatBodies: [] as FakeOllamaChat['chatBodies'],
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/api/tags') {
      return sendJson(response, 200, { models: fake.models.map((name) => ({ name, model: name, size: 1, digest: name })) });
    }
    if (request.method !== 'POST' || path !== '/api/chat') return sendJson(response, 404, { error: '404 page not found' });

    const body = (await readJson(request)) as FakeOllamaChat['chatBodies'][number];
    fake.chatBodies.push(body);
    const failure = failures.shift();
    if (failure !== undefined) return sendJson(response, failure, { error: 'server busy, please try again.  maximum pending requests exceeded' });
    if (!fake.models.includes(body.model)) return sendJson(response, 404, { error: `model "${body.model}" not found, try pulling it first` });

    if (!(await pause(response, fake.firstTokenDelayMs))) return;
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let sent = 0;
    for (const token of fake.tokens) {
      // Stalls until the test breaks the connection or the client goes away.
      if (fake.breakAfterTokens !== undefined && sent >= fake.breakAfterTokens) return;
      if (sent > 0 && !(await pause(response, fake.tokenDelayMs))) return;
      response.write(`${JSON.stringify({ model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: token }, done: false })}\n`);
      sent += 1;
    }
    response.end(
      `${JSON.stringify({ model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: sent })}\n`,
    );
  }

  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    if (server?.listening) return;
    server = createServer((request, response) => {
      handle(request, response).catch((err: unknown) => sendJson(response, 400, { error: (err as Error).message }));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const s = server;
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
  };
  const stop = async () => {
    const s = server;
    if (!s?.listening) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await start();

  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    failNextChats(count: number, status = 503) {
      for (let i = 0; i < count; i += 1) failures.push(status);
    },
    breakConnections() {
      for (const socket of sockets) socket.destroy();
    },
    stop,
    start,
    close: stop,
  });
}
