/**
 * The process under test for bench/converse.bench.ts: the real platform (listening on 127.0.0.1)
 * and, for the baseline, a bare Fastify app with the same route doing no work. The benchmark drives
 * it over IPC (`process.send`) so the load generator and the fake Telegram and Ollama servers run in
 * another process, as Telegram and Ollama do in production, and what this process uses (CPU, RSS)
 * is the platform's alone. `--one-process` in the benchmark runs the same commands in its own process.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { uploadDocument, waitUntilReady } from '../scripts/eval-retrieval.js';
import { createBot, signUpCreator } from '../test/support/creator-session.js';
import { GUIDE_TITLE, guideMarkdown } from '../test/support/telegram-e2e.js';
import { flushQueueKeys } from '../test/support/redis-keys.js';
import { startTestPlatform, type TestPlatform } from '../test/support/test-platform.js';

export type PlatformCommand =
  | { cmd: 'start'; env: Record<string, string>; workers: boolean; port: number }
  | { cmd: 'connect'; token: string; settings: Record<string, unknown>; ingest: boolean }
  | { cmd: 'connect-whatsapp'; phoneNumberId: string; accessToken: string; appSecret: string; settings: Record<string, unknown>; ingest: boolean }
  /** A bot with its web chat published (visitors write to /public/bots/:botId/messages). */
  | { cmd: 'connect-web'; settings: Record<string, unknown>; ingest: boolean }
  | { cmd: 'bare' }
  | { cmd: 'sql'; text: string }
  | { cmd: 'profile'; start: true }
  | { cmd: 'profile'; stop: string }
  | { cmd: 'stop' }
  /** Event-loop delay of this process since the previous call (milliseconds), then starts afresh. */
  | { cmd: 'loop-delay' };

/** Runs the commands of one platform's life: start, connect a bot, query, stop. */
export function platformCommands() {
  let platform: TestPlatform | undefined;
  let bare: FastifyInstance | undefined;
  let profiler: Session | undefined;
  let loopDelay: IntervalHistogram | undefined;

  return async function run(command: PlatformCommand): Promise<unknown> {
    switch (command.cmd) {
      case 'start': {
        platform = await startTestPlatform(command.env, { workers: command.workers });
        await platform.app.listen({ host: '127.0.0.1', port: command.port });
        return { queuePrefix: platform.config.QUEUE_PREFIX };
      }
      case 'connect':
      case 'connect-whatsapp':
      case 'connect-web': {
        const app = platform!.app;
        const session = await signUpCreator(app);
        const bot = await createBot(app, session.auth, { name: 'Maya', language: 'en', settings: command.settings });
        if (command.ingest) {
          await uploadDocument(app, session.auth, bot.id, { title: GUIDE_TITLE, filename: 'coaching-guide.md', bytes: guideMarkdown(), mediaType: 'text/markdown' });
          await waitUntilReady(app, session.auth, bot.id, 1);
        }
        const [channel, payload] =
          command.cmd === 'connect'
            ? ['telegram', { token: command.token }]
            : command.cmd === 'connect-web'
              ? ['web', {}]
              : [
                  'whatsapp',
                  { phoneNumberId: command.phoneNumberId, wabaId: '102030405060708', accessToken: command.accessToken, appSecret: command.appSecret, verifyToken: 'bench-verify-token' },
                ];
        const response = await app.inject({ method: 'PUT', url: `/v1/bots/${bot.id}/channels/${channel}`, headers: session.auth, payload });
        if (response.statusCode !== 200) throw new Error(`connecting ${channel} failed: ${response.statusCode} ${response.body}`);
        return { botId: bot.id };
      }
      case 'bare': {
        bare = Fastify({ logger: false });
        bare.post('/webhooks/telegram/:botId', async () => ({ ok: true }));
        bare.post('/webhooks/whatsapp', async () => ({ ok: true }));
        // The web chat's floor: the same event stream (accepted, one token, done) written at once.
        bare.post('/public/bots/:botId/messages', (request, reply) => {
          const { messageId } = request.body as { messageId: string };
          reply.hijack();
          reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' });
          reply.raw.write(`event: accepted\ndata: ${JSON.stringify({ messageId })}\n\n`);
          reply.raw.write(`event: token\ndata: ${JSON.stringify({ text: 'Hello', offset: 0 })}\n\n`);
          reply.raw.end(`event: done\ndata: ${JSON.stringify({ reply: 'Hello', sources: [] })}\n\n`);
        });
        await bare.listen({ host: '127.0.0.1', port: 0 });
        return { origin: `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}` };
      }
      case 'sql': {
        const { rows } = await platform!.infrastructure.database.pool.query(command.text);
        return rows;
      }
      case 'profile': {
        // A CPU profile of this process between the two commands (BENCH_PROFILE_DIR in the benchmark).
        if ('start' in command) {
          profiler = new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.start');
          return {};
        }
        const { profile } = await profiler!.post('Profiler.stop');
        profiler!.disconnect();
        profiler = undefined;
        writeFileSync(command.stop, JSON.stringify(profile));
        return { file: command.stop };
      }
      case 'loop-delay': {
        const ms = (ns: number) => Math.round(ns / 1e4) / 100;
        const figures = loopDelay ? { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } : undefined;
        loopDelay?.disable();
        loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        return figures;
      }
      case 'stop': {
        let redisKeysDeleted = 0;
        if (platform) {
          const { REDIS_URL, QUEUE_PREFIX } = platform.config;
          await platform.stop();
          // Queues and rate-limit counters of this run live under its unique prefix.
          if (REDIS_URL) redisKeysDeleted = await flushQueueKeys(QUEUE_PREFIX, REDIS_URL);
        }
        await bare?.close();
        platform = undefined;
        bare = undefined;
        return { redisKeysDeleted };
      }
    }
  };
}

// As a child process: one command per message, answered with `{ id, result }` or `{ id, error }`.
if (process.argv.includes('--platform-child') && process.send) {
  const run = platformCommands();
  process.on('message', (message: { id: number; command: PlatformCommand }) => {
    run(message.command).then(
      (result) => process.send!({ id: message.id, result }),
      (err: unknown) => process.send!({ id: message.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  // A normal exit, so flags such as --cpu-prof write their output.
  process.on('SIGTERM', () => process.exit(0));
  process.send({ ready: true });
}
