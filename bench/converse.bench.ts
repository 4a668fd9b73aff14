/**
 * Conversation path under load. The platform runs in a child process of its own (bench/converse-platform.ts),
 * listening on 127.0.0.1; this process is Telegram and Ollama: a load generator (undici, keep-alive)
 * sending real signed Telegram updates, the fake Bot API receiving the replies and a fake Ollama that
 * answers at once (no token delay), so what is left is our overhead. Keeping them out of the
 * platform's process is how production runs (and keeps their CPU and memory out of its figures);
 * `--one-process` puts everything in one process, as earlier versions of this benchmark did.
 *
 * 1. Webhook acknowledgement, workers off (only the webhook path: verify → store → enqueue → 200):
 *    highest sustained rate (closed loop, 64 senders) and p50/p99 at an offered open-loop 1,000/s.
 *    Baseline in the same run: a bare Fastify app (in the platform's process) with the same route
 *    doing no work, same load.
 * 2. Platform overhead per turn, workers on: webhook sent → sendMessage received by the fake
 *    Telegram, 100 conversations (distinct chats), merge window 0 (bot setting), TELEGRAM_THROTTLE=false.
 *    - capacity: each conversation sends its next message as soon as the previous one is answered
 *      (closed loop, 5 messages each): the highest sustained turns/s. Its latencies are mostly
 *      queueing (Little's law: 100 conversations in flight / turns per second).
 *    - paced: the same 100 conversations writing `--turn-rate` messages/s between them (each one
 *      every 100/rate seconds, never before its previous reply): p50/p99 of the overhead at that
 *      rate, counted from when each message was due, so a slow reply delays the next one's clock.
 *    - one conversation alone, 20 messages one after the other.
 *    Baseline: an HTTP round trip to the bare Fastify route, the floor any webhook → reply path pays.
 * 3. Exactly once at volume: `--replay` distinct messages (default 10,000, one chat each) of which
 *    30 % are delivered a second time, interleaved, 40 at a time (Telegram's default connections):
 *    every chat must get exactly one reply.
 * 4. Peak RSS and CPU of the platform's process per phase.
 * 5. WhatsApp: the acknowledgement and per-turn runs again through `POST /webhooks/whatsapp`
 *    (signed Cloud API payloads) and the fake Graph API (WHATSAPP_RECIPIENT_GAP_MS=0, as the
 *    Telegram run turns its throttle off, and WHATSAPP_MESSAGES_PER_SECOND=1000, Meta's upper tier:
 *    the platform paces each number's calls to the default tier's 80/s, which caps one number at
 *    about 40 turns/s, typing indicator and reply, whatever else it does); `--no-whatsapp` skips it. Its summary line starts with
 *    `whatsapp:` and comes before the last line.
 * 6. HTTP client: the capacity run again (a fresh platform process each time, same load) once with
 *    HTTP_CLIENT=lean and with HTTP_CLIENT=fetch (Node's global fetch), `--client-rounds` times
 *    each in the order lean, fetch, fetch, lean, …, so drift in the machine's load falls on both;
 *    Telegram, and WhatsApp unless `--no-whatsapp`. Per client: turns/s, platform CPU per turn and
 *    peak RSS (median and range of its runs), and the ratio lean/fetch of the medians.
 * 7. Web chat: `--visitors` visitors (default as many as conversations), each with its own session
 *    cookie, each sending `--visitor-messages` messages (default `--messages`) one after another to
 *    `POST /public/bots/:botId/messages` of a published bot, reading each reply's server-sent events
 *    to `done` before the next (caps WEB_CHAT_*_DAILY_MESSAGES raised far above the run). Closed loop
 *    (capacity, platform CPU per turn), paced at `--turn-rate` as for Telegram, and one visitor alone;
 *    time to the first `token` and to `done`, p50/p95. Baseline: the same visitors' keep-alive round
 *    trips to a bare route writing accepted, token and done at once. Exactly once: every message got
 *    one `done` and no error, and the database holds one inbound row, one turn and one ledger row
 *    'sent' per message. `--no-web` skips it; its summary line starts with `web:`.
 *
 *   npm run bench:converse -- [--redis] [--seconds 5] [--rate 1000] [--senders 64]
 *                             [--conversations 100] [--messages 5] [--turn-rate 300]
 *                             [--concurrency 16] [--replay 10000] [--one-process] [--only ack|turns|clients|web]
 *                             [--no-whatsapp] [--client-rounds 2] [--no-web] [--visitors 100] [--visitor-messages 5]
 *   --replay 0 skips the replay; --only runs one part and prints its figures as JSON.
 *   BENCH_PROFILE_DIR=dir writes CPU profiles of the platform's process during the acknowledgement
 *   and capacity runs; BENCH_LOG_LEVEL sets its log level (default silent);
 *   BENCH_PLATFORM_NODE_OPTIONS adds node flags to it; BENCH_DATABASE_POOL_MAX sets its pool size.
 *
 * The last line is `overhead_p50_ms=… overhead_p99_ms=… turns_per_s=… ack_p99_ms=… http_client_cpu_ratio=…`
 * then, with the web run, `web_done_p50_ms=… web_done_p95_ms=… web_first_token_p50_ms=… web_turns_per_s=… web_exactly_once=yes|no`:
 * the paced overhead, the capacity, the open-loop acknowledgement p99 and the lean client's platform
 * CPU per Telegram turn over the global fetch's; the web chat's paced times to done and to the first
 * token, its capacity and whether every message was answered exactly once. The overhead is measured at an
 * offered rate rather than in the closed loop because with 100 conversations always waiting, p50
 * ≤ 20 ms would need 5,000 turns/s: the targets hold together only as "≤ 20 ms at ≥ 300 turns/s".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Pool } from 'undici';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { FakeTelegram, type FakeBot } from '../test/support/fake-telegram.js';
import { textUpdate } from '../test/support/telegram-updates.js';
import { freePort } from '../test/support/telegram-e2e.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../test/support/fake-whatsapp.js';
import { signWhatsAppBody, webhookPayload } from '../test/support/whatsapp-payloads.js';
import { percentile, saveResults } from './bench-report.js';
import { platformCommands, type PlatformCommand } from './converse-platform.js';
import { openLoop as sendAtRate } from './open-loop.js';
import { flag, forkPlatform, procCpuSeconds } from './platform-process.js';

const redis = process.argv.includes('--redis');
const oneProcess = process.argv.includes('--one-process');
const seconds = flag('seconds', 5);
const openRate = flag('rate', 1000);
const senders = flag('senders', 64);
const conversations = flag('conversations', 100);
const messagesPerConversation = flag('messages', 5);
const turnRate = flag('turn-rate', 300);
const concurrency = flag('concurrency', 16);
const replayMessages = flag('replay', 10_000);
// --no-whatsapp skips the WhatsApp run (acknowledgement and per-turn overhead through the Cloud API path).
const whatsappRun = !process.argv.includes('--no-whatsapp');
// --client-rounds n: the HTTP client comparison's capacity runs per client (0 skips it).
const clientRounds = flag('client-rounds', 2);
// --no-web skips the web chat run (visitors over server-sent events); --visitors and --visitor-messages size it.
const webRun = !process.argv.includes('--no-web');
const visitors = flag('visitors', conversations);
const visitorMessages = flag('visitor-messages', messagesPerConversation);
// --only ack | turns | clients | web: run one part (for profiling); the summary line needs the first two.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const REDIS_URL = 'redis://127.0.0.1:6379';

const mb = (bytes: number) => bytes / 1024 / 1024;

// --- the platform's process ---------------------------------------------------------------------

/** The platform under test, in a child process (or this one with --one-process). */
interface PlatformHandle {
  run(command: PlatformCommand): Promise<unknown>;
  /** CPU seconds the platform's process has used so far, in user space and in the kernel. */
  cpuSeconds(): { user: number; system: number };
  /** Peak resident memory of the platform's process so far, in bytes. */
  peakRss(): number;
  close(): Promise<void>;
}

/** CPU seconds used so far by every process running one of `commands` (e.g. PostgreSQL's backends), as far as they are still alive. */
function commandCpuSeconds(commands: string[]): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!commands.includes(name)) continue;
      const { user, system } = procCpuSeconds(Number(entry));
      total += user + system;
    } catch {
      // The process exited while we looked.
    }
  }
  return total;
}

/** Where a run's CPU went besides the platform's process: the database and Redis servers, and this process (load generator and fakes). */
function machineCpuSeconds(): { database: number; redis: number; driver: number } {
  const own = process.cpuUsage();
  return { database: commandCpuSeconds(['postgres']), redis: commandCpuSeconds(['redis-server']), driver: (own.user + own.system) / 1e6 };
}

async function startPlatformProcess(): Promise<PlatformHandle> {
  if (oneProcess) {
    const run = platformCommands();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    return {
      run,
      cpuSeconds: () => {
        const usage = process.cpuUsage();
        return { user: usage.user / 1e6, system: usage.system / 1e6 };
      },
      peakRss: () => Math.max(peak, process.memoryUsage().rss),
      async close() {
        clearInterval(sampler);
      },
    };
  }
  // BENCH_PLATFORM_NODE_OPTIONS adds node flags to the platform's process, e.g. "--cpu-prof".
  return forkPlatform(process.env.BENCH_PLATFORM_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? []);
}

// --- load generation ----------------------------------------------------------------------------

interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Builds one request for a chat (body and its own headers); Telegram updates when absent. */
  build?: (chatId: number, text?: string) => { body: string; headers: Record<string, string> };
}

/** One webhook request of `target` for a chat. */
function request(target: Target, chatId: number, text?: string): { body: string; headers: Record<string, string> } {
  return target.build ? target.build(chatId, text) : { body: body(chatId, text), headers: target.headers };
}

let nextUpdateId = 1_000_000;
// One parsed fixture, mutated per request: loading a fresh copy each time would measure the loader.
const template = textUpdate('How do I keep a habit going when I travel?', { updateId: 1, chatId: 1 }) as unknown as {
  update_id: number;
  message: { message_id: number; chat: { id: number }; from: { id: number }; text: string };
};

function body(chatId: number, text?: string, updateId = nextUpdateId++): string {
  template.update_id = updateId;
  template.message.message_id = updateId;
  template.message.chat.id = chatId;
  template.message.from.id = chatId;
  if (text) template.message.text = text;
  return JSON.stringify(template);
}

interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** CPU milliseconds the platform's process spent per request (of which in the kernel). */
  cpuMsPerRequest?: number;
  systemCpuMsPerRequest?: number;
}

function summarise(latencies: number[], errors: number, elapsedMs: number): LoadResult {
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / (elapsedMs / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.reduce((a, b) => Math.max(a, b), 0),
  };
}

async function post(pool: Pool, target: Target, chatId: number): Promise<boolean> {
  const response = await pool.request({ method: 'POST', path: target.path, ...request(target, chatId) });
  await response.body.dump();
  return response.statusCode === 200;
}

/** Runs `load` and adds the platform process's CPU time per request. */
async function withCpu(platform: PlatformHandle, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = platform.cpuSeconds();
  const result = await load();
  const after = platform.cpuSeconds();
  const n = Math.max(1, result.requests + result.errors);
  return {
    ...result,
    cpuMsPerRequest: ((after.user + after.system - before.user - before.system) * 1000) / n,
    systemCpuMsPerRequest: ((after.system - before.system) * 1000) / n,
  };
}

/** `senders` loops each sending the next update as soon as the previous one is acknowledged. */
async function closedLoop(target: Target, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: senders, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: senders }, async (_, sender) => {
      let n = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await post(pool, target, 100_000 + sender * 1000 + (n++ % 1000)).catch(() => false);
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return summarise(latencies, errors, elapsed);
}

/** The acknowledgement load at an offered rate (bench/open-loop.ts). */
async function openLoop(target: Target, rate: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: 256, pipelining: 1 });
  const total = Math.round((rate * durationMs) / 1000);
  const run = await sendAtRate(rate, (chat) => post(pool, target, chat), (_elapsed, sent) => sent < total, total);
  await pool.close();
  return summarise(run.latencies, run.errors, run.elapsedMs);
}

/** Closed loop, then open loop, after a one-second warm-up that is thrown away. */
async function ackLoad(platform: PlatformHandle, target: Target) {
  await closedLoop(target, 1000);
  const sustained = await withCpu(platform, () => closedLoop(target, seconds * 1000));
  const open = await withCpu(platform, () => openLoop(target, openRate, seconds * 1000));
  return { sustained, open };
}

// --- fake Telegram with per-chat reply notification ------------------------------------------------

/**
 * The fake Bot API on its own server so each recorded call can be seen as it lands (the call's
 * `at` is its receipt time): a reply wakes whoever waits for that chat.
 */
async function startObservedTelegram() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake = new FakeTelegram(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const waiters = new Map<number, (at: number) => void>();
  const replies = new Map<number, number>();
  let seen = 0;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    fake
      .handle(request, response)
      .catch((err: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: false, error_code: 500, description: (err as Error).message }));
      })
      .finally(() => {
        for (; seen < fake.calls.length; seen++) {
          const call = fake.calls[seen]!;
          if (call.method.toLowerCase() !== 'sendmessage' || !call.response.ok) continue;
          const chatId = Number(call.params.chat_id);
          replies.set(chatId, (replies.get(chatId) ?? 0) + 1);
          const waiter = waiters.get(chatId);
          if (waiter) {
            waiters.delete(chatId);
            waiter(call.at);
          }
        }
        // The recorded calls are only needed until they are seen; a long replay would hold them all.
        if (seen > 10_000) {
          fake.calls.splice(0, seen);
          seen = 0;
        }
      });
  });
  /** Resolves with the receipt time of the chat's next sendMessage. */
  const nextReply = (chatId: number, timeoutMs = 60_000) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(chatId);
        reject(new Error(`no reply in chat ${chatId} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.set(chatId, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  return { fake, nextReply, replies };
}

// --- platform -------------------------------------------------------------------------------------

async function listeningPlatform(env: Record<string, string>, workers: boolean, telegram: FakeTelegram, ingest: boolean) {
  const port = await freePort();
  const platform = await startPlatformProcess();
  await platform.run({
    cmd: 'start',
    env: { ...env, TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: `http://127.0.0.1:${port}`, ...(redis ? { REDIS_URL } : {}) },
    workers,
    port,
  });
  const fakeBot = telegram.addBot();
  await platform.run({ cmd: 'connect', token: fakeBot.token, settings: { mergeWindowMs: 0 }, ingest });
  const { origin } = (await platform.run({ cmd: 'bare' })) as { origin: string };
  return { platform, target: targetOf(fakeBot), bareOrigin: origin };
}

function targetOf(fakeBot: FakeBot): Target {
  const url = new URL(fakeBot.webhook!.url);
  return {
    origin: url.origin,
    path: url.pathname,
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': fakeBot.webhook!.secretToken! },
  };
}

// --- WhatsApp ---------------------------------------------------------------------------------------

const WHATSAPP_NUMBER = '100200300400';
const WHATSAPP_SECRET = 'bench-app-secret-0123456789abcdef';
let nextWamid = 1;
// One payload, mutated per request, as for Telegram; each body is signed as Meta signs it.
const whatsappTemplate = webhookPayload([
  { changes: [{ phoneNumberId: WHATSAPP_NUMBER, contacts: [{ profile: { name: 'Dana' }, wa_id: '0' }], messages: [{ from: '0', id: 'wamid.0', timestamp: '0', type: 'text', text: { body: '' } }] }] },
]) as unknown as { entry: Array<{ changes: Array<{ value: { contacts: Array<{ wa_id: string }>; messages: Array<{ from: string; id: string; timestamp: string; text: { body: string } }> } }> }> };

function whatsappRequest(chatId: number, text = 'How do I keep a habit going when I travel?') {
  const value = whatsappTemplate.entry[0]!.changes[0]!.value;
  const from = String(15_550_000_000 + chatId);
  value.contacts[0]!.wa_id = from;
  Object.assign(value.messages[0]!, { from, id: `wamid.bench${nextWamid++}`, timestamp: String(Math.floor(Date.now() / 1000)), text: { body: text } });
  const json = JSON.stringify(whatsappTemplate);
  return { body: json, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsAppBody(json, WHATSAPP_SECRET) } };
}

async function whatsappPlatform(env: Record<string, string>, workers: boolean, graph: FakeWhatsApp, ingest: boolean) {
  const port = await freePort();
  const platform = await startPlatformProcess();
  await platform.run({
    cmd: 'start',
    env: { ...env, WHATSAPP_GRAPH_URL: graph.url, WHATSAPP_RECIPIENT_GAP_MS: '0', WHATSAPP_MESSAGES_PER_SECOND: '1000', PUBLIC_URL: `http://127.0.0.1:${port}`, ...(redis ? { REDIS_URL } : {}) },
    workers,
    port,
  });
  graph.addPhoneNumber(WHATSAPP_NUMBER);
  await platform.run({ cmd: 'connect-whatsapp', phoneNumberId: WHATSAPP_NUMBER, accessToken: graph.accessToken, appSecret: WHATSAPP_SECRET, settings: { mergeWindowMs: 0 }, ingest });
  const { origin } = (await platform.run({ cmd: 'bare' })) as { origin: string };
  const target: Target = { origin: `http://127.0.0.1:${port}`, path: '/webhooks/whatsapp', headers: {}, build: whatsappRequest };
  return { platform, target, bareOrigin: origin };
}

/** Resolves with the receipt time (performance.now) of the chat's next message at the fake Graph API. */
function nextWhatsAppReply(graph: FakeWhatsApp) {
  return async (chatId: number) => {
    const to = String(15_550_000_000 + chatId);
    const messages = await graph.waitForMessages(graph.sentTo(to).length + 1, { to, timeoutMs: 60_000 });
    return messages.at(-1)!.at;
  };
}

interface TurnResult {
  turns: number;
  errors: number;
  seconds: number;
  turnsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  cpuMsPerTurn?: number;
  systemCpuMsPerTurn?: number;
  /** CPU per turn of the PostgreSQL and Redis servers and of the benchmark's own process (load generator, fake Telegram and Ollama). */
  databaseCpuMsPerTurn?: number;
  redisCpuMsPerTurn?: number;
  driverCpuMsPerTurn?: number;
}

/**
 * `count` chats, each sending `messages` texts one after another and waiting for each reply. With
 * `periodMs`, chat i's message m is due at start + (i/count + m) × periodMs and is not sent before
 * then; latency counts from that moment (or from sending, in a closed loop).
 */
async function conversationLoad(
  target: Target,
  nextReply: (chatId: number) => Promise<number>,
  firstChat: number,
  count: number,
  messages: number,
  periodMs?: number,
): Promise<TurnResult> {
  const pool = new Pool(target.origin, { connections: count, pipelining: 1 });
  const overheads: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const chatId = firstChat + i;
      for (let m = 0; m < messages; m++) {
        const due = periodMs === undefined ? undefined : started + (i / count + m) * periodMs;
        if (due !== undefined && due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
        const reply = nextReply(chatId);
        const sentAt = performance.now();
        const response = await pool.request({ method: 'POST', path: target.path, ...request(target, chatId, `Question ${m + 1}: how do I keep a habit going?`) });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
        overheads.push((await reply) - (due ?? sentAt));
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return {
    turns: overheads.length,
    errors,
    seconds: elapsed / 1000,
    turnsPerSecond: overheads.length / (elapsed / 1000),
    p50: percentile(overheads, 0.5),
    p99: percentile(overheads, 0.99),
    max: overheads.reduce((a, b) => Math.max(a, b), 0),
  };
}

/**
 * A few hundred turns thrown away before measuring, at the measured concurrency: the figures are the
 * platform's steady state, after V8 has optimised its hot paths and every pool holds its connections.
 */
async function warmUp(target: Target, nextReply: (chatId: number) => Promise<number>): Promise<void> {
  await conversationLoad(target, nextReply, 9_000, Math.min(conversations, 100), 3);
}

async function turnsWithCpu<T extends TurnResult>(platform: PlatformHandle, load: () => Promise<T>): Promise<T> {
  const before = platform.cpuSeconds();
  const machineBefore = machineCpuSeconds();
  const result = await load();
  const after = platform.cpuSeconds();
  const machineAfter = machineCpuSeconds();
  const n = Math.max(1, result.turns);
  const perTurn = (seconds: number) => (seconds * 1000) / n;
  return {
    ...result,
    cpuMsPerTurn: perTurn(after.user + after.system - before.user - before.system),
    systemCpuMsPerTurn: perTurn(after.system - before.system),
    databaseCpuMsPerTurn: perTurn(machineAfter.database - machineBefore.database),
    redisCpuMsPerTurn: perTurn(machineAfter.redis - machineBefore.redis),
    // In one process the platform's CPU is this process's too.
    driverCpuMsPerTurn: perTurn(machineAfter.driver - machineBefore.driver - (oneProcess ? after.user + after.system - before.user - before.system : 0)),
  };
}

/** The floor of a webhook → reply path: one keep-alive round trip to a route that does nothing. */
async function roundTripFloor(origin: string, count: number): Promise<{ p50: number; p99: number }> {
  const pool = new Pool(origin, { connections: conversations, pipelining: 1 });
  const samples: number[] = [];
  // The first round opens the connections and is thrown away.
  for (const rounds of [1, count]) {
    samples.length = 0;
    await Promise.all(
      Array.from({ length: conversations }, async (_, i) => {
        for (let m = 0; m < rounds; m++) {
          const t0 = performance.now();
          const response = await pool.request({ method: 'POST', path: '/webhooks/telegram/x', headers: { 'content-type': 'application/json' }, body: body(300_000 + i) });
          await response.body.dump();
          samples.push(performance.now() - t0);
        }
      }),
    );
  }
  await pool.close();
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/**
 * `count` messages to as many chats, 30 % of them delivered twice, interleaved and 40 at a time;
 * then waits until every chat has its reply and every turn is settled, and counts the replies.
 */
async function replayLoad(platform: PlatformHandle, target: Target, replies: Map<number, number>, count: number) {
  const firstChat = 5_000_000;
  const updates = Array.from({ length: count }, (_, i) => ({ chat: firstChat + i, updateId: 50_000_000 + i }));
  const deliveries = [...updates, ...updates.filter((_, i) => i % 10 < 3)];
  // Redeliveries land among first deliveries, as when Telegram retries while new updates flow.
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const pool = new Pool(target.origin, { connections: 40, pipelining: 1 });
  const started = performance.now();
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (next < deliveries.length) {
        const { chat, updateId } = deliveries[next++]!;
        // Telegram redelivers until it gets a 2xx.
        for (;;) {
          const response = await pool.request({ method: 'POST', path: target.path, headers: target.headers, body: body(chat, `Question for chat ${chat}`, updateId) });
          await response.body.dump();
          if (response.statusCode === 200) break;
          errors++;
        }
      }
    }),
  );
  const acknowledged = performance.now();
  await pool.close();
  const deadline = Date.now() + 600_000;
  const settled = async () => {
    const rows = (await platform.run({
      cmd: 'sql',
      text: `SELECT count(*) FILTER (WHERE t.status = 'answered') AS answered, count(*) FILTER (WHERE t.id IS NULL OR t.status = 'processing') AS open
               FROM inbound_messages i LEFT JOIN turns t ON t.id = i.turn_id JOIN conversations c ON c.id = i.conversation_id
              WHERE c.external_chat_id::bigint >= ${firstChat}`,
    })) as Array<{ answered: number; open: number }>;
    return rows[0]!;
  };
  let state = await settled();
  while ((state.open > 0 || updates.some((u) => !replies.get(u.chat))) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    state = await settled();
  }
  const done = performance.now();
  const counts = updates.map((u) => replies.get(u.chat) ?? 0);
  return {
    messages: count,
    deliveries: deliveries.length,
    webhookRetries: errors,
    acknowledgedSeconds: (acknowledged - started) / 1000,
    answeredSeconds: (done - started) / 1000,
    turnsPerSecond: count / ((done - started) / 1000),
    turnsAnswered: state.answered,
    chatsWithoutReply: counts.filter((n) => n === 0).length,
    chatsWithSeveralReplies: counts.filter((n) => n > 1).length,
    exactlyOnce: counts.every((n) => n === 1) && state.answered === count,
  };
}

// --- web chat ---------------------------------------------------------------------------------------

// The visitors' caps, far above what a run sends (every visitor writes from 127.0.0.1, to one bot).
const WEB_CAPS = { WEB_CHAT_VISITOR_DAILY_MESSAGES: '1000000', WEB_CHAT_IP_DAILY_MESSAGES: '100000000', WEB_CHAT_BOT_DAILY_MESSAGES: '100000000' };

async function webPlatform(env: Record<string, string>) {
  const port = await freePort();
  const platform = await startPlatformProcess();
  await platform.run({ cmd: 'start', env: { ...env, ...WEB_CAPS, PUBLIC_URL: `http://127.0.0.1:${port}`, ...(redis ? { REDIS_URL } : {}) }, workers: true, port });
  const { botId } = (await platform.run({ cmd: 'connect-web', settings: { mergeWindowMs: 0 }, ingest: true })) as { botId: string };
  const { origin } = (await platform.run({ cmd: 'bare' })) as { origin: string };
  return { platform, origin: `http://127.0.0.1:${port}`, botId, bareOrigin: origin };
}

/** What one visitor's message got back: when its first `token` and its `done` arrived, and what went wrong. */
interface WebMessageOutcome {
  status: number;
  firstTokenAt?: number;
  doneAt?: number;
  dones: number;
  /** `error` events, and `done`s that refused the message (a cap) instead of answering it. */
  failures: number;
  cookie?: string;
}

/** Sends one visitor message and reads its event stream to the end, noting when each event arrived. */
async function sendWebMessage(pool: Pool, path: string, cookie: string | undefined, messageId: string, text: string): Promise<WebMessageOutcome> {
  const response = await pool.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ messageId, text }),
  });
  const setCookie = response.headers['set-cookie'];
  const outcome: WebMessageOutcome = { status: response.statusCode, dones: 0, failures: 0 };
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (first) outcome.cookie = first.split(';')[0]!;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Buffer, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      // Comments (heartbeats) carry no event.
      if (!event) continue;
      const at = performance.now();
      if (event === 'token') outcome.firstTokenAt ??= at;
      else if (event === 'done') {
        outcome.dones++;
        outcome.doneAt ??= at;
        const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? '{}') as { reply?: unknown; refused?: unknown };
        if (data.refused !== undefined || typeof data.reply !== 'string' || data.reply === '') outcome.failures++;
      } else if (event === 'error') outcome.failures++;
    }
  }
  return outcome;
}

/** Milliseconds at p50, p95 and p99 of `samples`. */
const quantiles = (samples: number[]) => ({ p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), p99: percentile(samples, 0.99) });

interface WebTurnResult extends TurnResult {
  /** Message sent (or due) → first `token` event, and → `done` event (the same as p50/p99 above). */
  firstToken: { p50: number; p95: number; p99: number };
  done: { p50: number; p95: number; p99: number };
  /** Answered messages whose stream carried no `token` before `done`. */
  withoutToken: number;
  /** Messages whose stream had no `done`, or several. */
  withoutDone: number;
  withSeveralDones: number;
  messageIds: string[];
}

/**
 * `count` visitors (each its own session cookie), each sending `messages` texts one after another
 * and reading each reply's event stream to its `done` before the next. With `periodMs`, as in
 * conversationLoad: visitor i's message m is due at start + (i/count + m) × periodMs.
 */
async function webLoad(origin: string, botId: string, idPrefix: string, count: number, messages: number, periodMs?: number): Promise<WebTurnResult> {
  const pool = new Pool(origin, { connections: count, pipelining: 1 });
  const path = `/public/bots/${botId}/messages`;
  const firstTokens: number[] = [];
  const dones: number[] = [];
  const messageIds: string[] = [];
  let errors = 0;
  let withoutToken = 0;
  let withoutDone = 0;
  let withSeveralDones = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      let cookie: string | undefined;
      for (let m = 0; m < messages; m++) {
        const due = periodMs === undefined ? undefined : started + (i / count + m) * periodMs;
        if (due !== undefined && due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
        const messageId = `${idPrefix}-v${i}-m${m}`;
        messageIds.push(messageId);
        const sentAt = performance.now();
        const outcome = await sendWebMessage(pool, path, cookie, messageId, `Question ${m + 1}: how do I keep a habit going?`).catch(() => undefined);
        if (!outcome) {
          errors++;
          withoutDone++;
          continue;
        }
        cookie = outcome.cookie ?? cookie;
        if (outcome.status !== 200) errors++;
        errors += outcome.failures;
        if (outcome.dones === 0) withoutDone++;
        if (outcome.dones > 1) withSeveralDones++;
        if (outcome.doneAt === undefined) continue;
        dones.push(outcome.doneAt - (due ?? sentAt));
        if (outcome.firstTokenAt === undefined) withoutToken++;
        else firstTokens.push(outcome.firstTokenAt - (due ?? sentAt));
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  const done = quantiles(dones);
  return {
    turns: dones.length,
    errors,
    seconds: elapsed / 1000,
    turnsPerSecond: dones.length / (elapsed / 1000),
    p50: done.p50,
    p99: done.p99,
    max: dones.reduce((a, b) => Math.max(a, b), 0),
    firstToken: quantiles(firstTokens),
    done,
    withoutToken,
    withoutDone,
    withSeveralDones,
    messageIds,
  };
}

/**
 * What the database holds for the visitors' messages whose id starts with `idPrefix`: one inbound
 * row each, each in a turn of its own, no other turn in their conversations, and one ledger row
 * per turn, settled as sent. Waits (up to 30 s) for the ledger to settle after the last `done`.
 */
async function webLedger(platform: PlatformHandle, botId: string, idPrefix: string, expected: number) {
  const query = `
    WITH mine AS (
      -- A web message's external id is its conversation's id, a colon and the id the page chose.
      SELECT i.* FROM inbound_messages i WHERE i.bot_id = '${botId}' AND i.channel = 'web' AND i.external_id LIKE '%:${idPrefix}-%'
    ), conversations_of_mine AS (SELECT DISTINCT conversation_id FROM mine)
    SELECT (SELECT count(*) FROM mine)::int AS inbound,
           (SELECT count(DISTINCT external_id) FROM mine)::int AS "messageIds",
           (SELECT count(DISTINCT turn_id) FROM mine)::int AS "turnsOfMessages",
           (SELECT count(*) FROM turns t WHERE t.conversation_id IN (SELECT conversation_id FROM conversations_of_mine))::int AS "turnsInConversations",
           (SELECT count(*) FROM turns t WHERE t.id IN (SELECT turn_id FROM mine) AND t.status = 'answered')::int AS answered,
           (SELECT count(*) FROM outbound_messages o WHERE o.conversation_id IN (SELECT conversation_id FROM conversations_of_mine))::int AS "ledgerRows",
           (SELECT count(*) FROM outbound_messages o WHERE o.turn_id IN (SELECT turn_id FROM mine) AND o.status = 'sent')::int AS sent`;
  type Ledger = { inbound: number; messageIds: number; turnsOfMessages: number; turnsInConversations: number; answered: number; ledgerRows: number; sent: number };
  const read = async () => ((await platform.run({ cmd: 'sql', text: query })) as Ledger[])[0]!;
  const deadline = Date.now() + 30_000;
  let ledger = await read();
  while ((ledger.sent < expected || ledger.answered < expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    ledger = await read();
  }
  const exactlyOnce = Object.values(ledger).every((n) => n === expected);
  return { expected, ...ledger, exactlyOnce };
}

// --- HTTP client comparison -------------------------------------------------------------------------

const HTTP_CLIENTS = ['lean', 'fetch'] as const;
type HttpClient = (typeof HTTP_CLIENTS)[number];

/** One capacity run of a fresh platform process with one HTTP client. */
interface ClientRun {
  client: HttpClient;
  turns: number;
  errors: number;
  turnsPerSecond: number;
  cpuMsPerTurn: number;
  systemCpuMsPerTurn: number;
  peakRssMb: number;
}

/** Median and range of one figure over a client's runs. */
interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/** The runs of each client summed up, and lean over fetch for each figure's median. */
function compareClients(runs: ClientRun[]) {
  const of = (client: HttpClient) => {
    const mine = runs.filter((r) => r.client === client);
    return {
      runs: mine.length,
      turnsPerSecond: spread(mine.map((r) => r.turnsPerSecond)),
      cpuMsPerTurn: spread(mine.map((r) => r.cpuMsPerTurn)),
      systemCpuMsPerTurn: spread(mine.map((r) => r.systemCpuMsPerTurn)),
      peakRssMb: spread(mine.map((r) => r.peakRssMb)),
      errors: mine.reduce((sum, r) => sum + r.errors, 0),
    };
  };
  const lean = of('lean');
  const fetch = of('fetch');
  return {
    lean,
    fetch,
    ratio: {
      what: 'lean / fetch, of the medians',
      turnsPerSecond: lean.turnsPerSecond.median / fetch.turnsPerSecond.median,
      cpuMsPerTurn: lean.cpuMsPerTurn.median / fetch.cpuMsPerTurn.median,
      peakRssMb: lean.peakRssMb.median / fetch.peakRssMb.median,
    },
    runs,
  };
}

/** lean, fetch, fetch, lean, …: each client as often first as second, so a drift in load falls on both. */
function clientOrder(rounds: number): HttpClient[] {
  return Array.from({ length: rounds }, (_, round) => (round % 2 === 0 ? [...HTTP_CLIENTS] : [...HTTP_CLIENTS].reverse())).flat();
}

// --- report ---------------------------------------------------------------------------------------

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

async function main() {
  const mode = redis ? 'scale-out (BullMQ on Redis)' : 'small server (BullMQ on PostgreSQL)';
  const layout = oneProcess ? 'one process (platform, load generator and fakes together)' : 'platform in its own process';
  const ollama = await startFakeOllama({ dims: 768 });
  const { fake: telegram, nextReply, replies } = await startObservedTelegram();
  const common = { OLLAMA_HOST: ollama.url, TELEGRAM_THROTTLE: 'false', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' };
  const profileDir = process.env.BENCH_PROFILE_DIR;
  let platform: PlatformHandle | undefined;
  const redisKeysDeleted: number[] = [];
  const stopPlatform = async () => {
    const stopped = (await platform!.run({ cmd: 'stop' })) as { redisKeysDeleted: number };
    redisKeysDeleted.push(stopped.redisKeysDeleted);
    await platform!.close();
    platform = undefined;
  };
  const profiled = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (!profileDir) return work();
    await platform!.run({ cmd: 'profile', start: true });
    const result = await work();
    const { file } = (await platform!.run({ cmd: 'profile', stop: `${profileDir}/${name}-${Date.now()}.cpuprofile` })) as { file: string };
    console.log(`profile of the ${name} run: ${file}`);
    return result;
  };

  // 1. acknowledgement, workers off.
  const ackPhase = async () => {
    const ack = await listeningPlatform(common, false, telegram, false);
    platform = ack.platform;
    const project = await profiled('acknowledgement', () => ackLoad(platform!, ack.target));
    const baselineAck = await ackLoad(platform, { ...ack.target, origin: ack.bareOrigin });
    const [{ n: stored }] = (await platform.run({ cmd: 'sql', text: 'SELECT count(*)::int AS n FROM inbound_messages' })) as [{ n: number }];
    const ackRss = mb(platform.peakRss());
    await stopPlatform();
    return { project, baselineAck, stored, ackRss };
  };

  // 2. per-turn overhead, workers on; 3. exactly once at volume.
  const turnPhase = async () => {
    const turnEnv = {
      ...common,
      CONVERSE_CONCURRENCY: String(concurrency),
      CONVERSE_PER_CREATOR: String(concurrency),
      ...(process.env.BENCH_DATABASE_POOL_MAX ? { DATABASE_POOL_MAX: process.env.BENCH_DATABASE_POOL_MAX } : {}),
    };
    const turn = await listeningPlatform(turnEnv, true, telegram, true);
    platform = turn.platform;
    await warmUp(turn.target, nextReply);
    const capacity = await profiled('capacity', () => turnsWithCpu(platform!, () => conversationLoad(turn.target, nextReply, 10_000, conversations, messagesPerConversation)));
    const periodMs = (conversations * 1000) / turnRate;
    const pacedMessages = Math.max(1, Math.round((seconds * 1000) / periodMs));
    const paced = await turnsWithCpu(platform, () => conversationLoad(turn.target, nextReply, 30_000, conversations, pacedMessages, periodMs));
    // One conversation alone: the overhead without queueing behind other chats.
    const alone = await conversationLoad(turn.target, nextReply, 20_000, 1, 20);
    const floor = await roundTripFloor(turn.bareOrigin, messagesPerConversation);
    const replay = replayMessages > 0 ? await replayLoad(platform, turn.target, replies, replayMessages) : undefined;
    const turnRss = mb(platform.peakRss());
    await stopPlatform();
    return { capacity, paced, alone, floor, replay, turnRss };
  };

  // 5. The same acknowledgement and per-turn runs through WhatsApp's webhook and the fake Graph API.
  const whatsappPhase = async () => {
    const graph = await startFakeWhatsApp({ now: () => performance.now() });
    try {
      const ack = await whatsappPlatform(common, false, graph, false);
      platform = ack.platform;
      const project = await ackLoad(platform, ack.target);
      const baselineAck = await ackLoad(platform, { ...ack.target, origin: ack.bareOrigin });
      const ackRss = mb(platform.peakRss());
      await stopPlatform();

      const turn = await whatsappPlatform(
        { ...common, CONVERSE_CONCURRENCY: String(concurrency), CONVERSE_PER_CREATOR: String(concurrency) },
        true,
        graph,
        true,
      );
      platform = turn.platform;
      const nextReply = nextWhatsAppReply(graph);
      await warmUp(turn.target, nextReply);
      const capacity = await turnsWithCpu(platform, () => conversationLoad(turn.target, nextReply, 10_000, conversations, messagesPerConversation));
      const periodMs = (conversations * 1000) / turnRate;
      const paced = await turnsWithCpu(platform, () =>
        conversationLoad(turn.target, nextReply, 30_000, conversations, Math.max(1, Math.round((seconds * 1000) / periodMs)), periodMs),
      );
      const alone = await conversationLoad(turn.target, nextReply, 20_000, 1, 20);
      const turnRss = mb(platform.peakRss());
      await stopPlatform();
      return { ack: { project, baseline: baselineAck }, capacity, paced, alone, rssMb: Math.max(ackRss, turnRss) };
    } finally {
      await graph.close();
    }
  };

  // 6. The capacity run with each HTTP client, a fresh platform process per run.
  const clientPhase = async () => {
    const turnEnv = { ...common, CONVERSE_CONCURRENCY: String(concurrency), CONVERSE_PER_CREATOR: String(concurrency) };
    const measure = async (client: HttpClient, turn: { platform: PlatformHandle; target: Target }, nextReply: (chatId: number) => Promise<number>): Promise<ClientRun> => {
      platform = turn.platform;
      await warmUp(turn.target, nextReply);
      const capacity = await turnsWithCpu(platform, () => conversationLoad(turn.target, nextReply, 10_000, conversations, messagesPerConversation));
      const peakRssMb = mb(platform.peakRss());
      await stopPlatform();
      const { turns, errors, turnsPerSecond, cpuMsPerTurn, systemCpuMsPerTurn } = capacity;
      return { client, turns, errors, turnsPerSecond, cpuMsPerTurn: cpuMsPerTurn!, systemCpuMsPerTurn: systemCpuMsPerTurn!, peakRssMb };
    };
    const telegramRuns: ClientRun[] = [];
    for (const client of clientOrder(clientRounds)) {
      telegramRuns.push(await measure(client, await listeningPlatform({ ...turnEnv, HTTP_CLIENT: client }, true, telegram, true), nextReply));
    }
    let whatsappRuns: ClientRun[] | undefined;
    if (whatsappRun) {
      whatsappRuns = [];
      const graph = await startFakeWhatsApp({ now: () => performance.now() });
      try {
        for (const client of clientOrder(clientRounds)) {
          whatsappRuns.push(await measure(client, await whatsappPlatform({ ...turnEnv, HTTP_CLIENT: client }, true, graph, true), nextWhatsAppReply(graph)));
        }
      } finally {
        await graph.close();
      }
    }
    return { telegram: compareClients(telegramRuns), ...(whatsappRuns ? { whatsapp: compareClients(whatsappRuns) } : {}) };
  };

  // 7. Web chat visitors over server-sent events, against the same kind of platform.
  const webPhase = async () => {
    const web = await webPlatform({ ...common, CONVERSE_CONCURRENCY: String(concurrency), CONVERSE_PER_CREATOR: String(concurrency) });
    platform = web.platform;
    const stamp = Date.now().toString(36);
    // Thrown away, as for the other channels: V8's hot paths optimised, every pool holding its connections.
    await webLoad(web.origin, web.botId, `warm${stamp}`, Math.min(visitors, 100), 3);
    const measured = `bench${stamp}`;
    const capacity = await turnsWithCpu(platform, () => webLoad(web.origin, web.botId, `${measured}-c`, visitors, visitorMessages));
    const periodMs = (visitors * 1000) / turnRate;
    const paced = await turnsWithCpu(platform, () =>
      webLoad(web.origin, web.botId, `${measured}-p`, visitors, Math.max(1, Math.round((seconds * 1000) / periodMs)), periodMs),
    );
    const alone = await webLoad(web.origin, web.botId, `${measured}-a`, 1, 20);
    const runs = [capacity, paced, alone];
    const ledger = await webLedger(platform, web.botId, measured, runs.reduce((n, r) => n + r.messageIds.length, 0));
    // The floor: the same visitors' round trips to a bare route writing the same events at once (the first round opens the connections).
    await webLoad(web.bareOrigin, 'x', 'floorwarm', visitors, 1);
    const floor = await webLoad(web.bareOrigin, 'x', 'floor', visitors, visitorMessages);
    const rssMb = mb(platform.peakRss());
    await stopPlatform();
    const strip = ({ messageIds, ...figures }: WebTurnResult) => ({ messages: messageIds.length, ...figures });
    const errors = runs.reduce((n, r) => n + r.errors, 0);
    const exactlyOnce = {
      everyMessageOneDone: runs.every((r) => r.withoutDone === 0 && r.withSeveralDones === 0),
      database: ledger,
      errors,
      holds: runs.every((r) => r.withoutDone === 0 && r.withSeveralDones === 0) && ledger.exactlyOnce && errors === 0,
    };
    return {
      visitors,
      messagesPerVisitor: visitorMessages,
      capacity: strip(capacity),
      paced: { offeredPerSecond: turnRate, ...strip(paced) },
      singleVisitor: strip(alone),
      baseline: { what: 'keep-alive SSE round trip to a bare Fastify route writing accepted, token and done at once, same visitors × messages', ...strip(floor) },
      ratios: { doneP50: paced.done.p50 / floor.done.p50, doneP95: paced.done.p95 / floor.done.p95, firstTokenP50: paced.firstToken.p50 / floor.firstToken.p50 },
      exactlyOnce,
      rssMb,
    };
  };

  try {
    if (only) {
      const part = only === 'ack' ? await ackPhase() : only === 'clients' ? await clientPhase() : only === 'web' ? await webPhase() : await turnPhase();
      console.log(JSON.stringify(part, null, 2));
      return;
    }
    const { project, baselineAck, stored, ackRss } = await ackPhase();
    const { capacity, paced, alone, floor, replay, turnRss } = await turnPhase();
    const whatsapp = whatsappRun ? await whatsappPhase() : undefined;
    const web = webRun ? await webPhase() : undefined;
    const httpClients = clientRounds > 0 ? await clientPhase() : undefined;

    const figures = {
      machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
      mode,
      layout,
      settings: { seconds, openRate, senders, conversations, messagesPerConversation, turnRate, converseConcurrency: concurrency, mergeWindowMs: 0, telegramThrottle: false, replayMessages },
      ack: {
        project,
        baseline: { what: 'bare Fastify, same route, no work', ...baselineAck },
        inboundRowsStored: stored,
        ratios: {
          sustained: project.sustained.perSecond / baselineAck.sustained.perSecond,
          openP99: project.open.p99 / baselineAck.open.p99,
        },
        targets: { sustainedPerSecond: 3000, openP99Ms: 20 },
      },
      turn: {
        capacity,
        paced: { offeredPerSecond: turnRate, ...paced },
        baseline: { what: 'keep-alive round trip to the bare Fastify route, same concurrency', ...floor },
        singleConversation: alone,
        ratios: { p50: paced.p50 / floor.p50, p99: paced.p99 / floor.p99 },
        targets: { p50Ms: 20, p99Ms: 80, turnsPerSecond: 300 },
      },
      replay,
      rssMb: { ackPhase: ackRss, turnPhase: turnRss, peak: Math.max(ackRss, turnRss), target: 400 },
      whatsapp,
      web,
      httpClients: httpClients && { what: `capacity run (closed loop × ${messagesPerConversation}) per HTTP_CLIENT, ${clientRounds} runs each, interleaved`, ...httpClients },
      redisKeysDeleted: redisKeysDeleted.reduce((a, b) => a + b, 0),
    };

    const widths = [46, 12, 12, 10, 10];
    console.log(`mode: ${mode}; ${layout}; ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log();
    console.log('Webhook acknowledgement (workers off)');
    console.log(row(['', 'platform', 'bare', 'ratio', 'target'], widths));
    console.log(row([`sustained, ${senders} senders (updates/s)`, f(project.sustained.perSecond, 0), f(baselineAck.sustained.perSecond, 0), f(figures.ack.ratios.sustained, 2), '≥ 3000'], widths));
    console.log(row([`  latency p50 / p99 (ms)`, `${f(project.sustained.p50)}/${f(project.sustained.p99)}`, `${f(baselineAck.sustained.p50)}/${f(baselineAck.sustained.p99)}`, '', ''], widths));
    console.log(row([`  platform CPU per update (ms, of which kernel)`, `${f(project.sustained.cpuMsPerRequest!, 2)} (${f(project.sustained.systemCpuMsPerRequest!, 2)})`, `${f(baselineAck.sustained.cpuMsPerRequest!, 2)} (${f(baselineAck.sustained.systemCpuMsPerRequest!, 2)})`, '', ''], widths));
    console.log(row([`open loop ${openRate}/s: achieved (updates/s)`, f(project.open.perSecond, 0), f(baselineAck.open.perSecond, 0), '', ''], widths));
    console.log(row([`  latency p50 (ms)`, f(project.open.p50), f(baselineAck.open.p50), f(project.open.p50 / baselineAck.open.p50, 2), ''], widths));
    console.log(row([`  latency p99 (ms)`, f(project.open.p99), f(baselineAck.open.p99), f(figures.ack.ratios.openP99, 2), '≤ 20'], widths));
    console.log(row([`  errors (closed / open)`, `${project.sustained.errors}/${project.open.errors}`, `${baselineAck.sustained.errors}/${baselineAck.open.errors}`, '', ''], widths));
    console.log(`inbound rows stored by the platform: ${stored}`);
    console.log();
    console.log(`Per-turn overhead, webhook → sendMessage (${conversations} conversations, instant model, ${concurrency} converse workers)`);
    console.log(row(['', 'platform', 'floor', 'ratio', 'target'], widths));
    console.log(row([`paced at ${turnRate}/s offered: p50 (ms)`, f(paced.p50), f(floor.p50, 2), f(figures.turn.ratios.p50, 1), '≤ 20'], widths));
    console.log(row([`  p99 (ms)`, f(paced.p99), f(floor.p99, 2), f(figures.turn.ratios.p99, 1), '≤ 80'], widths));
    console.log(row([`  achieved (turns/s)`, f(paced.turnsPerSecond, 0), '', '', ''], widths));
    console.log(row([`capacity, closed loop × ${messagesPerConversation} (turns/s)`, f(capacity.turnsPerSecond, 0), '', '', '≥ 300'], widths));
    console.log(row([`  latency p50 / p99 (ms, mostly queueing)`, `${f(capacity.p50, 0)}/${f(capacity.p99, 0)}`, '', '', ''], widths));
    console.log(row([`  platform CPU per turn (ms, of which kernel)`, `${f(capacity.cpuMsPerTurn!, 1)} (${f(capacity.systemCpuMsPerTurn!, 1)})`, '', '', ''], widths));
    console.log(
      row(
        [
          `  other CPU per turn (ms): PostgreSQL / Redis / load generator + fakes`,
          `${f(capacity.databaseCpuMsPerTurn!, 1)} / ${f(capacity.redisCpuMsPerTurn!, 1)} / ${f(capacity.driverCpuMsPerTurn!, 1)}`,
          '',
          '',
          '',
        ],
        widths,
      ),
    );
    console.log(row(['webhook errors (capacity / paced)', `${capacity.errors}/${paced.errors}`, '', '', ''], widths));
    console.log(`one conversation alone (20 messages): p50 ${f(alone.p50)} ms, p99 ${f(alone.p99)} ms, ${f(alone.turnsPerSecond, 0)} turns/s`);
    if (replay) {
      console.log();
      console.log(
        `Replay: ${replay.messages} messages, ${replay.deliveries - replay.messages} delivered twice: ` +
          `acknowledged in ${f(replay.acknowledgedSeconds)} s, all answered in ${f(replay.answeredSeconds)} s (${f(replay.turnsPerSecond, 0)} turns/s); ` +
          `exactly one reply each: ${replay.exactlyOnce ? 'yes' : `NO (${replay.chatsWithoutReply} without, ${replay.chatsWithSeveralReplies} with several)`}`,
      );
    }
    if (whatsapp) {
      const a = whatsapp.ack;
      console.log();
      console.log('WhatsApp (POST /webhooks/whatsapp, signed Cloud API payloads → fake Graph API)');
      console.log(row(['', 'platform', 'bare', 'ratio', 'target'], widths));
      console.log(row([`ack sustained, ${senders} senders (payloads/s)`, f(a.project.sustained.perSecond, 0), f(a.baseline.sustained.perSecond, 0), f(a.project.sustained.perSecond / a.baseline.sustained.perSecond, 2), '≥ 3000'], widths));
      console.log(row([`ack open loop ${openRate}/s: p99 (ms)`, f(a.project.open.p99), f(a.baseline.open.p99), f(a.project.open.p99 / a.baseline.open.p99, 2), '≤ 20'], widths));
      console.log(row([`turn paced at ${turnRate}/s offered: p50 / p99 (ms)`, `${f(whatsapp.paced.p50)}/${f(whatsapp.paced.p99)}`, `${f(floor.p50, 2)}/${f(floor.p99, 2)}`, '', '≤ 20/80'], widths));
      console.log(row([`capacity, closed loop × ${messagesPerConversation} (turns/s)`, f(whatsapp.capacity.turnsPerSecond, 0), '', '', '≥ 300'], widths));
      console.log(row([`  platform CPU per turn (ms)`, f(whatsapp.capacity.cpuMsPerTurn!, 1), '', '', ''], widths));
      console.log(`one conversation alone (20 messages): p50 ${f(whatsapp.alone.p50)} ms, p99 ${f(whatsapp.alone.p99)} ms; peak RSS ${f(whatsapp.rssMb, 0)} MB`);
      console.log(
        `whatsapp: overhead_p50_ms=${f(whatsapp.paced.p50)} overhead_p99_ms=${f(whatsapp.paced.p99)} turns_per_s=${f(whatsapp.capacity.turnsPerSecond, 0)} ack_p99_ms=${f(a.project.open.p99)}`,
      );
    }
    if (web) {
      const ms = (q: { p50: number; p95: number }) => `${f(q.p50)}/${f(q.p95)}`;
      const once = web.exactlyOnce;
      const db = once.database;
      console.log();
      console.log(`Web chat (POST /public/bots/:botId/messages, server-sent events; ${visitors} visitors, each its own session)`);
      console.log(row(['', 'platform', 'floor', 'ratio', 'target'], widths));
      console.log(row([`paced at ${turnRate}/s offered: first token p50/p95 (ms)`, ms(web.paced.firstToken), ms(web.baseline.firstToken), f(web.ratios.firstTokenP50, 1), ''], widths));
      console.log(row([`  done p50/p95 (ms)`, ms(web.paced.done), ms(web.baseline.done), f(web.ratios.doneP50, 1), '≤ 20/80'], widths));
      console.log(row([`  achieved (turns/s)`, f(web.paced.turnsPerSecond, 0), '', '', ''], widths));
      console.log(row([`capacity, closed loop × ${visitorMessages} (turns/s)`, f(web.capacity.turnsPerSecond, 0), f(web.baseline.turnsPerSecond, 0), '', '≥ 300'], widths));
      console.log(row([`  first token / done p50/p95 (ms, mostly queueing)`, `${ms(web.capacity.firstToken)} / ${ms(web.capacity.done)}`, '', '', ''], widths));
      console.log(row([`  platform CPU per turn (ms, of which kernel)`, `${f(web.capacity.cpuMsPerTurn!, 1)} (${f(web.capacity.systemCpuMsPerTurn!, 1)})`, '', '', ''], widths));
      console.log(
        row([`  other CPU per turn (ms): PostgreSQL / Redis / load generator + fakes`, `${f(web.capacity.databaseCpuMsPerTurn!, 1)} / ${f(web.capacity.redisCpuMsPerTurn!, 1)} / ${f(web.capacity.driverCpuMsPerTurn!, 1)}`, '', '', ''], widths),
      );
      console.log(`one visitor alone (20 messages): first token p50 ${f(web.singleVisitor.firstToken.p50)} ms, done p50 ${f(web.singleVisitor.done.p50)} ms, p95 ${f(web.singleVisitor.done.p95)} ms; peak RSS ${f(web.rssMb, 0)} MB`);
      console.log(
        `exactly once over ${db.expected} messages: one done each ${once.everyMessageOneDone ? 'yes' : 'NO'}; database: ${db.inbound} inbound rows, ${db.turnsOfMessages} turns (${db.turnsInConversations} in their conversations), ` +
          `${db.answered} answered, ${db.ledgerRows} ledger rows, ${db.sent} sent; errors ${once.errors} → ${once.holds ? 'holds' : 'DOES NOT HOLD'}`,
      );
      console.log(
        `web: first_token_p50_ms=${f(web.paced.firstToken.p50)} first_token_p95_ms=${f(web.paced.firstToken.p95)} done_p50_ms=${f(web.paced.done.p50)} done_p95_ms=${f(web.paced.done.p95)} ` +
          `turns_per_s=${f(web.capacity.turnsPerSecond, 0)} cpu_ms_per_turn=${f(web.capacity.cpuMsPerTurn!, 2)} exactly_once=${once.holds ? 'yes' : 'no'}`,
      );
    }
    if (httpClients) {
      const clientWidths = [46, 18, 18, 10];
      const cell = (s: Spread, digits: number) => `${f(s.median, digits)} (${f(s.min, digits)}–${f(s.max, digits)})`;
      console.log();
      console.log(`HTTP client of the SDK calls (HTTP_CLIENT): capacity run, ${clientRounds} runs each, median (range)`);
      console.log(row(['', 'lean', 'fetch', 'lean/fetch'], clientWidths));
      for (const [channel, comparison] of Object.entries(httpClients)) {
        console.log(row([`${channel}: capacity (turns/s)`, cell(comparison.lean.turnsPerSecond, 0), cell(comparison.fetch.turnsPerSecond, 0), f(comparison.ratio.turnsPerSecond, 2)], clientWidths));
        console.log(row([`  platform CPU per turn (ms)`, cell(comparison.lean.cpuMsPerTurn, 2), cell(comparison.fetch.cpuMsPerTurn, 2), f(comparison.ratio.cpuMsPerTurn, 2)], clientWidths));
        console.log(row([`  peak RSS (MB)`, cell(comparison.lean.peakRssMb, 0), cell(comparison.fetch.peakRssMb, 0), f(comparison.ratio.peakRssMb, 2)], clientWidths));
      }
    }
    console.log();
    console.log(`Peak RSS of the platform's process: ${f(figures.rssMb.peak, 0)} MB (ack phase ${f(ackRss, 0)}, turn phase ${f(turnRss, 0)}; target ≤ 400)`);
    if (redis) console.log(`Redis keys of this run deleted: ${figures.redisKeysDeleted}`);
    console.log(`saved ${saveResults('converse', figures)}`);
    console.log(`overhead_p50_ms=${f(paced.p50)} overhead_p99_ms=${f(paced.p99)} turns_per_s=${f(capacity.turnsPerSecond, 0)} ack_p99_ms=${f(project.open.p99)} http_client_cpu_ratio=${f(httpClients?.telegram.ratio.cpuMsPerTurn ?? Number.NaN, 3)}` +
        (web ? ` web_done_p50_ms=${f(web.paced.done.p50)} web_done_p95_ms=${f(web.paced.done.p95)} web_first_token_p50_ms=${f(web.paced.firstToken.p50)} web_turns_per_s=${f(web.capacity.turnsPerSecond, 0)} web_exactly_once=${web.exactlyOnce.holds ? 'yes' : 'no'}` : ''),
    );
  } finally {
    if (platform) await stopPlatform().catch(() => platform?.close());
    await telegram.close();
    await ollama.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
