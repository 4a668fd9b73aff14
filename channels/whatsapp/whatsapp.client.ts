/**
 * The Cloud API through whatsapp-api-js: one client per access token. It builds requests with the
 * library, points them at WHATSAPP_GRAPH_URL, paces them, retries rate limits and turns every Graph
 * failure into a channel error.
 */
import { WhatsAppAPI } from 'whatsapp-api-js';
import type { ClientMessage } from 'whatsapp-api-js/types';
import { z } from 'zod';
import { undiciFetch } from '../../src/http-client/undici-fetch.js';
import { retryWithBackoff } from '../../src/retry/retry.js';
import { ChannelAuthError, ChannelRequestError } from '../../src/conversation/channel.ports.js';
import { MediaTooLargeError, readLimited, type DownloadResponse } from '../media-download.js';
import { errorFromGraph, graphErrorEnvelopeSchema, isRateLimited, PAIR_RATE_LIMIT_CODE } from './whatsapp.errors.js';
import { WhatsAppPacer } from './whatsapp.pacing.js';

/** The Graph API version we speak; pinned so Meta's changes reach us only when we move it. */
export const WHATSAPP_API_VERSION = 'v22.0';
/** Where whatsapp-api-js sends every request; rewritten to the configured Graph URL. */
export const GRAPH_ORIGIN = 'https://graph.facebook.com';

export interface RetryOptions {
  /** Further attempts after a rate-limit refusal; default 3. */
  attempts?: number;
  /** First back-off; doubles on every attempt. Default 1,000 ms. */
  baseDelayMs?: number;
  /** First back-off after a pair rate limit (Meta allows about one message per 6 s to a user in a burst's wake). Default 6,000 ms. */
  pairBaseDelayMs?: number;
  /** Longest single back-off; a Retry-After longer than this is not waited out but thrown, retryable. Default 60,000 ms. */
  maxDelayMs?: number;
}

export interface WhatsAppClientOptions {
  accessToken: string;
  /** WHATSAPP_GRAPH_URL: graph.facebook.com, a proxy or a test fake. */
  graphUrl: string;
  apiVersion?: string;
  /** Shared across clients so one phone number's limits hold whichever bot object sends. */
  pacer?: WhatsAppPacer;
  retry?: RetryOptions;
  /** Per-request timeout, body included. Default 30 s. */
  timeoutMs?: number;
  /** Largest media download accepted. Default 25 MB. */
  maxMediaBytes?: number;
  /**
   * The fetch underneath; by default the lean one of src/http-client (a turn's read receipt, typing
   * indicator and reply cost far less CPU through it than through the global fetch).
   */
  fetch?: typeof fetch;
}

export interface SendOptions {
  /** The user's message this one answers (shown quoted). */
  replyTo?: string;
  /** Echoed back in this message's status webhooks (up to 512 bytes). */
  callbackData?: string;
}

export interface SentMessage {
  /** The `wamid…` delivery statuses will refer to. */
  messageId: string;
  /** The recipient's WhatsApp id as Meta resolved it (may differ in form from the number given). */
  waId?: string;
}

export interface DownloadedMedia {
  bytes: Buffer;
  mimeType: string;
  /** As Meta reports it, to compare with the webhook's value. */
  sha256?: string;
}

const sentSchema = z.looseObject({
  contacts: z.array(z.looseObject({ wa_id: z.string().optional() })).optional(),
  messages: z.array(z.looseObject({ id: z.string().min(1) })).min(1),
});

export interface PhoneNumberInfo {
  id: string;
  /** As users see it, e.g. "+1 555-010-0100". */
  displayPhoneNumber: string;
  verifiedName?: string;
}

const phoneNumberSchema = z.looseObject({
  id: z.string().min(1),
  display_phone_number: z.string(),
  verified_name: z.string().optional(),
});

const mediaInfoSchema = z.looseObject({
  url: z.string().url(),
  mime_type: z.string().default('application/octet-stream'),
  sha256: z.string().optional(),
  file_size: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});

/** A fetch that sends whatsapp-api-js's graph.facebook.com requests to `graphUrl` instead, with a timeout. */
export function graphFetch(graphUrl: string, timeoutMs: number, base: typeof fetch = undiciFetch): typeof fetch {
  const root = graphUrl.replace(/\/+$/, '');
  const rewrite = (url: string) => (url === GRAPH_ORIGIN || url.startsWith(`${GRAPH_ORIGIN}/`) ? root + url.slice(GRAPH_ORIGIN.length) : url);
  return (input, init) => {
    const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
    if (input instanceof Request) return base(new Request(rewrite(input.url), input), { ...init, signal });
    return base(rewrite(input instanceof URL ? input.href : input), { ...init, signal });
  };
}

function networkError(err: unknown): ChannelRequestError {
  const message = err instanceof Error ? (err.name === 'TimeoutError' ? 'request timed out' : err.message) : String(err);
  return new ChannelRequestError('whatsapp', undefined, message, true);
}

/**
 * What we read of a response: both the global fetch's Response and the lean fetch's own response
 * object have it, so it is checked by shape, not by class.
 */
interface GraphResponse extends DownloadResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  text(): Promise<string>;
}

function isGraphResponse(value: unknown): value is GraphResponse {
  if (typeof value !== 'object' || value === null) return false;
  const response = value as Partial<Record<keyof GraphResponse, unknown>>;
  return (
    typeof response.status === 'number' &&
    typeof response.ok === 'boolean' &&
    typeof response.text === 'function' &&
    typeof (response.headers as { get?: unknown } | undefined)?.get === 'function'
  );
}

/** Awaits a request; a failure to get any answer is a retryable ChannelRequestError. */
async function reach(request: () => Promise<unknown>): Promise<GraphResponse> {
  let response: unknown;
  try {
    response = await request();
  } catch (err) {
    throw networkError(err);
  }
  // With `parsed: false` whatsapp-api-js hands back what the fetch returned; anything else means the library changed.
  if (!isGraphResponse(response)) throw new ChannelRequestError('whatsapp', undefined, 'unexpected reply from the WhatsApp client', false);
  return response;
}

function retryAfterOf(response: GraphResponse): number | undefined {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Reads a Graph response: its JSON on success, otherwise the mapped channel error. */
async function readGraph(response: GraphResponse): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw networkError(err);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const envelope = graphErrorEnvelopeSchema.safeParse(body);
  if (envelope.success) throw errorFromGraph(envelope.data.error, retryAfterOf(response));
  // A media host may answer a bad token with a bare 401 rather than a Graph envelope.
  if (response.status === 401) throw new ChannelAuthError('whatsapp', 'WhatsApp rejected the access token (HTTP 401)');
  if (!response.ok) {
    const retryable = response.status === 429 || response.status >= 500;
    throw new ChannelRequestError('whatsapp', undefined, `HTTP ${response.status} ${response.statusText}`.trim(), retryable, retryAfterOf(response));
  }
  if (body === undefined) throw new ChannelRequestError('whatsapp', undefined, 'the Graph API answered without JSON', false);
  return body;
}

function unexpected(what: string): ChannelRequestError {
  return new ChannelRequestError('whatsapp', undefined, `unexpected Graph API response to ${what}`, false);
}

/** Cloud API calls for one access token, paced per phone number and recipient. */
export class WhatsAppClient {
  readonly pacer: WhatsAppPacer;
  private readonly api: WhatsAppAPI;
  private readonly retry: Required<RetryOptions>;
  private readonly maxMediaBytes: number;
  private readonly fetch: typeof fetch;
  private readonly apiVersion: string;
  private readonly accessToken: string;

  constructor(options: WhatsAppClientOptions) {
    this.pacer = options.pacer ?? new WhatsAppPacer();
    this.retry = {
      attempts: options.retry?.attempts ?? 3,
      baseDelayMs: options.retry?.baseDelayMs ?? 1_000,
      pairBaseDelayMs: options.retry?.pairBaseDelayMs ?? 6_000,
      maxDelayMs: options.retry?.maxDelayMs ?? 60_000,
    };
    this.maxMediaBytes = options.maxMediaBytes ?? 25 * 1024 * 1024;
    this.fetch = graphFetch(options.graphUrl, options.timeoutMs ?? 30_000, options.fetch);
    this.apiVersion = options.apiVersion ?? WHATSAPP_API_VERSION;
    this.accessToken = options.accessToken;
    this.api = new WhatsAppAPI({
      token: options.accessToken,
      v: this.apiVersion,
      // Raw responses: we need the HTTP status and must survive bodies that are not JSON.
      parsed: false,
      // Webhook signatures are checked by whatsapp.webhook.ts over the raw bytes, not by the library.
      secure: false,
      ponyfill: { fetch: this.fetch },
    });
  }

  /**
   * The business phone number behind `phoneNumberId` as this token sees it: proves the token and
   * the id belong together (ChannelAuthError for a bad token, a request error for an unknown id).
   */
  async phoneNumber(phoneNumberId: string): Promise<PhoneNumberInfo> {
    const url = `${GRAPH_ORIGIN}/${this.apiVersion}/${encodeURIComponent(phoneNumberId)}?fields=display_phone_number,verified_name`;
    const body = phoneNumberSchema.safeParse(await readGraph(await reach(() => this.fetch(url, { headers: { authorization: `Bearer ${this.accessToken}` } }))));
    if (!body.success) throw unexpected('a phone number lookup');
    return { id: body.data.id, displayPhoneNumber: body.data.display_phone_number, ...(body.data.verified_name ? { verifiedName: body.data.verified_name } : {}) };
  }

  /**
   * Sends one message, after earlier messages to the same user and within the number's throughput;
   * rate-limit refusals are waited out and retried, other failures thrown as channel errors.
   */
  send(phoneNumberId: string, to: string, message: ClientMessage, options: SendOptions = {}): Promise<SentMessage> {
    return this.pacer.forRecipient(phoneNumberId, to, () =>
      retryWithBackoff(
        async () => {
          await this.pacer.phoneSlot(phoneNumberId);
          return this.sendOnce(phoneNumberId, to, message, options);
        },
        {
          retries: this.retry.attempts,
          firstDelayMs: (err) => (isRateLimited(err) && err.errorCode === PAIR_RATE_LIMIT_CODE ? this.retry.pairBaseDelayMs : this.retry.baseDelayMs),
          maxDelayMs: this.retry.maxDelayMs,
          // No jitter: every retry queues on the number's pacer, which spaces the sends anyway.
          jitter: false,
          retryable: isRateLimited,
          retryAfterMs: (err) => (isRateLimited(err) && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : undefined),
          sleep: (ms) => this.pacer.clock.sleep(ms),
        },
      ),
    );
  }

  private async sendOnce(phoneNumberId: string, to: string, message: ClientMessage, options: SendOptions): Promise<SentMessage> {
    const response = await reach(() => this.api.sendMessage(phoneNumberId, to, message, options.replyTo, options.callbackData));
    const sent = sentSchema.safeParse(await readGraph(response));
    if (!sent.success) throw unexpected('a send');
    const waId = sent.data.contacts?.[0]?.wa_id;
    return { messageId: sent.data.messages[0]!.id, ...(waId ? { waId } : {}) };
  }

  /** Marks a user's message read (blue ticks), optionally showing "typing…" until we reply or 25 s pass. */
  async markRead(phoneNumberId: string, messageId: string, options: { typing?: boolean } = {}): Promise<void> {
    await this.pacer.phoneSlot(phoneNumberId);
    const response = await reach(() => this.api.markAsRead(phoneNumberId, messageId, options.typing ? 'text' : undefined));
    await readGraph(response);
  }

  /**
   * Downloads a file a user sent: looks up its URL, then fetches it with the token, refusing (and
   * aborting) anything over `maxBytes`.
   */
  async downloadMedia(mediaId: string, options: { phoneNumberId?: string; maxBytes?: number } = {}): Promise<DownloadedMedia> {
    const limit = options.maxBytes ?? this.maxMediaBytes;
    const info = mediaInfoSchema.safeParse(await readGraph(await reach(() => this.api.retrieveMedia(mediaId, options.phoneNumberId))));
    if (!info.success) throw unexpected('a media lookup');
    const { url, mime_type: mimeType, sha256, file_size: size } = info.data;
    if (size !== undefined && size > limit) throw new MediaTooLargeError('whatsapp', limit, size);
    const response = await reach(() => this.api.fetchMedia(url));
    if (!response.ok) await readGraph(response);
    const bytes = await readLimited(response, limit, 'whatsapp');
    return { bytes, mimeType, ...(sha256 ? { sha256 } : {}) };
  }
}
