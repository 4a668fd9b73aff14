import { apiThrottler, type APIThrottlerOptions } from '@grammyjs/transformer-throttler';
import { Api, GrammyError, HttpError, type ApiClientOptions, type Transformer } from 'grammy';
import type { ApiError } from 'grammy/types';
import { undiciFetch } from '../../src/http-client/undici-fetch.js';
import { retryWithBackoff } from '../../src/retry/retry.js';
import { ChannelAuthError, ChannelRequestError, RecipientBlockedError, type SharedSendPace } from '../../src/conversation/channel.ports.js';
import { ALLOWED_UPDATES } from './telegram.inbound.js';

export interface TelegramApiOptions {
  /** Bot API root (TELEGRAM_API_ROOT): api.telegram.org, a local Bot API server or a test fake. */
  apiRoot: string;
  /**
   * Outgoing rate limits per bot. Defaults to Telegram's published limits: about 30 messages a
   * second overall, 1 a second per private chat, 20 a minute per group. `false` turns throttling off.
   */
  throttle?: APIThrottlerOptions | false;
  /** Longest `retry_after` we wait for before giving up and letting the caller reschedule; also the longest back-off. */
  maxRetryDelaySeconds?: number;
  /** Retries after a 429, a 5xx or a network failure, all counted together. */
  maxRetryAttempts?: number;
  /** Per-request timeout; grammY's default of 500 s would hold a worker far too long. */
  timeoutSeconds?: number;
  /** First pause before retrying a network failure; doubles on each attempt. */
  networkRetryDelayMs?: number;
  /**
   * First pause before retrying a 5xx; doubles on each attempt. Default 3 s: a 5xx means overload on
   * Telegram's side, which takes longer to pass than a dropped connection.
   */
  serverErrorRetryDelayMs?: number;
  /** The fetch underneath (HTTP_CLIENT); the lean one of src/http-client unless given. */
  fetch?: typeof fetch;
  /**
   * The bot's pace shared with the other processes sending for it (worker processes side by side);
   * with throttling on, each call also takes the bot's next shared slot. `key` names the bot.
   */
  sharedPace?: { pace: SharedSendPace; key: string; onError?(error: unknown): void };
}

interface RetryDelays {
  retries: number;
  networkDelayMs: number;
  serverErrorDelayMs: number;
  maxDelayMs: number;
}

/** A Bot API answer worth asking again (flood control or a 5xx); carried through the retries, handed back to grammY if it persists. */
class RepeatableAnswer extends Error {
  constructor(readonly answer: ApiError) {
    super(answer.description);
  }
}

/**
 * Repeats a Bot API call through the shared retry helper: network failures after a doubling pause,
 * a 429 after exactly its `retry_after` (one longer than `maxDelayMs` is handed back at once, so the
 * caller reschedules), a 5xx after a longer doubling pause. One budget of `retries` covers all three.
 */
function retrying({ retries, networkDelayMs, serverErrorDelayMs, maxDelayMs }: RetryDelays): Transformer {
  return async (prev, method, payload, grammySignal) => {
    // grammY's Node build types signals with the abort-controller polyfill; the native one works at run time.
    const signal = grammySignal as unknown as AbortSignal | undefined;
    try {
      return await retryWithBackoff(
        async () => {
          const answer = await prev(method, payload, grammySignal);
          if (!answer.ok && (answer.parameters?.retry_after !== undefined || answer.error_code >= 500)) throw new RepeatableAnswer(answer);
          return answer;
        },
        {
          retries,
          // Flood control says exactly when to come back (retry_after below); no back-off on top of it.
          firstDelayMs: (err) => (err instanceof HttpError ? networkDelayMs : err instanceof RepeatableAnswer && err.answer.error_code >= 500 ? serverErrorDelayMs : 0),
          maxDelayMs,
          // The throttler outside already spaces this bot's calls.
          jitter: false,
          // A request aborted by its caller fails as an HttpError too; that one is final.
          retryable: (err) => (err instanceof HttpError && !signal?.aborted) || err instanceof RepeatableAnswer,
          retryAfterMs: (err) => {
            const seconds = err instanceof RepeatableAnswer ? err.answer.parameters?.retry_after : undefined;
            return seconds === undefined ? undefined : seconds * 1000;
          },
          signal,
        },
      );
    } catch (err) {
      if (err instanceof RepeatableAnswer) return err.answer;
      throw err;
    }
  };
}

/**
 * A bot's overall pace: the throttler's default refills 30 calls every second, which lets up to
 * about 45 through in a second that straddles a refill (a broadcast measures it); launches spaced
 * 35 ms apart keep any one second within Telegram's 30, with room for jitter on the way.
 */
const TELEGRAM_GLOBAL_LIMIT = { reservoir: 30, reservoirRefreshAmount: 30, reservoirRefreshInterval: 1000, minTime: 35 };

/**
 * Spaces the bot's calls across processes: each call (and each retry of it) takes the bot's next
 * shared slot. Should the shared store fail, the process's own throttle still holds.
 */
function sharedPacing({ pace, key, onError }: NonNullable<TelegramApiOptions['sharedPace']>): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      const waitMs = await pace.reserve(key, TELEGRAM_GLOBAL_LIMIT.minTime);
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    } catch (err) {
      onError?.(err);
    }
    return prev(method, payload, signal);
  };
}

/** A grammY Api for one bot with retries (honouring 429 retry_after) and per-chat throttling. */
export function createTelegramApi(token: string, options: TelegramApiOptions): Api {
  const api = new Api(token, {
    apiRoot: options.apiRoot.replace(/\/+$/, ''),
    timeoutSeconds: options.timeoutSeconds ?? 30,
    // grammY's default is node-fetch; this one (JSON bodies, multipart streams, `res.json()`) costs far less CPU per call.
    fetch: (options.fetch ?? undiciFetch) as unknown as ApiClientOptions['fetch'],
  });
  // Installed first-innermost: the throttler admits a call, the retries repeat it within that slot,
  // so a chat waiting out a 429 holds back its own later messages instead of overtaking them; each
  // attempt takes a slot of the bot's shared pace.
  if (options.throttle !== false && options.sharedPace) api.config.use(sharedPacing(options.sharedPace));
  api.config.use(
    retrying({
      retries: options.maxRetryAttempts ?? 3,
      networkDelayMs: options.networkRetryDelayMs ?? 500,
      serverErrorDelayMs: options.serverErrorRetryDelayMs ?? 3_000,
      maxDelayMs: (options.maxRetryDelaySeconds ?? 60) * 1000,
    }),
  );
  if (options.throttle !== false) api.config.use(apiThrottler(options.throttle ?? { global: TELEGRAM_GLOBAL_LIMIT }));
  return api;
}

function blockedReason(description: string): RecipientBlockedError['reason'] {
  const text = description.toLowerCase();
  if (text.includes('blocked')) return 'blocked';
  if (text.includes('deactivated')) return 'deactivated';
  if (text.includes('kicked') || text.includes('not a member')) return 'kicked';
  return 'forbidden';
}

/** Translates a grammY failure into the channel errors callers act on; anything else is returned as is. */
export function toChannelError(err: unknown): unknown {
  if (err instanceof GrammyError) {
    if (err.error_code === 403) return new RecipientBlockedError('telegram', blockedReason(err.description), err.description);
    if (err.error_code === 401) return new ChannelAuthError('telegram', `Telegram rejected the bot token: ${err.description}`);
    const retryAfter = err.parameters?.retry_after;
    const retryable = err.error_code === 429 || err.error_code >= 500;
    return new ChannelRequestError('telegram', err.error_code, err.description, retryable, retryAfter);
  }
  if (err instanceof HttpError) return new ChannelRequestError('telegram', undefined, err.message, true);
  return err;
}

/** Runs one Bot API call and rethrows its failure as a channel error. */
export async function callTelegram<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toChannelError(err);
  }
}

// <bot id>:<secret>; checked locally so a mistyped token fails with a clear message and no network call.
const tokenPattern = /^\d{1,20}:[A-Za-z0-9_-]{20,}$/;

export interface ConnectOptions {
  apiRoot: string;
  /** Where Telegram should deliver updates, e.g. `${PUBLIC_URL}/webhooks/telegram/<botId>`. */
  webhookUrl: string;
  /** Echoed by Telegram in X-Telegram-Bot-Api-Secret-Token on every delivery. */
  secretToken: string;
  fetch?: typeof fetch;
}

export interface ConnectedTelegramBot {
  id: number;
  username: string;
}

/** Checks the token with getMe, then points the bot's webhook at us; a bad token → ChannelAuthError. */
export async function connectTelegramBot(token: string, options: ConnectOptions): Promise<ConnectedTelegramBot> {
  if (!tokenPattern.test(token)) {
    throw new ChannelAuthError('telegram', 'This does not look like a Telegram bot token (expected "<digits>:<secret>" as @BotFather gives it)');
  }
  const api = createTelegramApi(token, { apiRoot: options.apiRoot, throttle: false, ...(options.fetch ? { fetch: options.fetch } : {}) });
  let me;
  try {
    me = await api.getMe();
  } catch (err) {
    // Telegram answers 404 rather than 401 for some malformed tokens; either way the token is wrong.
    if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
      throw new ChannelAuthError('telegram', 'Telegram rejected the bot token; copy it again from @BotFather');
    }
    throw toChannelError(err);
  }
  await callTelegram(() =>
    api.setWebhook(options.webhookUrl, {
      secret_token: options.secretToken,
      allowed_updates: ALLOWED_UPDATES,
      drop_pending_updates: false,
    }),
  );
  return { id: me.id, username: me.username };
}

/** Removes the bot's webhook so Telegram stops delivering to us; pending updates are kept. */
export async function disconnectTelegramBot(token: string, options: { apiRoot: string; fetch?: typeof fetch }): Promise<void> {
  const api = createTelegramApi(token, { apiRoot: options.apiRoot, throttle: false, ...(options.fetch ? { fetch: options.fetch } : {}) });
  await callTelegram(() => api.deleteWebhook({ drop_pending_updates: false }));
}
