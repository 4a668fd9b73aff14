/**
 * Requests a careless client or an attacker sends: each gets a precise 4xx with its error code,
 * never a 5xx, and the whole table leaves no row behind.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { createEventWebhookSigner } from '../support/fake-sendgrid.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { multipart } from '../support/multipart.js';
import { signStripeEvent, stripeEvent } from '../support/stripe-events.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { telegramUpdate } from '../support/telegram-updates.js';
import { whatsappBot, type WhatsAppBot } from '../support/whatsapp-e2e.js';
import { fixtureContact, fixtureMessage, payloadBytes, signWhatsAppBody, webhookPayload } from '../support/whatsapp-payloads.js';

const STRIPE_WEBHOOK_SECRET = 'whsec_test_coachbot_hostile';
const sendgrid = createEventWebhookSigner();

let platform: TestPlatform;
let telegram: FakeTelegram;
let graph: FakeWhatsApp;

interface Context {
  creator: CreatorSession;
  botId: string;
  documentId: string;
  apiKeyId: string;
  telegramBotId: string;
  telegramSecret: string;
  whatsapp: WhatsAppBot;
}
let ctx: Context;

beforeAll(async () => {
  telegram = await startFakeTelegram();
  graph = await startFakeWhatsApp();
  platform = await startTestPlatform(
    {
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLIC_URL: 'https://coach.example.test',
      WHATSAPP_GRAPH_URL: graph.url,
      STRIPE_WEBHOOK_SECRET,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
    },
    { workers: false },
  );
  const creator = await signUpCreator(platform.app);
  const bot = await createBot(platform.app, creator.auth, { name: 'Steady' });
  const upload = multipart({ name: 'guide.md', type: 'text/markdown', bytes: Buffer.from('# Guide\n\nSleep well.') });
  const document = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.id}/documents`, headers: { ...creator.auth, ...upload.headers }, payload: upload.payload });
  expect(document.statusCode).toBe(202);
  const apiKey = await platform.app.inject({ method: 'POST', url: '/v1/api-keys', headers: creator.auth, payload: { name: 'ci' } });
  const fakeBot = telegram.addBot();
  const connected = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot.id}/channels/telegram`, headers: creator.auth, payload: { token: fakeBot.token } });
  expect(connected.statusCode).toBe(200);
  ctx = {
    creator,
    botId: bot.id,
    documentId: document.json().id,
    apiKeyId: apiKey.json().id,
    telegramBotId: bot.id,
    telegramSecret: telegram.bot(fakeBot.token)!.webhook!.secretToken!,
    whatsapp: await whatsappBot(platform, graph, { ingest: false }),
  };
});

afterAll(async () => {
  await platform?.stop();
  await telegram?.close();
  await graph?.close();
});

interface Row {
  name: string;
  request: (c: Context) => InjectOptions;
  status: number;
  code: string;
}

const NUL = 'a\u0000b';
const HIGH = 'a\uD800b';
const LOW = 'a\uDC00b';
const unstorable = [
  ['NUL', NUL],
  ['lone high surrogate', HIGH],
  ['lone low surrogate', LOW],
] as const;

/** An HS256 JWT built by hand, to present tokens the server would never issue itself. */
function jwt(payload: object, secret: string, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const auth = (c: Context) => c.creator.auth;

// Every JSON write route with a valid body, so each row changes one thing only.
const writeRoutes: Array<{ name: string; method: 'POST' | 'PUT' | 'PATCH'; url: (c: Context) => string; authed: boolean; body: (c: Context) => Record<string, unknown> }> = [
  { name: 'signup', method: 'POST', url: () => '/v1/auth/signup', authed: false, body: () => ({ email: 'hostile@example.test', password: 'a long enough password', name: 'Hostile' }) },
  { name: 'login', method: 'POST', url: () => '/v1/auth/login', authed: false, body: () => ({ email: 'hostile@example.test', password: 'a long enough password' }) },
  { name: 'refresh', method: 'POST', url: () => '/v1/auth/refresh', authed: false, body: () => ({ refreshToken: 'not-a-real-refresh-token' }) },
  { name: 'logout', method: 'POST', url: () => '/v1/auth/logout', authed: true, body: () => ({ refreshToken: 'not-a-real-refresh-token' }) },
  { name: 'verify email', method: 'POST', url: () => '/v1/auth/verify-email', authed: false, body: () => ({ token: 'x'.repeat(32) }) },
  { name: 'password reset', method: 'POST', url: () => '/v1/auth/password-reset', authed: false, body: () => ({ email: 'hostile@example.test' }) },
  { name: 'password reset confirm', method: 'POST', url: () => '/v1/auth/password-reset/confirm', authed: false, body: () => ({ token: 'x'.repeat(32), password: 'a long enough password' }) },
  { name: 'api key', method: 'POST', url: () => '/v1/api-keys', authed: true, body: () => ({ name: 'key' }) },
  {
    name: 'create bot',
    method: 'POST',
    url: () => '/v1/bots',
    authed: true,
    body: () => ({ name: 'Bot', persona: 'Kind', language: 'en', settings: { model: 'llama3.2:3b', welcomeMessage: 'Hi', unknownAnswer: 'No idea' } }),
  },
  {
    name: 'update bot',
    method: 'PATCH',
    url: (c) => `/v1/bots/${c.botId}`,
    authed: true,
    body: () => ({ name: 'Bot', persona: 'Kind', language: 'en', settings: { model: 'llama3.2:3b', welcomeMessage: 'Hi', unknownAnswer: 'No idea' } }),
  },
  { name: 'add document by url', method: 'POST', url: (c) => `/v1/bots/${c.botId}/documents`, authed: true, body: () => ({ url: 'https://example.com/guide', title: 'Guide' }) },
  { name: 'connect telegram', method: 'PUT', url: (c) => `/v1/bots/${c.botId}/channels/telegram`, authed: true, body: () => ({ token: '123:abc' }) },
  {
    name: 'connect whatsapp',
    method: 'PUT',
    url: (c) => `/v1/bots/${c.botId}/channels/whatsapp`,
    authed: true,
    body: () => ({
      phoneNumberId: '1234567',
      wabaId: '7654321',
      accessToken: 'EAAG'.padEnd(40, 'x'),
      appSecret: 'a'.repeat(32),
      verifyToken: 'verify-token',
      template: { name: 'reminder', language: 'en_US', parameters: ['one'] },
    }),
  },
  { name: 'checkout', method: 'POST', url: () => '/v1/billing/checkout', authed: true, body: () => ({ plan: 'pro' }) },
  { name: 'premium', method: 'PUT', url: (c) => `/v1/bots/${c.botId}/premium`, authed: true, body: () => ({ freeRepliesPerMonth: 5, stripePriceId: 'price_abc', mode: 'payment' }) },
];

/** Every string-valued path of a body: ['settings', 'model'], ['template', 'parameters', 0], … */
function stringPaths(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringPaths(item, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...path, k]));
  return [];
}

function withValue(body: Record<string, unknown>, path: Array<string | number>, text: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let holder: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
  holder[path.at(-1)!] = text;
  return copy;
}

const rows: Row[] = [];

for (const route of writeRoutes) {
  const headers = (c: Context, extra: Record<string, string> = {}) => ({ ...(route.authed ? auth(c) : {}), ...extra });
  rows.push(
    {
      name: `${route.name}: malformed JSON`,
      request: (c) => ({ method: route.method, url: route.url(c), headers: headers(c, { 'content-type': 'application/json' }), payload: '{"name": "x",' }),
      status: 400,
      code: 'INVALID_JSON',
    },
    {
      name: `${route.name}: XML body`,
      request: (c) => ({ method: route.method, url: route.url(c), headers: headers(c, { 'content-type': 'application/xml' }), payload: '<name>x</name>' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: `${route.name}: JSON array instead of an object`,
      request: (c) => ({ method: route.method, url: route.url(c), headers: headers(c), payload: [route.body(c)] as unknown as string }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
  );
  for (const path of stringPaths(route.body({} as Context))) {
    for (const [label, text] of unstorable) {
      rows.push({
        name: `${route.name}: ${label} in ${path.join('.')}`,
        request: (c) => ({ method: route.method, url: route.url(c), headers: headers(c), payload: withValue(route.body(c), path, text) }),
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
  }
  rows.push({
    name: `${route.name}: NUL in an object key`,
    request: (c) => ({ method: route.method, url: route.url(c), headers: headers(c), payload: { ...route.body(c), 'k\u0000': 'v' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
}

const bigJson = JSON.stringify({ name: 'x', persona: 'p'.repeat(2 * 1024 * 1024) });
rows.push(
  { name: 'oversized JSON body', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { ...auth(c), 'content-type': 'application/json' }, payload: bigJson }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'text/plain body', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { ...auth(c), 'content-type': 'text/plain' }, payload: 'name=x' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'form-encoded body', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { ...auth(c), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=x' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'empty JSON body', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { ...auth(c), 'content-type': 'application/json' }, payload: '' }), status: 400, code: 'INVALID_BODY' },
  { name: 'bot name of 10,000 characters', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: auth(c), payload: { name: 'n'.repeat(10_000) } }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'persona given as a number', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: auth(c), payload: { name: 'x', persona: 42 } }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown settings key', request: (c) => ({ method: 'POST', url: '/v1/bots', headers: auth(c), payload: { name: 'x', settings: { __proto__x: 1 } } }), status: 400, code: 'VALIDATION_FAILED' },
);

// Numbers: huge, negative, not numbers at all.
for (const [label, value] of [
  ['huge', 1e308],
  ['negative', -1],
  ['fractional', 0.5],
  ['string', 'NaN'],
  ['null', null],
] as const) {
  rows.push(
    {
      name: `bot setting mergeWindowMs ${label}`,
      request: (c) => ({ method: 'PATCH', url: `/v1/bots/${c.botId}`, headers: auth(c), payload: { settings: { mergeWindowMs: value === null ? 'x' : value } } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
    {
      name: `bot setting contextSize ${label}`,
      request: (c) => ({ method: 'POST', url: '/v1/bots', headers: auth(c), payload: { name: 'x', settings: { contextSize: value } } }),
      status: 400,
      code: 'VALIDATION_FAILED',
    },
  );
}
rows.push({
  name: 'bot setting temperature as a 400-digit number',
  request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { ...auth(c), 'content-type': 'application/json' }, payload: `{"name":"x","settings":{"temperature":1${'0'.repeat(400)}}}` }),
  status: 400,
  code: 'VALIDATION_FAILED',
});
for (const k of ['0', '-5', '1e309', 'NaN', 'Infinity', '9'.repeat(40), 'abc', '']) {
  rows.push({ name: `search k=${k.slice(0, 12)}`, request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/search?q=sleep&k=${k}`, headers: auth(c) }), status: 400, code: 'VALIDATION_FAILED' });
}
for (const limit of ['0', '-1', '1e309', 'NaN', '201']) {
  rows.push({ name: `deliveries limit=${limit}`, request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/deliveries?limit=${limit}`, headers: auth(c) }), status: 400, code: 'VALIDATION_FAILED' });
}
rows.push(
  { name: 'deliveries before=not-a-date', request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/deliveries?before=yesterday`, headers: auth(c) }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'deliveries status unknown', request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/deliveries?status=lost`, headers: auth(c) }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'search with NUL in q', request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/search?q=a%00b`, headers: auth(c) }), status: 400, code: 'VALIDATION_FAILED' },
);

// Ids: unknown, malformed, upper case, too long, SQL-ish, NUL.
const badIds: Array<[string, (c: Context) => string]> = [
  ['unknown', () => randomUUID()],
  ['upper-case unknown', () => randomUUID().toUpperCase()],
  ['too long', () => 'a'.repeat(5000)],
  ['SQL-ish', () => encodeURIComponent("1' OR '1'='1")],
  ['NUL', () => 'abc%00def'],
  ['not a uuid', () => '12345'],
];
for (const [label, id] of badIds) {
  // A NUL in the path is refused as unstorable input before any lookup; any other bad id is simply not found.
  const [status, code] = label === 'NUL' ? [400, 'VALIDATION_FAILED'] : [404, 'NOT_FOUND'];
  rows.push(
    { name: `GET bot with ${label} id`, request: (c) => ({ method: 'GET', url: `/v1/bots/${id(c)}`, headers: auth(c) }), status, code },
    { name: `PATCH bot with ${label} id`, request: (c) => ({ method: 'PATCH', url: `/v1/bots/${id(c)}`, headers: auth(c), payload: { name: 'x' } }), status, code },
    { name: `DELETE bot with ${label} id`, request: (c) => ({ method: 'DELETE', url: `/v1/bots/${id(c)}`, headers: auth(c) }), status, code },
    { name: `GET document with ${label} id`, request: (c) => ({ method: 'GET', url: `/v1/bots/${c.botId}/documents/${id(c)}`, headers: auth(c) }), status, code },
    { name: `reingest document with ${label} id`, request: (c) => ({ method: 'POST', url: `/v1/bots/${c.botId}/documents/${id(c)}/reingest`, headers: auth(c) }), status, code },
    { name: `DELETE api key with ${label} id`, request: (c) => ({ method: 'DELETE', url: `/v1/api-keys/${id(c)}`, headers: auth(c) }), status, code },
    { name: `documents of a bot with ${label} id`, request: (c) => ({ method: 'GET', url: `/v1/bots/${id(c)}/documents`, headers: auth(c) }), status, code },
    { name: `chat with a bot with ${label} id`, request: (c) => ({ method: 'POST', url: `/v1/bots/${id(c)}/chat`, headers: auth(c), payload: { sessionId: 's1', text: 'hi' } }), status: 404, code: 'NOT_FOUND' },
    {
      name: `telegram webhook for ${label} bot id`,
      request: (c) => ({ method: 'POST', url: `/webhooks/telegram/${id(c)}`, headers: { 'x-telegram-bot-api-secret-token': c.telegramSecret }, payload: telegramUpdate('text') as object }),
      status: 404,
      code: 'NOT_FOUND',
    },
  );
}

// Multipart uploads.
const boundary = '----hostile' + randomBytes(6).toString('hex');
function multipartRow(name: string, headers: Record<string, string>, payload: string | Buffer, status: number, code: string): Row {
  return { name: `upload: ${name}`, request: (c) => ({ method: 'POST', url: `/v1/bots/${c.botId}/documents`, headers: { ...auth(c), ...headers }, payload }), status, code };
}
const goodPart = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\nContent-Type: text/markdown\r\n\r\n# A\r\n--${boundary}--\r\n`;
rows.push(
  multipartRow('multipart without a boundary', { 'content-type': 'multipart/form-data' }, goodPart, 400, 'INVALID_MULTIPART'),
  multipartRow('truncated multipart', { 'content-type': `multipart/form-data; boundary=${boundary}` }, goodPart.slice(0, goodPart.length - 30), 400, 'INVALID_MULTIPART'),
  multipartRow('multipart with only a preamble', { 'content-type': `multipart/form-data; boundary=${boundary}` }, 'garbage without any boundary', 400, 'INVALID_MULTIPART'),
  multipartRow('NUL in the file name', { 'content-type': `multipart/form-data; boundary=${boundary}` }, goodPart.replace('a.md', 'a\u0000.md'), 400, 'VALIDATION_FAILED'),
  multipartRow('NUL in the title field', { 'content-type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nT\u0000\r\n${goodPart}`, 400, 'VALIDATION_FAILED'),
  multipartRow('no file field', { 'content-type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nJust a title\r\n--${boundary}--\r\n`, 400, 'VALIDATION_FAILED'),
  multipartRow('file in the wrong field', { 'content-type': `multipart/form-data; boundary=${boundary}` }, goodPart.replace('name="file"', 'name="upload"'), 400, 'VALIDATION_FAILED'),
  multipartRow('empty multipart body', { 'content-type': `multipart/form-data; boundary=${boundary}` }, '', 400, 'VALIDATION_FAILED'),
  multipartRow('malformed part header', { 'content-type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition\r\n\r\nx\r\n--${boundary}--\r\n`, 400, 'VALIDATION_FAILED'),
  multipartRow('xml body', { 'content-type': 'application/xml' }, '<doc/>', 415, 'UNSUPPORTED_MEDIA_TYPE'),
);

// Access tokens and API keys.
const tokens: Array<[string, (c: Context) => string]> = [
  ['unknown subject', () => jwt({ sub: randomUUID(), iat: now(), exp: now() + 600 }, platform.config.JWT_SECRET)],
  ['subject that is not an id', () => jwt({ sub: "x' OR 1=1", iat: now(), exp: now() + 600 }, platform.config.JWT_SECRET)],
  ['numeric subject', () => jwt({ sub: 42, iat: now(), exp: now() + 600 }, platform.config.JWT_SECRET)],
  ['no exp', (c) => jwt({ sub: c.creator.creatorId, iat: now() }, platform.config.JWT_SECRET)],
  ['alg none', (c) => `${jwt({ sub: c.creator.creatorId, iat: now(), exp: now() + 600 }, '', { alg: 'none', typ: 'JWT' }).split('.').slice(0, 2).join('.')}.`],
  ['wrong secret', (c) => jwt({ sub: c.creator.creatorId, iat: now(), exp: now() + 600 }, 'y'.repeat(48))],
  ['expired', (c) => jwt({ sub: c.creator.creatorId, iat: now() - 7200, exp: now() - 3600 }, platform.config.JWT_SECRET)],
  ['HS512 with the right secret', (c) => jwt({ sub: c.creator.creatorId, iat: now(), exp: now() + 600 }, platform.config.JWT_SECRET, { alg: 'HS512', typ: 'JWT' })],
  ['garbage', () => 'not.a.jwt'],
  ['unknown API key', () => 'ck_' + randomBytes(24).toString('base64url')],
  ['API key prefix only', () => 'ck_'],
];
for (const [label, token] of tokens) {
  rows.push(
    { name: `GET /v1/bots with ${label}`, request: (c) => ({ method: 'GET', url: '/v1/bots', headers: { authorization: `Bearer ${token(c)}` } }), status: 401, code: 'UNAUTHORIZED' },
    { name: `POST /v1/bots with ${label}`, request: (c) => ({ method: 'POST', url: '/v1/bots', headers: { authorization: `Bearer ${token(c)}` }, payload: { name: 'x' } }), status: 401, code: 'UNAUTHORIZED' },
  );
}

// Webhooks: Telegram.
rows.push(
  { name: 'telegram: no secret token', request: (c) => ({ method: 'POST', url: `/webhooks/telegram/${c.telegramBotId}`, payload: telegramUpdate('text') as object }), status: 401, code: 'UNAUTHORIZED' },
  {
    name: 'telegram: wrong secret token',
    request: (c) => ({ method: 'POST', url: `/webhooks/telegram/${c.telegramBotId}`, headers: { 'x-telegram-bot-api-secret-token': 'wrong' }, payload: telegramUpdate('text') as object }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'telegram: malformed JSON',
    request: (c) => ({
      method: 'POST',
      url: `/webhooks/telegram/${c.telegramBotId}`,
      headers: { 'x-telegram-bot-api-secret-token': c.telegramSecret, 'content-type': 'application/json' },
      payload: '{"update_id": 1, "message": ',
    }),
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'telegram: not JSON at all',
    request: (c) => ({ method: 'POST', url: `/webhooks/telegram/${c.telegramBotId}`, headers: { 'x-telegram-bot-api-secret-token': c.telegramSecret, 'content-type': 'application/xml' }, payload: '<update/>' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
);

// Webhooks: WhatsApp.
function whatsappBody(c: Context, text = 'hello'): Buffer {
  return payloadBytes(
    webhookPayload([{ changes: [{ phoneNumberId: c.whatsapp.phoneNumberId, contacts: [fixtureContact()], messages: [fixtureMessage('text', { id: `wamid.${randomUUID()}`, text: { body: text } })] }] }]),
  );
}
rows.push(
  { name: 'whatsapp: no signature', request: (c) => ({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json' }, payload: whatsappBody(c) }), status: 401, code: 'UNAUTHORIZED' },
  {
    name: 'whatsapp: wrong signature',
    request: (c) => ({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(whatsappBody(c), 'f'.repeat(32)) }, payload: whatsappBody(c) }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'whatsapp: signature over other bytes',
    request: (c) => ({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(Buffer.from('{}'), c.whatsapp.appSecret) }, payload: whatsappBody(c) }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  { name: 'whatsapp: malformed JSON', request: () => ({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json' }, payload: '{"object":' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'whatsapp: empty body', request: () => ({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json' }, payload: '' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'whatsapp handshake: wrong verify token', request: () => ({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42' }), status: 403, code: 'FORBIDDEN' },
  { name: 'whatsapp handshake: NUL in the verify token', request: () => ({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=a%00b&hub.challenge=42' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'whatsapp handshake: no parameters', request: () => ({ method: 'GET', url: '/webhooks/whatsapp' }), status: 403, code: 'FORBIDDEN' },
);

// Webhooks: Stripe.
rows.push(
  { name: 'stripe: no signature', request: () => ({ method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(stripeEvent('invoice.paid')) }), status: 400, code: 'INVALID_SIGNATURE' },
  {
    name: 'stripe: wrong secret',
    request: () => {
      const signed = signStripeEvent(stripeEvent('invoice.paid'), 'whsec_wrong');
      return { method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': signed.header }, payload: signed.payload };
    },
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
  {
    name: 'stripe: signed but stale',
    request: () => {
      const signed = signStripeEvent(stripeEvent('invoice.paid'), STRIPE_WEBHOOK_SECRET, now() - 3600);
      return { method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': signed.header }, payload: signed.payload };
    },
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
  {
    name: 'stripe: signed but not JSON',
    request: () => {
      const signed = signStripeEvent('{"id": "evt_1", ', STRIPE_WEBHOOK_SECRET);
      return { method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': signed.header }, payload: signed.payload };
    },
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
  { name: 'stripe: garbage signature header', request: () => ({ method: 'POST', url: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': 't=abc,v1=\u00ff' }, payload: '{}' }), status: 400, code: 'INVALID_SIGNATURE' },
);

// Webhooks: SendGrid.
rows.push(
  { name: 'sendgrid: no signature', request: () => ({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json' }, payload: '[]' }), status: 400, code: 'INVALID_SIGNATURE' },
  {
    name: 'sendgrid: signature by another key',
    request: () => ({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json', ...createEventWebhookSigner().sign('[]').headers }, payload: '[]' }),
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
  {
    name: 'sendgrid: stale timestamp',
    request: () => ({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json', ...sendgrid.sign('[]', now() - 3600).headers }, payload: '[]' }),
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
  {
    name: 'sendgrid: signed but not JSON',
    request: () => ({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json', ...sendgrid.sign('[{"event":').headers }, payload: '[{"event":' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'sendgrid: garbage signature',
    request: () => ({
      method: 'POST',
      url: '/webhooks/sendgrid',
      headers: { 'content-type': 'application/json', 'X-Twilio-Email-Event-Webhook-Signature': '%%%', 'X-Twilio-Email-Event-Webhook-Timestamp': 'soon' },
      payload: '[]',
    }),
    status: 400,
    code: 'INVALID_SIGNATURE',
  },
);

// Other open routes.
rows.push(
  { name: 'unsubscribe without a token', request: () => ({ method: 'POST', url: '/email/unsubscribe' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unsubscribe with a forged token', request: () => ({ method: 'POST', url: '/email/unsubscribe?token=forged.token' }), status: 400, code: 'INVALID_TOKEN' },
  { name: 'unsubscribe with NUL in the token', request: () => ({ method: 'POST', url: '/email/unsubscribe?token=a%00b' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'chat page for a malformed bot id', request: () => ({ method: 'GET', url: '/chat/NOT-AN-ID' }), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'billing page that does not exist', request: () => ({ method: 'GET', url: '/billing/whatever' }), status: 400, code: 'VALIDATION_FAILED' },
);

const countedTables = ['creators', 'bots', 'api_keys', 'documents', 'bot_channels', 'inbound_messages', 'stripe_events', 'email_events', 'refresh_tokens', 'account_tokens'];

async function rowCounts(): Promise<Record<string, number>> {
  const { rows: counts } = await platform.infrastructure.database.pool.query<Record<string, number>>(
    `SELECT ${countedTables.map((t) => `(SELECT count(*) FROM public.${t})::int AS ${t}`).join(', ')}`,
  );
  return counts[0]!;
}

describe('hostile requests', () => {
  let before: Record<string, number>;
  beforeAll(async () => {
    before = await rowCounts();
  });

  it('the table is broad', () => {
    expect(rows.length).toBeGreaterThanOrEqual(100);
  });

  for (const row of rows) {
    it(`${row.name} → ${row.status} ${row.code}`, async () => {
      const response = await platform.app.inject(row.request(ctx));
      expect(response.statusCode, response.body.slice(0, 300)).toBe(row.status);
      expect(response.json().error.code).toBe(row.code);
    });
  }

  it('stored nothing', async () => {
    expect(await rowCounts()).toEqual(before);
  });
});

describe('odd but harmless webhook input', () => {
  it('a WhatsApp payload naming a number the database cannot compare is acknowledged and ignored, not retried', async () => {
    const bytes = payloadBytes(webhookPayload([{ changes: [{ phoneNumberId: '123\u0000', contacts: [fixtureContact()], messages: [fixtureMessage('text')] }] }]));
    const response = await platform.app.inject({ method: 'POST', url: '/webhooks/whatsapp', headers: { 'content-type': 'application/json' }, payload: bytes });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('a Telegram webhook address with the bot id in capitals reaches the same bot', async () => {
    const update = telegramUpdate('text', { updateId: 4_400_001, chatId: 4_400_001 });
    const headers = { 'x-telegram-bot-api-secret-token': ctx.telegramSecret };
    expect((await platform.app.inject({ method: 'POST', url: `/webhooks/telegram/${ctx.telegramBotId.toUpperCase()}`, headers: { 'x-telegram-bot-api-secret-token': 'wrong' }, payload: update as object })).statusCode).toBe(401);
    const response = await platform.app.inject({ method: 'POST', url: `/webhooks/telegram/${ctx.telegramBotId.toUpperCase()}`, headers, payload: update as object });
    expect(response.statusCode).toBe(200);
    const { rows } = await platform.infrastructure.database.pool.query('SELECT 1 FROM public.inbound_messages WHERE bot_id = $1 AND external_id = $2', [ctx.telegramBotId, '4400001']);
    expect(rows).toHaveLength(1);
  });
});
