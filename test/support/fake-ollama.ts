import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface FakeOllamaOptions {
  /** Model names `/api/tags` lists; default `nomic-embed-text:latest` and `llama3.2:3b`. */
  models?: string[];
  /** Embedding dimension; default 256. */
  dims?: number;
  /** Dimension of particular models' embeddings (by name, `:latest` implied), so models differ as real ones do. */
  modelDims?: Record<string, number>;
  /** The assistant reply to `/api/chat`; a function sees the request body. Default: a fixed sentence. */
  chatReply?: string | ((request: ChatRequestBody) => string);
  /** Pause between streamed chat tokens (to exercise cancellation and slow models). Default 0. */
  tokenDelayMs?: number;
}

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  stream?: boolean;
  options?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A local stand-in for an Ollama server speaking its HTTP API (tags, embed, chat, show). */
export interface FakeOllama {
  /** Base URL, e.g. http://127.0.0.1:40123, for OLLAMA_HOST. */
  readonly url: string;
  /** Models the fake claims to have pulled; change it to simulate pulls and removals. */
  models: string[];
  chatReply: FakeOllamaOptions['chatReply'];
  /** Every request, oldest first. */
  readonly requests: RecordedRequest[];
  /** Requests answered with the `failWith` status. */
  readonly failures: RecordedRequest[];
  /** `/api/embed` requests served so far, and the texts they carried. */
  readonly embedCalls: number;
  readonly embeddedTexts: string[];
  readonly chatRequests: ChatRequestBody[];
  /**
   * While set, requests answer with this status (e.g. 503) and an Ollama error body: every request,
   * or only those to `path`, and only after `afterCalls` more of them have succeeded. `null` heals it.
   */
  failWith(status: number | null, options?: { path?: string; afterCalls?: number }): void;
  /** The embedding the fake gives `text` (by `model`): word-hashed, L2-normalised, so cosine tracks word overlap. */
  embedding(text: string, model?: string): number[];
  /**
   * Streamed chats stop after `tokens` tokens until `releaseChats()` (each chat is held once);
   * `null` stops holding. `waitForHeldChat()` resolves once a chat is held there.
   */
  holdChatsAfter(tokens: number | null): void;
  waitForHeldChat(): Promise<void>;
  releaseChats(): void;
  /** Stops accepting connections: the server is down until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_MODELS = ['nomic-embed-text:latest', 'llama3.2:3b'];
const DEFAULT_REPLY = 'Here is what your material says about that.';

function fullName(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

function wordHash(token: string): number {
  return createHash('md5').update(token).digest().readUInt32LE(0);
}

/** Feature-hashed bag of lowercased word tokens into `dims` dimensions, L2-normalised. */
export function hashedEmbedding(text: string, dims = 256): number[] {
  const vector = new Array<number>(dims).fill(0);
  for (const token of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) vector[wordHash(token) % dims]! += 1;
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  // No words: a fixed unit vector, since Ollama never returns a zero vector either.
  if (!norm) return vector.map((_, i) => (i === 0 ? 1 : 0));
  return vector.map((v) => v / norm);
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
    request.on('error', reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function modelEntry(name: string) {
  const digest = createHash('sha256').update(name).digest('hex');
  const embedding = /embed/.test(name);
  return {
    name,
    model: name,
    modified_at: '2025-01-01T00:00:00Z',
    size: embedding ? 274_302_450 : 2_019_393_189,
    digest,
    details: {
      parent_model: '',
      format: 'gguf',
      family: embedding ? 'nomic-bert' : 'llama',
      families: [embedding ? 'nomic-bert' : 'llama'],
      parameter_size: embedding ? '137M' : '3.2B',
      quantization_level: embedding ? 'F16' : 'Q4_K_M',
    },
  };
}

/** Splits a reply into stream tokens the way a model emits them: words with their following space. */
function tokens(reply: string): string[] {
  return reply.match(/\S+\s*|\s+/g) ?? [];
}

/** Starts the fake on 127.0.0.1 and an ephemeral port. */
export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const dims = options.dims ?? 256;
  const modelDims = new Map(Object.entries(options.modelDims ?? {}).map(([name, n]) => [fullName(name), n]));
  const dimsOf = (model: unknown) => (typeof model === 'string' ? modelDims.get(fullName(model)) : undefined) ?? dims;
  const state = {
    models: [...(options.models ?? DEFAULT_MODELS)],
    chatReply: options.chatReply ?? DEFAULT_REPLY,
    failure: null as { status: number; path?: string | undefined; remainingSuccesses: number } | null,
    embedCalls: 0,
  };
  const requests: RecordedRequest[] = [];
  const failures: RecordedRequest[] = [];
  const embeddedTexts: string[] = [];
  const chatRequests: ChatRequestBody[] = [];
  // Chats held mid-reply until released (a turn known to be half streamed).
  const hold = {
    after: null as number | null,
    released: [] as Array<() => void>,
    heldListeners: [] as Array<() => void>,
    async wait(response: ServerResponse) {
      for (const listener of hold.heldListeners.splice(0)) listener();
      await new Promise<void>((resolve) => {
        hold.released.push(resolve);
        response.once('close', () => resolve());
      });
    },
  };
  const sockets = new Set<import('node:net').Socket>();

  const hasModel = (name: unknown) => typeof name === 'string' && state.models.some((m) => fullName(m) === fullName(name));
  const notFound = (response: ServerResponse, name: unknown) =>
    json(response, 404, { error: `model "${String(name)}" not found, try pulling it first` });

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = (request.url ?? '/').split('?')[0]!;
    const body = request.method === 'POST' ? await readBody(request) : undefined;
    requests.push({ method: request.method ?? 'GET', path, body });
    const failure = state.failure;
    if (failure && (!failure.path || failure.path === path)) {
      if (failure.remainingSuccesses > 0) failure.remainingSuccesses -= 1;
      else {
        failures.push({ method: request.method ?? 'GET', path, body });
        return json(response, failure.status, { error: 'server busy, please try again.  maximum pending requests exceeded' });
      }
    }
    const payload = (body ?? {}) as Record<string, unknown>;

    if (request.method === 'GET' && path === '/') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return response.end('Ollama is running');
    }
    if (request.method === 'GET' && path === '/api/version') return json(response, 200, { version: '0.6.5' });
    if (request.method === 'GET' && path === '/api/tags') return json(response, 200, { models: state.models.map(modelEntry) });

    if (request.method === 'POST' && path === '/api/show') {
      const name = payload.model ?? payload.name;
      if (!hasModel(name)) return notFound(response, name);
      const embedding = /embed/.test(String(name));
      return json(response, 200, {
        modelfile: `FROM ${String(name)}`,
        parameters: embedding ? '' : 'stop "<|eot_id|>"',
        template: embedding ? '{{ .Prompt }}' : '{{ .System }}{{ .Prompt }}',
        details: modelEntry(String(name)).details,
        model_info: embedding ? { 'general.architecture': 'nomic-bert', 'nomic-bert.embedding_length': dimsOf(name) } : { 'general.architecture': 'llama', 'llama.context_length': 131072 },
        capabilities: embedding ? ['embedding'] : ['completion', 'tools'],
        modified_at: '2025-01-01T00:00:00Z',
      });
    }

    if (request.method === 'POST' && path === '/api/embed') {
      if (!hasModel(payload.model)) return notFound(response, payload.model);
      const input = payload.input;
      const texts = Array.isArray(input) ? input.map(String) : [String(input ?? '')];
      state.embedCalls += 1;
      embeddedTexts.push(...texts);
      return json(response, 200, {
        model: payload.model,
        embeddings: texts.map((t) => hashedEmbedding(t, dimsOf(payload.model))),
        total_duration: 14_143_917,
        load_duration: 1_019_500,
        prompt_eval_count: texts.reduce((n, t) => n + (t.match(/\S+/g)?.length ?? 0), 0),
      });
    }

    if (request.method === 'POST' && path === '/api/chat') {
      const chat = payload as ChatRequestBody;
      if (!hasModel(chat.model)) return notFound(response, chat.model);
      chatRequests.push(chat);
      const reply = typeof state.chatReply === 'function' ? state.chatReply(chat) : state.chatReply;
      const promptEvalCount = (chat.messages ?? []).reduce((n, m) => n + (m.content?.match(/\S+/g)?.length ?? 0), 0);
      const parts = tokens(reply);
      const final = {
        model: chat.model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: '' },
        done_reason: 'stop',
        done: true,
        total_duration: 4_883_583_458,
        load_duration: 1_334_875,
        prompt_eval_count: promptEvalCount,
        prompt_eval_duration: 342_546_000,
        eval_count: parts.length,
        eval_duration: 4_535_599_000,
      };
      if (chat.stream === false) return json(response, 200, { ...final, message: { role: 'assistant', content: reply } });
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const [index, token] of parts.entries()) {
        if (index === hold.after) await hold.wait(response);
        if (response.destroyed) return;
        response.write(`${JSON.stringify({ model: chat.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: token }, done: false })}\n`);
        if (options.tokenDelayMs) await new Promise((resolve) => setTimeout(resolve, options.tokenDelayMs));
      }
      return response.end(`${JSON.stringify(final)}\n`);
    }

    return json(response, 404, { error: `404 page not found` });
  }

  let server: Server = createServer();
  let port = 0;
  const listen = async () => {
    server = createServer((request, response) => {
      handle(request, response).catch((err: unknown) => json(response, 400, { error: (err as Error).message }));
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();

  return {
    url: `http://127.0.0.1:${port}`,
    get models() {
      return state.models;
    },
    set models(value: string[]) {
      state.models = value;
    },
    get chatReply() {
      return state.chatReply;
    },
    set chatReply(value) {
      state.chatReply = value ?? DEFAULT_REPLY;
    },
    requests,
    get embedCalls() {
      return state.embedCalls;
    },
    embeddedTexts,
    chatRequests,
    failWith(status, failOptions = {}) {
      state.failure = status === null ? null : { status, path: failOptions.path, remainingSuccesses: failOptions.afterCalls ?? 0 };
    },
    failures,
    embedding: (text, model) => hashedEmbedding(text, dimsOf(model)),
    holdChatsAfter(tokens) {
      hold.after = tokens;
    },
    waitForHeldChat: () => new Promise<void>((resolve) => hold.heldListeners.push(resolve)),
    releaseChats() {
      hold.after = null;
      for (const release of hold.released.splice(0)) release();
    },
    stop,
    start: async () => {
      if (!server.listening) await listen();
    },
    close: stop,
  };
}
