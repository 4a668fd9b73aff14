/**
 * Conversation path under load, on one process: the platform listening on 127.0.0.1, a load
 * generator (undici, keep-alive) in the same process sending real signed Telegram updates, the fake
 * Bot API and a fake Ollama that answers at once (no token delay), so what is left is our overhead.
 *
 * 1. Webhook acknowledgement, workers off (only the webhook path: verify → store → enqueue → 200):
 *    highest sustained rate (closed loop, 64 senders) and p50/p99 at an offered open-loop 1,000/s.
 *    Baseline in the same run: a bare Fastify app with the same route doing no work, same load.
 * 2. Platform overhead per turn, workers on: webhook sent → sendMessage received by the fake
 *    Telegram, 100 conversations (distinct chats) × 5 messages, each waiting for its reply.
 *    Merge window 0 (bot setting), TELEGRAM_THROTTLE=false. Baseline: an HTTP round trip to the
 *    bare Fastify route, the floor any webhook → reply path pays.
 * 3. Peak RSS of the process, sampled every 100 ms.
 *
 *   npm run bench:converse -- [--redis] [--seconds 5] [--rate 1000] [--senders 64]
 *                             [--conversations 100] [--messages 5] [--concurrency 16]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { FakeTelegram } from '../test/support/fake-telegram.js';
import { textUpdate } from '../test/support/telegram-updates.js';
import { connectedBot, freePort, type ConnectedBot } from '../test/support/telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from '../test/support/test-platform.js';
import { percentile, saveResults } from './bench-report.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) || fallback : fallback;
}

const redis = process.argv.includes('--redis');
const seconds = flag('seconds', 5);
const openRate = flag('rate', 1000);
const senders = flag('senders', 64);
const conversations = flag('conversations', 100);
const messagesPerConversation = flag('messages', 5);
const concurrency = flag('concurrency', 16);
const REDIS_URL = 'redis://127.0.0.1:6379';

// --- memory -------------------------------------------------------------------------------------

const rss = { peak: 0, phase: 0 };
const sampler = setInterval(() => {
  const now = process.memoryUsage().rss;
  rss.peak = Math.max(rss.peak, now);
  rss.phase = Math.max(rss.phase, now);
}, 100);
const mb = (bytes: number) => bytes / 1024 / 1024;
function phasePeak(): number {
  const peak = Math.max(rss.phase, process.memoryUsage().rss);
  rss.phase = 0;
  return mb(peak);
}

// --- load generation ----------------------------------------------------------------------------

interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

let nextUpdateId = 1_000_000;
// One parsed fixture, mutated per request: loading a fresh copy each time would measure the loader.
const template = textUpdate('How do I keep a habit going when I travel?', { updateId: 1, chatId: 1 }) as unknown as {
  update_id: number;
  message: { message_id: number; chat: { id: number }; from: { id: number }; text: string };
};

function body(chatId: number, text?: string): string {
  const id = nextUpdateId++;
  template.update_id = id;
  template.message.message_id = id;
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
  const response = await pool.request({ method: 'POST', path: target.path, headers: target.headers, body: body(chatId) });
  await response.body.dump();
  return response.statusCode === 200;
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

/**
 * Sends at `rate` per second regardless of how fast answers come back; latency counts from the
 * moment each request was due, so a stalled server cannot hide its queue (no coordinated omission).
 */
async function openLoop(target: Target, rate: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: 256, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const total = Math.round((rate * durationMs) / 1000);
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const scheduled = started + (sent * 1000) / rate;
      const chat = 200_000 + (sent % 5000);
      sent++;
      const request: Promise<void> = post(pool, target, chat)
        .catch(() => false)
        .then((ok) => {
          if (ok) latencies.push(performance.now() - scheduled);
          else errors++;
          inflight.delete(request);
        });
      inflight.add(request);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - started;
  await pool.close();
  return summarise(latencies, errors, elapsed);
}

/** Closed loop, then open loop, after a one-second warm-up that is thrown away. */
async function ackLoad(target: Target) {
  await closedLoop(target, 1000);
  const sustained = await closedLoop(target, seconds * 1000);
  const open = await openLoop(target, openRate, seconds * 1000);
  return { sustained, open };
}

// --- baseline -----------------------------------------------------------------------------------

async function startBareFastify() {
  const app = Fastify({ logger: false });
  app.post('/webhooks/telegram/:botId', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, origin: `http://127.0.0.1:${port}` };
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
          const waiter = waiters.get(chatId);
          if (waiter) {
            waiters.delete(chatId);
            waiter(call.at);
          }
        }
      });
  });
  /** Resolves with the receipt time of the chat's next sendMessage. */
  const nextReply = (chatId: number, timeoutMs = 30_000) =>
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
  return { fake, nextReply };
}

// --- platform -------------------------------------------------------------------------------------

async function listeningPlatform(env: Record<string, string>, workers: boolean, telegram: FakeTelegram, ingest: boolean) {
  const port = await freePort();
  const platform = await startTestPlatform(
    { ...env, TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: `http://127.0.0.1:${port}`, ...(redis ? { REDIS_URL } : {}) },
    { workers },
  );
  await platform.app.listen({ host: '127.0.0.1', port });
  const bot = await connectedBot(platform, telegram, { settings: { mergeWindowMs: 0 }, ingest });
  return { platform, bot, target: targetOf(bot) };
}

function targetOf(bot: ConnectedBot): Target {
  const url = new URL(bot.fakeBot.webhook!.url);
  return {
    origin: url.origin,
    path: url.pathname,
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': bot.fakeBot.webhook!.secretToken! },
  };
}

/** `conversations` chats, each sending `messages` texts one after another, each waiting for its reply. */
async function conversationLoad(target: Target, nextReply: (chatId: number) => Promise<number>, firstChat: number, count: number, messages: number) {
  const pool = new Pool(target.origin, { connections: count, pipelining: 1 });
  const overheads: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const chatId = firstChat + i;
      for (let m = 0; m < messages; m++) {
        const reply = nextReply(chatId);
        const sentAt = performance.now();
        const response = await pool.request({ method: 'POST', path: target.path, headers: target.headers, body: body(chatId, `Question ${m + 1}: how do I keep a habit going?`) });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
        overheads.push((await reply) - sentAt);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await pool.close();
  return { turns: overheads.length, errors, seconds: elapsed / 1000, turnsPerSecond: overheads.length / (elapsed / 1000), p50: percentile(overheads, 0.5), p99: percentile(overheads, 0.99), max: overheads.reduce((a, b) => Math.max(a, b), 0) };
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

// --- report ---------------------------------------------------------------------------------------

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

async function main() {
  const mode = redis ? 'scale-out (BullMQ on Redis)' : 'small server (BullMQ on PostgreSQL)';
  const ollama = await startFakeOllama({ dims: 768 });
  const { fake: telegram, nextReply } = await startObservedTelegram();
  const bare = await startBareFastify();
  const common = { OLLAMA_HOST: ollama.url, TELEGRAM_THROTTLE: 'false', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' };
  let platform: TestPlatform | undefined;
  try {
    // 1. acknowledgement, workers off.
    phasePeak();
    const ack = await listeningPlatform(common, false, telegram, false);
    platform = ack.platform;
    const project = await ackLoad(ack.target);
    const baselineAck = await ackLoad({ ...ack.target, origin: bare.origin });
    const { rows } = await platform.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM inbound_messages');
    const stored = Number(rows[0]?.n ?? 0);
    await platform.stop();
    platform = undefined;
    const ackRss = phasePeak();

    // 2. per-turn overhead, workers on.
    const turnEnv = { ...common, CONVERSE_CONCURRENCY: String(concurrency), CONVERSE_PER_CREATOR: String(concurrency) };
    const turn = await listeningPlatform(turnEnv, true, telegram, true);
    platform = turn.platform;
    await conversationLoad(turn.target, nextReply, 9_000, 10, 2); // warm-up, discarded
    const overhead = await conversationLoad(turn.target, nextReply, 10_000, conversations, messagesPerConversation);
    // One conversation alone: the overhead without queueing behind other chats.
    const alone = await conversationLoad(turn.target, nextReply, 20_000, 1, 20);
    const floor = await roundTripFloor(bare.origin, messagesPerConversation);
    await platform.stop();
    platform = undefined;
    const turnRss = phasePeak();

    const figures = {
      machine: { cpus: os.cpus().length, node: process.version },
      mode,
      settings: { seconds, openRate, senders, conversations, messagesPerConversation, converseConcurrency: concurrency, mergeWindowMs: 0, telegramThrottle: false },
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
        project: overhead,
        baseline: { what: 'keep-alive round trip to the bare Fastify route, same concurrency', ...floor },
        singleConversation: alone,
        ratios: { p50: overhead.p50 / floor.p50, p99: overhead.p99 / floor.p99 },
        targets: { p50Ms: 20, p99Ms: 80, turnsPerSecond: 300 },
      },
      rssMb: { peak: mb(rss.peak), ackPhase: ackRss, turnPhase: turnRss, target: 400 },
    };

    const widths = [44, 12, 12, 10, 10];
    console.log(`mode: ${mode}; ${os.cpus().length} cores, node ${process.version}`);
    console.log();
    console.log('Webhook acknowledgement (workers off)');
    console.log(row(['', 'platform', 'bare', 'ratio', 'target'], widths));
    console.log(row([`sustained, ${senders} senders (updates/s)`, f(project.sustained.perSecond, 0), f(baselineAck.sustained.perSecond, 0), f(figures.ack.ratios.sustained, 2), '≥ 3000'], widths));
    console.log(row([`  latency p50 / p99 (ms)`, `${f(project.sustained.p50)}/${f(project.sustained.p99)}`, `${f(baselineAck.sustained.p50)}/${f(baselineAck.sustained.p99)}`, '', ''], widths));
    console.log(row([`open loop ${openRate}/s: achieved (updates/s)`, f(project.open.perSecond, 0), f(baselineAck.open.perSecond, 0), '', ''], widths));
    console.log(row([`  latency p50 (ms)`, f(project.open.p50), f(baselineAck.open.p50), f(project.open.p50 / baselineAck.open.p50, 2), ''], widths));
    console.log(row([`  latency p99 (ms)`, f(project.open.p99), f(baselineAck.open.p99), f(figures.ack.ratios.openP99, 2), '≤ 20'], widths));
    console.log(row([`  errors (closed / open)`, `${project.sustained.errors}/${project.open.errors}`, `${baselineAck.sustained.errors}/${baselineAck.open.errors}`, '', ''], widths));
    console.log(`inbound rows stored by the platform: ${stored}`);
    console.log();
    console.log(`Per-turn overhead, webhook → sendMessage (${conversations} conversations × ${messagesPerConversation}, instant model, ${concurrency} converse workers)`);
    console.log(row(['', 'platform', 'floor', 'ratio', 'target'], widths));
    console.log(row(['p50 (ms)', f(overhead.p50), f(floor.p50, 2), f(figures.turn.ratios.p50, 1), '≤ 20'], widths));
    console.log(row(['p99 (ms)', f(overhead.p99), f(floor.p99, 2), f(figures.turn.ratios.p99, 1), '≤ 80'], widths));
    console.log(row(['max (ms)', f(overhead.max), '', '', ''], widths));
    console.log(row(['turns/s', f(overhead.turnsPerSecond, 0), '', '', '≥ 300'], widths));
    console.log(row(['webhook errors', String(overhead.errors), '', '', ''], widths));
    console.log(`one conversation alone (20 messages): p50 ${f(alone.p50)} ms, p99 ${f(alone.p99)} ms, ${f(alone.turnsPerSecond, 0)} turns/s`);
    console.log();
    console.log(`Peak RSS: ${f(figures.rssMb.peak, 0)} MB (ack phase ${f(ackRss, 0)}, turn phase ${f(turnRss, 0)}; target ≤ 400)`);
    console.log(`saved ${saveResults('converse', figures)}`);
    console.log(`overhead_p50_ms=${f(overhead.p50)} overhead_p99_ms=${f(overhead.p99)} turns_per_s=${f(overhead.turnsPerSecond, 0)} ack_p99_ms=${f(project.open.p99)}`);
  } finally {
    clearInterval(sampler);
    await platform?.stop();
    await bare.app.close();
    await telegram.close();
    await ollama.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
