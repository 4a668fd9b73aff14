/**
 * A fake Telegram Bot API server on 127.0.0.1 speaking the real protocol: `GET|POST /bot<token>/<method>`
 * with JSON, form-urlencoded or multipart bodies, answering `{ok:true,result}` or
 * `{ok:false,error_code,description,parameters?}` with the matching HTTP status, as Telegram does.
 * It records every call and keeps what each chat shows, so tests assert what the user would see.
 */
import { buffer } from 'node:stream/consumers';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jsonFixture } from './fixtures.js';

export interface TelegramErrorBody {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export interface FakeTelegramCall {
  token: string;
  /** As requested (Telegram matches method names case-insensitively). */
  method: string;
  params: Record<string, unknown>;
  /** Wall-clock receipt time. */
  time: Date;
  /** Monotonic receipt time in ms (performance.now()), for measuring gaps between calls. */
  at: number;
  /** What the fake answered. */
  response: { ok: true; result: unknown } | ({ ok: false } & TelegramErrorBody);
}

export interface FakeBot {
  token: string;
  id: number;
  username: string;
  firstName: string;
  webhook?: { url: string; secretToken?: string; allowedUpdates?: string[]; dropPendingUpdates?: boolean; maxConnections?: number };
}

export interface FakeChatMessage {
  chatId: number;
  messageId: number;
  botId: number;
  text: string;
  entities?: unknown[];
  replyMarkup?: unknown;
  date: number;
  editDate?: number;
  /** Every text the message showed, oldest first. */
  versions: string[];
  deleted: boolean;
}

export interface FakeDraft {
  chatId: number;
  draftId: number;
  botId: number;
  text: string;
  entities?: unknown[];
  at: number;
}

/** Error bodies as Telegram sends them, for `failNext`. */
export const telegramErrors = {
  /** 429 from the real fixture, with `retry_after` (and its description) set to `retryAfter` seconds. */
  tooManyRequests(retryAfter = 14): TelegramErrorBody {
    const body = jsonFixture<TelegramErrorBody>('telegram/nutgram_botapi_error__too_many_requests.json');
    return {
      error_code: body.error_code,
      description: body.description.replace(/\d+$/, String(retryAfter)),
      parameters: { ...body.parameters, retry_after: retryAfter },
    };
  },
  blocked(): TelegramErrorBody {
    return { error_code: 403, description: 'Forbidden: bot was blocked by the user' };
  },
  /** 403 from the real fixture. */
  deactivated(): TelegramErrorBody {
    const { error_code, description } = jsonFixture<TelegramErrorBody>('telegram/nutgram_botapi_error__user_deactivated.json');
    return { error_code, description };
  },
  kicked(): TelegramErrorBody {
    return { error_code: 403, description: 'Forbidden: bot was kicked from the supergroup chat' };
  },
  internal(): TelegramErrorBody {
    return { error_code: 500, description: 'Internal Server Error' };
  },
};

class ApiFailure extends Error {
  constructor(readonly body: TelegramErrorBody) {
    super(body.description);
  }
}

const badRequest = (description: string) => new ApiFailure({ error_code: 400, description: `Bad Request: ${description}` });

const chatActions = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

// Form and query values arrive as strings; Telegram reads JSON-serialised objects and numbers from them.
function coerce(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (/^-?(0|[1-9]\d{0,15})$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}


async function parseParams(request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) params[key] = coerce(value);
  const body = await buffer(request);
  if (body.length === 0) return params;
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('invalid JSON body');
    return { ...params, ...(parsed as Record<string, unknown>) };
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = coerce(value);
    return params;
  }
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
    for (const [key, value] of form) {
      params[key] = typeof value === 'string' ? coerce(value) : { fileName: value.name, size: value.size, mimeType: value.type };
    }
    return params;
  }
  throw badRequest('unsupported content type');
}

function requireInt(params: Record<string, unknown>, name: string): number {
  const value = params[name];
  if (value === undefined || value === '') throw badRequest(`${name} is empty`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badRequest(name === 'chat_id' ? 'chat not found' : `invalid ${name} specified`);
  }
  return value;
}

function utf16Length(text: string): number {
  return text.length;
}

function checkText(text: unknown, { allowEmpty = false } = {}): string {
  if (text === undefined || text === null) {
    if (allowEmpty) return '';
    throw badRequest('message text is empty');
  }
  const value = String(text);
  if (!allowEmpty && value.trim().length === 0) throw badRequest('message text is empty');
  if (utf16Length(value) > 4096) throw badRequest('message is too long');
  return value;
}

function checkEntities(entities: unknown, text: string): unknown[] | undefined {
  if (entities === undefined) return undefined;
  if (!Array.isArray(entities)) throw badRequest("can't parse entities JSON object");
  for (const entity of entities) {
    const e = entity as { type?: unknown; offset?: unknown; length?: unknown };
    if (typeof e.type !== 'string' || !Number.isInteger(e.offset) || !Number.isInteger(e.length)) {
      throw badRequest("can't parse entities JSON object");
    }
    const offset = e.offset as number;
    const length = e.length as number;
    if (offset < 0 || length <= 0 || offset + length > utf16Length(text)) {
      throw badRequest(`can't parse entities: entity beyond the end of text at offset ${offset}`);
    }
  }
  return entities;
}

function checkReplyMarkup(markup: unknown): unknown {
  if (markup === undefined) return undefined;
  const keyboard = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (keyboard === undefined) return markup;
  if (!Array.isArray(keyboard) || !keyboard.every(Array.isArray)) throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  for (const row of keyboard as unknown[][]) {
    for (const button of row) {
      const b = button as { text?: unknown; callback_data?: unknown };
      if (typeof b.text !== 'string' || b.text.length === 0) throw badRequest('button text must be non-empty');
      if (b.callback_data !== undefined) {
        const bytes = Buffer.byteLength(String(b.callback_data), 'utf8');
        if (bytes < 1 || bytes > 64) throw badRequest('BUTTON_DATA_INVALID');
      }
    }
  }
  return markup;
}

function chatOf(chatId: number) {
  if (chatId > 0) return { id: chatId, type: 'private', first_name: 'Test', username: `user${chatId}` };
  return String(chatId).startsWith('-100') ? { id: chatId, type: 'supergroup', title: 'Test group' } : { id: chatId, type: 'group', title: 'Test group' };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

interface FailureRule {
  remaining: number;
  error: TelegramErrorBody;
}

/** A call held by `holdNext` before Telegram acts on it. */
export interface HeldCall {
  /** Resolves once the call has arrived and is being held. */
  readonly arrived: Promise<void>;
  /** Resolves once the held call's connection has closed (its client went away). */
  readonly clientGone: Promise<void>;
  /**
   * Lets the call through. One whose client went away meanwhile (a killed worker) is dropped
   * unprocessed and unrecorded, as a request that never reached Telegram: the chat shows nothing.
   */
  release(): void;
  /** Whether the released call was dropped because its client was gone. */
  readonly dropped: boolean;
}

interface HoldRule {
  method: string;
  chatId: number | undefined;
  arrive(): void;
  gone(): void;
  released: Promise<void>;
  drop(): void;
}

/** A running fake; create with startFakeTelegram(). */
export class FakeTelegram {
  /** Every call in arrival order, including failed ones. */
  readonly calls: FakeTelegramCall[] = [];
  private readonly bots = new Map<string, FakeBot>();
  private readonly chats = new Map<number, { nextMessageId: number; messages: FakeChatMessage[]; drafts: FakeDraft[]; draft?: FakeDraft }>();
  private readonly failures = new Map<string, FailureRule[]>();
  private readonly holds: HoldRule[] = [];
  private readonly events = new EventEmitter();
  private nextBotId = 7_000_000_001;
  private readonly files = new Map<string, { bytes: Buffer; path: string; reportedSize?: number }>();

  constructor(
    private readonly server: Server,
    /** The `apiRoot` to give grammY (TELEGRAM_API_ROOT): no trailing slash. */
    readonly apiRoot: string,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Registers a bot; only registered tokens are accepted, anything else gets 401 Unauthorized. */
  addBot(options: { token?: string; id?: number; username?: string; firstName?: string } = {}): FakeBot {
    const id = options.id ?? this.nextBotId++;
    const bot: FakeBot = {
      token: options.token ?? `${id}:AA${randomBytes(24).toString('base64url').slice(0, 33)}`,
      id,
      username: options.username ?? `coach_test_${id}_bot`,
      firstName: options.firstName ?? 'Coach',
    };
    this.bots.set(bot.token, bot);
    return bot;
  }

  bot(token: string): FakeBot | undefined {
    return this.bots.get(token);
  }

  /** Makes the next `n` calls of `method` (any bot) fail with `error`, e.g. `telegramErrors.tooManyRequests(1)`. */
  failNext(method: string, n: number, error: TelegramErrorBody): void {
    const rules = this.failures.get(method.toLowerCase()) ?? [];
    rules.push({ remaining: n, error });
    this.failures.set(method.toLowerCase(), rules);
  }

  /** Holds the next call of `method` (to `chatId`, when given) before Telegram acts on it, until released. */
  holdNext(method: string, { chatId }: { chatId?: number } = {}): HeldCall {
    let arrive!: () => void;
    let gone!: () => void;
    let release!: () => void;
    let dropped = false;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const clientGone = new Promise<void>((resolve) => (gone = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ method: method.toLowerCase(), chatId, arrive, gone, released, drop: () => (dropped = true) });
    return {
      arrived,
      clientGone,
      release,
      get dropped() {
        return dropped;
      },
    };
  }

  /** Calls of one method, in order. */
  callsOf(method: string): FakeTelegramCall[] {
    return this.calls.filter((c) => c.method.toLowerCase() === method.toLowerCase());
  }

  /** The messages a chat shows now (deleted ones left out), oldest first. */
  messages(chatId: number | string): FakeChatMessage[] {
    return (this.chats.get(Number(chatId))?.messages ?? []).filter((m) => !m.deleted);
  }

  /** What the user reads in the chat, one string per message. */
  texts(chatId: number | string): string[] {
    return this.messages(chatId).map((m) => m.text);
  }

  /** Every draft streamed into a chat, oldest first. */
  drafts(chatId: number | string): FakeDraft[] {
    return [...(this.chats.get(Number(chatId))?.drafts ?? [])];
  }

  /** The draft the chat shows now; a message from the bot replaces it. */
  currentDraft(chatId: number | string): FakeDraft | undefined {
    return this.chats.get(Number(chatId))?.draft;
  }

  /** Resolves with the calls once `count` calls of `method` have arrived; rejects after `timeoutMs`. */
  waitForCalls(method: string, count: number, { timeoutMs = 10_000 } = {}): Promise<FakeTelegramCall[]> {
    const ready = () => {
      const calls = this.callsOf(method);
      return calls.length >= count ? calls : undefined;
    };
    const now = ready();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onCall = () => {
        const calls = ready();
        if (!calls) return;
        cleanup();
        resolve(calls);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${count} ${method} call(s); saw ${this.callsOf(method).length}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('call', onCall);
      };
      this.events.on('call', onCall);
    });
  }

  /** Delivers an update to the bot's webhook as Telegram would (secret token header included). */
  async deliverUpdate(token: string, update: unknown): Promise<{ status: number; body: string }> {
    const webhook = this.bots.get(token)?.webhook;
    if (!webhook) throw new Error('the bot has no webhook set');
    const response = await fetch(webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(webhook.secretToken ? { 'x-telegram-bot-api-secret-token': webhook.secretToken } : {}),
      },
      body: JSON.stringify(update),
    });
    return { status: response.status, body: await response.text() };
  }

  /** Stops the server and drops its open (keep-alive) connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Makes a file downloadable as if a user had sent it: `getFile` describes it (with a size that may
   * lie) and `GET /file/bot<token>/<file_path>` serves it. Returns its file_id.
   */
  addFile(bytes: Buffer, options: { name?: string; reportedSize?: number } = {}): string {
    const id = `BQACAgIAAxkBAAI${this.files.size + 1}${Math.random().toString(36).slice(2, 10)}`;
    this.files.set(id, { bytes, path: `documents/file_${this.files.size}_${options.name ?? 'file'}`, ...(options.reportedSize !== undefined ? { reportedSize: options.reportedSize } : {}) });
    return id;
  }

  /** @internal Answers one HTTP request. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (download && request.method === 'GET') {
      const file = this.bots.has(decodeURIComponent(download[1]!)) ? [...this.files.values()].find((f) => f.path === decodeURIComponent(download[2]!)) : undefined;
      if (!file) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(file.bytes.length) }).end(file.bytes);
      return;
    }
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const match = /^\/bot([^/]+)\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    if (!match || (request.method !== 'GET' && request.method !== 'POST')) {
      send(404, { ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    const token = decodeURIComponent(match[1]!);
    const method = match[2]!;
    const time = new Date();
    const at = performance.now();
    let params: Record<string, unknown> = {};
    let answer: FakeTelegramCall['response'];
    let extra: Record<string, unknown> = {};
    try {
      params = await parseParams(request, url);
      const hold = this.takeHold(method, params);
      if (hold) {
        request.socket.once('close', hold.gone);
        hold.arrive();
        await hold.released;
        if (request.socket.destroyed) {
          hold.drop();
          return;
        }
      }
      const bot = this.bots.get(token);
      if (!bot) throw new ApiFailure({ error_code: 401, description: 'Unauthorized' });
      const handler = this.handlers[method.toLowerCase()];
      if (!handler) throw new ApiFailure({ error_code: 404, description: 'Not Found: method not found' });
      const injected = this.takeFailure(method);
      if (injected) throw new ApiFailure(injected);
      const { result, description } = handler(bot, params);
      answer = { ok: true, result };
      if (description) extra = { description };
    } catch (err) {
      const body = err instanceof ApiFailure ? err.body : { error_code: 400, description: `Bad Request: ${(err as Error).message}` };
      answer = { ok: false, ...body };
    }
    this.calls.push({ token, method, params, time, at, response: answer });
    this.events.emit('call');
    send(answer.ok ? 200 : answer.error_code, { ...answer, ...extra });
  }

  private takeHold(method: string, params: Record<string, unknown>): HoldRule | undefined {
    const index = this.holds.findIndex((h) => h.method === method.toLowerCase() && (h.chatId === undefined || h.chatId === params.chat_id));
    return index === -1 ? undefined : this.holds.splice(index, 1)[0];
  }

  private takeFailure(method: string): TelegramErrorBody | undefined {
    const rules = this.failures.get(method.toLowerCase());
    const rule = rules?.find((r) => r.remaining > 0);
    if (!rule) return undefined;
    rule.remaining--;
    return rule.error;
  }

  private chat(chatId: number) {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { nextMessageId: 1, messages: [], drafts: [] };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  private toMessage(bot: FakeBot, message: FakeChatMessage) {
    return {
      message_id: message.messageId,
      from: { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username },
      chat: chatOf(message.chatId),
      date: message.date,
      ...(message.editDate !== undefined ? { edit_date: message.editDate } : {}),
      text: message.text,
      ...(message.entities ? { entities: message.entities } : {}),
      ...(message.replyMarkup ? { reply_markup: message.replyMarkup } : {}),
    };
  }

  private findMessage(params: Record<string, unknown>, missing: string): FakeChatMessage {
    const chatId = requireInt(params, 'chat_id');
    const messageId = requireInt(params, 'message_id');
    const message = this.chats.get(chatId)?.messages.find((m) => m.messageId === messageId && !m.deleted);
    if (!message) throw badRequest(missing);
    return message;
  }

  private readonly handlers: Record<string, (bot: FakeBot, params: Record<string, unknown>) => { result: unknown; description?: string }> = {
    getfile: (_bot, params) => {
      const fileId = String(params.file_id ?? '');
      const file = this.files.get(fileId);
      if (!file) throw badRequest('invalid file_id');
      return { result: { file_id: fileId, file_unique_id: `u${fileId.slice(-8)}`, file_size: file.reportedSize ?? file.bytes.length, file_path: file.path } };
    },
    getme: (bot) => ({
      result: {
        id: bot.id,
        is_bot: true,
        first_name: bot.firstName,
        username: bot.username,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      },
    }),
    setwebhook: (bot, params) => {
      const url = params.url === undefined ? '' : String(params.url);
      if (url === '') {
        const had = bot.webhook !== undefined;
        delete bot.webhook;
        return { result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' };
      }
      if (!URL.canParse(url)) throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
      const secret = params.secret_token;
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(String(secret))) {
        throw badRequest('secret token contains unallowed characters');
      }
      const allowed = params.allowed_updates;
      if (allowed !== undefined && (!Array.isArray(allowed) || !allowed.every((u) => typeof u === 'string'))) {
        throw badRequest("can't parse allowed updates");
      }
      bot.webhook = {
        url,
        ...(secret !== undefined ? { secretToken: String(secret) } : {}),
        ...(allowed !== undefined ? { allowedUpdates: allowed as string[] } : {}),
        ...(params.drop_pending_updates !== undefined ? { dropPendingUpdates: Boolean(params.drop_pending_updates) } : {}),
        ...(typeof params.max_connections === 'number' ? { maxConnections: params.max_connections } : {}),
      };
      return { result: true, description: 'Webhook was set' };
    },
    deletewebhook: (bot) => {
      const had = bot.webhook !== undefined;
      delete bot.webhook;
      return { result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' };
    },
    getwebhookinfo: (bot) => ({
      result: {
        url: bot.webhook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: 0,
        ...(bot.webhook ? { max_connections: bot.webhook.maxConnections ?? 40 } : {}),
        ...(bot.webhook?.allowedUpdates ? { allowed_updates: bot.webhook.allowedUpdates } : {}),
      },
    }),
    sendmessage: (bot, params) => {
      const chatId = requireInt(params, 'chat_id');
      const text = checkText(params.text);
      const entities = checkEntities(params.entities, text);
      const replyMarkup = checkReplyMarkup(params.reply_markup);
      if (params.parse_mode !== undefined && !['HTML', 'Markdown', 'MarkdownV2'].includes(String(params.parse_mode))) {
        throw badRequest(`unsupported parse_mode`);
      }
      const chat = this.chat(chatId);
      const message: FakeChatMessage = {
        chatId,
        messageId: chat.nextMessageId++,
        botId: bot.id,
        text,
        ...(entities ? { entities } : {}),
        ...(replyMarkup ? { replyMarkup } : {}),
        date: Math.floor(Date.now() / 1000),
        versions: [text],
        deleted: false,
      };
      chat.messages.push(message);
      // A message from the bot takes the place of its draft.
      delete chat.draft;
      return { result: this.toMessage(bot, message) };
    },
    editmessagetext: (bot, params) => {
      if (params.inline_message_id !== undefined) throw badRequest('MESSAGE_ID_INVALID');
      const message = this.findMessage(params, 'message to edit not found');
      if (message.botId !== bot.id) throw badRequest("message can't be edited");
      const text = checkText(params.text);
      const entities = checkEntities(params.entities, text);
      const replyMarkup = checkReplyMarkup(params.reply_markup);
      if (message.text === text && sameJson(message.entities, entities) && sameJson(message.replyMarkup, replyMarkup)) {
        throw badRequest(
          'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
        );
      }
      message.text = text;
      if (entities) message.entities = entities;
      else delete message.entities;
      if (replyMarkup) message.replyMarkup = replyMarkup;
      else delete message.replyMarkup;
      message.editDate = Math.floor(Date.now() / 1000);
      message.versions.push(text);
      return { result: this.toMessage(bot, message) };
    },
    sendmessagedraft: (bot, params) => {
      const chatId = requireInt(params, 'chat_id');
      if (chatId <= 0) throw badRequest('TEXTDRAFT_PEER_INVALID');
      const draftId = requireInt(params, 'draft_id');
      if (draftId === 0) throw badRequest('DRAFT_ID_INVALID');
      const text = checkText(params.text, { allowEmpty: true });
      const entities = checkEntities(params.entities, text);
      const draft: FakeDraft = { chatId, draftId, botId: bot.id, text, ...(entities ? { entities } : {}), at: performance.now() };
      const chat = this.chat(chatId);
      chat.drafts.push(draft);
      chat.draft = draft;
      return { result: true };
    },
    sendchataction: (_bot, params) => {
      requireInt(params, 'chat_id');
      if (!chatActions.has(String(params.action))) throw badRequest('wrong parameter action in request');
      return { result: true };
    },
    answercallbackquery: (_bot, params) => {
      if (params.callback_query_id === undefined || params.callback_query_id === '') throw badRequest('QUERY_ID_INVALID');
      if (typeof params.text === 'string' && params.text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
      return { result: true };
    },
    deletemessage: (_bot, params) => {
      const message = this.findMessage(params, 'message to delete not found');
      message.deleted = true;
      return { result: true };
    },
  };
}

/** Starts a fake Bot API server on a free port of 127.0.0.1; `close()` it in afterAll. */
export async function startFakeTelegram(): Promise<FakeTelegram> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const fake = new FakeTelegram(server, `http://127.0.0.1:${port}`);
  // Attached once the fake exists; nobody can call before the port is known anyway.
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    fake.handle(request, response).catch((err: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: false, error_code: 500, description: `Internal Server Error: ${(err as Error).message}` }));
    });
  });
  return fake;
}
