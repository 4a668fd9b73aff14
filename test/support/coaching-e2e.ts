import { startFakeTelegram, type FakeTelegram } from './fake-telegram.js';
import { connectedBot, freePort, type ConnectedBot } from './telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from './test-platform.js';

/** A clock that tests move forward: the platform's time runs ahead of the real one by every `travel`. */
export interface TravellingClock {
  clock: () => Date;
  travel(ms: number): void;
}

/** A travelling clock starting now, or at `start`. */
export function travellingClock(start?: Date): TravellingClock {
  let offsetMs = start ? start.getTime() - Date.now() : 0;
  return {
    clock: () => new Date(Date.now() + offsetMs),
    travel(ms) {
      offsetMs += ms;
    },
  };
}

/**
 * The next 12:00 UTC: contacts without a zone are on UTC, so the default quiet hours (21:00–08:00)
 * are predictable from there.
 */
export function nextNoonUtc(): Date {
  const noon = new Date();
  noon.setUTCHours(12, 0, 0, 0);
  if (noon.getTime() < Date.now()) noon.setTime(noon.getTime() + 24 * 3600_000);
  return noon;
}

export interface CoachingOnTelegram {
  telegram: FakeTelegram;
  platform: TestPlatform;
  bot: ConnectedBot;
  stop(): Promise<void>;
}

/**
 * A platform on `clock`, listening for webhooks, with a bot connected to the fake Telegram Bot API
 * (no merge window) and the reconciler passing often; `env` adds configuration (e.g. REDIS_URL).
 */
export async function coachingOnTelegram(clock: () => Date, env: Record<string, string> = {}): Promise<CoachingOnTelegram> {
  const telegram = await startFakeTelegram();
  const port = await freePort();
  const platform = await startTestPlatform(
    {
      TELEGRAM_API_ROOT: telegram.apiRoot,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TELEGRAM_THROTTLE: 'false',
      RECONCILE_INTERVAL_MS: '200',
      RECONCILE_GRACE_MS: '300',
      ...env,
    },
    { clock },
  );
  await platform.app.listen({ host: '127.0.0.1', port });
  const bot = await connectedBot(platform, telegram, { ingest: false, settings: { mergeWindowMs: 0 } });
  return {
    telegram,
    platform,
    bot,
    async stop() {
      await platform.stop();
      await telegram.close();
    },
  };
}
