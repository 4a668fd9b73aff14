/**
 * Hostile uploads against webhook acknowledgement. The platform runs in its own process
 * (bench/converse-platform.ts) in the default mode: API and workers together (ROLE=all), so the
 * process answering Telegram's webhooks is the one ingesting documents. This process is Telegram
 * and Ollama (fakes) and the load generator.
 *
 * 1. Quiet: signed Telegram updates at a fixed offered rate (open loop, default 1,000/s) for
 *    `--seconds`: acknowledgement p50/p99/max and the rate answered. This is the baseline.
 * 2. Hostile: the same load while a creator uploads, all at once, a PDF of 100,000 empty pages,
 *    a PDF of 5,000 pages, a Word document of 3 million paragraphs, a zip bomb (.docx unpacking to
 *    1 GB), deeply nested HTML and a deeply nested Word document, with the default limits. The load
 *    runs until every upload has settled (at least `--seconds`, at most `--max-seconds`); each
 *    upload's outcome, reason and time to settle are reported.
 * Per phase: the platform's event-loop delay (a stall shows as its max), and RSS of the platform's
 * process (peak) and of this process.
 *
 *   npm run bench:hostile -- [--rate 1000] [--seconds 10] [--max-seconds 120] [--redis] [--parse-processes n]
 *
 * The last line is `quiet_p99_ms=… hostile_p99_ms=… hostile_max_ms=… quiet_rate=… hostile_rate=… hostile_loop_max_ms=… settled=n/n`.
 */
import { Pool } from 'undici';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { startFakeTelegram } from '../test/support/fake-telegram.js';
import { deeplyNestedDocx, deeplyNestedHtml, manyPagesPdf, manyParagraphsDocx, zipBombDocx } from '../test/support/hostile-documents.js';
import { multipart } from '../test/support/multipart.js';
import { textUpdate } from '../test/support/telegram-updates.js';
import { freePort } from '../test/support/telegram-e2e.js';
import { percentile, saveResults } from './bench-report.js';
import { openLoop as sendAtRate } from './open-loop.js';
import { flag, forkPlatform } from './platform-process.js';

const rate = flag('rate', 1000);
const seconds = flag('seconds', 10);
const maxSeconds = flag('max-seconds', 120);
const redis = process.argv.includes('--redis');
// Reading processes of the platform (INGEST_PARSE_PROCESSES); the platform's default when absent.
const parseProcesses = flag('parse-processes', 0);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

// --- load -------------------------------------------------------------------------------------------

interface Target {
  origin: string;
  path: string;
  headers: Record<string, string>;
}

let nextUpdateId = 1_000_000;
// One parsed update, changed per request.
const template = textUpdate('How do I keep a habit going when I travel?', { updateId: 1, chatId: 1 }) as unknown as {
  update_id: number;
  message: { message_id: number; chat: { id: number }; from: { id: number } };
};

function update(chatId: number): string {
  template.update_id = nextUpdateId;
  template.message.message_id = nextUpdateId++;
  template.message.chat.id = chatId;
  template.message.from.id = chatId;
  return JSON.stringify(template);
}

/** The platform's event-loop delay over a phase, in milliseconds: how long a ready callback waited. */
type LoopDelay = { p50: number; p99: number; max: number };

interface LoadResult {
  offered: number;
  answered: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

/** Telegram updates at the offered rate until `done(elapsedMs)` (bench/open-loop.ts). */
async function openLoop(target: Target, done: (elapsedMs: number) => boolean): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: 256, pipelining: 1 });
  const send = async (chat: number) => {
    const response = await pool.request({ method: 'POST', path: target.path, headers: target.headers, body: update(chat) });
    await response.body.dump();
    return response.statusCode === 200;
  };
  const run = await sendAtRate(rate, send, (elapsed) => !done(elapsed));
  await pool.close();
  return {
    offered: run.offered,
    answered: run.latencies.length,
    errors: run.errors,
    perSecond: run.latencies.length / (run.elapsedMs / 1000),
    p50: percentile(run.latencies, 0.5),
    p99: percentile(run.latencies, 0.99),
    max: run.latencies.reduce((a, b) => Math.max(a, b), 0),
  };
}

/** Samples the platform's RSS every 200 ms while `work` runs; the highest sample. */
async function sampledRss<T>(rss: () => number, work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peak = rss();
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 200);
  try {
    return { result: await work(), peakRss: Math.max(peak, rss()) };
  } finally {
    clearInterval(sampler);
  }
}

// --- a creator uploading over HTTP ------------------------------------------------------------------

async function creatorOf(origin: string) {
  const signup = await fetch(`${origin}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `hostile-${Date.now()}@example.test`, password: 'correct horse battery staple', name: 'Hostile' }),
  });
  const { accessToken } = (await signup.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };
  const bot = await fetch(`${origin}/v1/bots`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Uploads' }) });
  const { id: botId } = (await bot.json()) as { id: string };
  return { auth, botId };
}

interface Upload {
  name: string;
  type: string;
  bytes: Buffer;
}

function hostileUploads(): Upload[] {
  return [
    { name: 'pages-100000.pdf', type: 'application/pdf', bytes: manyPagesPdf(100_000) },
    { name: 'pages-5000.pdf', type: 'application/pdf', bytes: manyPagesPdf(5_000) },
    { name: 'paragraphs-3000000.docx', type: DOCX, bytes: manyParagraphsDocx(3_000_000) },
    { name: 'bomb-1GB.docx', type: DOCX, bytes: zipBombDocx(1024 * 1024 * 1024) },
    { name: 'nested.html', type: 'text/html', bytes: deeplyNestedHtml(100_000) },
    { name: 'nested.docx', type: DOCX, bytes: deeplyNestedDocx(100_000) },
  ];
}

interface Outcome {
  name: string;
  sizeBytes: number;
  status: string;
  error?: string;
  settledAfterS?: number;
}

async function main() {
  const ollama = await startFakeOllama({ dims: 768 });
  const telegram = await startFakeTelegram();
  const platform = await forkPlatform();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const benchRss: number[] = [];
  try {
    await platform.run({
      cmd: 'start',
      env: {
        OLLAMA_HOST: ollama.url,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_THROTTLE: 'false',
        PUBLIC_URL: origin,
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
        ...(redis ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {}),
        ...(parseProcesses ? { INGEST_PARSE_PROCESSES: String(parseProcesses) } : {}),
      },
      workers: true,
      port,
    });
    const fakeBot = telegram.addBot();
    await platform.run({ cmd: 'connect', token: fakeBot.token, settings: { mergeWindowMs: 0 }, ingest: false });
    const url = new URL(fakeBot.webhook!.url);
    const target: Target = {
      origin: url.origin,
      path: url.pathname,
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': fakeBot.webhook!.secretToken! },
    };
    const creator = await creatorOf(origin);
    // Built before measuring: generating them costs this process, not the platform.
    const uploads = hostileUploads();
    const startRss = platform.rss();

    await openLoop(target, (ms) => ms >= 1000); // warm-up, thrown away
    await platform.run({ cmd: 'loop-delay' });
    const quiet = await sampledRss(platform.rss, () => openLoop(target, (ms) => ms >= seconds * 1000));
    const quietLoop = (await platform.run({ cmd: 'loop-delay' })) as LoopDelay;
    benchRss.push(process.memoryUsage().rss);
    const quietPeakHwm = platform.peakRss();

    const outcomes: Outcome[] = [];
    let settled = 0;
    const hostileStarted = performance.now();
    const watch = (async () => {
      const ids = await Promise.all(
        uploads.map(async (upload) => {
          const body = multipart(upload);
          const response = await fetch(`${origin}/v1/bots/${creator.botId}/documents`, {
            method: 'POST',
            headers: { ...creator.auth, ...body.headers },
            body: new Uint8Array(body.payload),
          });
          const accepted = (await response.json()) as { id?: string; error?: { message: string } };
          return { upload, id: accepted.id, refused: accepted.error?.message };
        }),
      );
      const open = new Map(ids.filter((i) => i.id).map((i) => [i.id!, i.upload]));
      for (const refused of ids.filter((i) => !i.id)) {
        outcomes.push({ name: refused.upload.name, sizeBytes: refused.upload.bytes.length, status: 'refused', error: refused.refused ?? 'refused' });
        settled++;
      }
      while (open.size && performance.now() - hostileStarted < maxSeconds * 1000 && platform.alive()) {
        for (const [id, upload] of open) {
          const document = (await (await fetch(`${origin}/v1/bots/${creator.botId}/documents/${id}`, { headers: creator.auth })).json()) as Outcome;
          if (document.status !== 'ready' && document.status !== 'failed') continue;
          outcomes.push({
            name: upload.name,
            sizeBytes: upload.bytes.length,
            status: document.status,
            ...(document.error ? { error: document.error } : {}),
            settledAfterS: Math.round((performance.now() - hostileStarted) / 100) / 10,
          });
          open.delete(id);
          settled++;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      for (const [, upload] of open) outcomes.push({ name: upload.name, sizeBytes: upload.bytes.length, status: platform.alive() ? 'unsettled' : 'process died' });
    })();
    let watching = true;
    void watch.finally(() => (watching = false));
    const hostile = await sampledRss(platform.rss, () =>
      sampledRss(platform.childrenRss, () => openLoop(target, (ms) => ms >= seconds * 1000 && !watching)),
    );
    const readersPeakRss = hostile.result.peakRss;
    await watch;
    const hostileLoop = platform.alive() ? ((await platform.run({ cmd: 'loop-delay' })) as LoopDelay) : undefined;
    benchRss.push(process.memoryUsage().rss);

    const figures = {
      offeredRatePerS: rate,
      mode: redis ? 'scale-out (BullMQ on Redis)' : 'small server (BullMQ on PostgreSQL)',
      layout: 'platform (ROLE=all: API and workers) in its own process',
      parseProcesses: parseProcesses || 'default',
      quiet: { ...quiet.result, eventLoopDelayMs: quietLoop, platformPeakRssMb: mb(quiet.peakRss) },
      hostile: {
        ...hostile.result.result,
        eventLoopDelayMs: hostileLoop,
        platformPeakRssMb: mb(hostile.peakRss),
        readerProcessesPeakRssMb: mb(readersPeakRss),
        p99VersusQuiet: Math.round((hostile.result.result.p99 / quiet.result.p99) * 100) / 100,
        seconds: Math.round((performance.now() - hostileStarted) / 100) / 10,
      },
      uploads: outcomes,
      platformRssMb: { start: mb(startRss), highWaterAfterQuiet: mb(quietPeakHwm), highWaterAfterHostile: mb(platform.peakRss()), alive: platform.alive() },
      benchProcessRssMb: benchRss.map(mb),
    };
    const table = (name: string, r: LoadResult, rss: number, loop: LoopDelay | undefined) =>
      `${name.padEnd(8)} ${r.answered.toString().padStart(7)} acks of ${r.offered.toString().padStart(7)}  ${r.perSecond.toFixed(0).padStart(5)}/s  p50 ${r.p50.toFixed(1).padStart(7)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms  max ${r.max.toFixed(0).padStart(6)} ms  errors ${r.errors}  event loop delay p99 ${loop?.p99 ?? '-'} / max ${loop?.max ?? '-'} ms  platform RSS peak ${mb(rss)} MB`;
    console.log(`hostile uploads vs Telegram webhook acks at ${rate}/s offered — ${figures.mode}; ${figures.layout}`);
    console.log(table('quiet', quiet.result, quiet.peakRss, quietLoop));
    console.log(table('hostile', hostile.result.result, hostile.peakRss, hostileLoop));
    for (const o of outcomes) console.log(`  ${o.name.padEnd(24)} ${mb(o.sizeBytes).toString().padStart(6)} MB  ${o.status.padEnd(7)} ${o.settledAfterS ?? '-'} s  ${o.error ?? ''}`);
    console.log(`document readers (the platform's child processes) RSS peak ${mb(readersPeakRss)} MB; hostile p99 / quiet p99 = ${figures.hostile.p99VersusQuiet}`);
    console.log(`platform alive: ${platform.alive()}; bench process RSS ${figures.benchProcessRssMb.join(' / ')} MB`);
    console.log(`saved ${saveResults('hostile', figures)}`);
    console.log(
      `quiet_p99_ms=${quiet.result.p99.toFixed(1)} hostile_p99_ms=${hostile.result.result.p99.toFixed(1)} hostile_max_ms=${hostile.result.result.max.toFixed(0)} quiet_rate=${quiet.result.perSecond.toFixed(0)} hostile_rate=${hostile.result.result.perSecond.toFixed(0)} hostile_loop_max_ms=${hostileLoop?.max ?? 'n/a'} p99_ratio=${figures.hostile.p99VersusQuiet} settled=${settled}/${uploads.length}`,
    );
  } finally {
    if (platform.alive()) await platform.run({ cmd: 'stop' }).catch(() => undefined);
    await platform.close();
    await telegram.close();
    await ollama.close();
  }
}

await main();
