/**
 * Graph API failures translated into the channel errors callers act on. Meta asks integrators to
 * branch on `code` (and `error_data.details`), never on the message text, so that is all we read.
 */
import { z } from 'zod';
import { ChannelAuthError, ChannelRequestError, RecipientOptedOutError } from '../../src/conversation/channel.ports.js';

/** 24 hours have passed since the user last wrote: only a template may be sent now. */
export const WINDOW_CLOSED_CODE = 131047;
/**
 * The user chose, in WhatsApp, to stop receiving marketing messages from this business. Meta answers
 * it on the send, or later in a `failed` status webhook; either way it holds until the user resumes.
 */
export const MARKETING_OPT_OUT_CODE = 131050;
/** Throughput per business number exceeded (default 80 messages/s). */
export const THROUGHPUT_LIMIT_CODE = 130429;
/** Too many messages to the same user in a short time. */
export const PAIR_RATE_LIMIT_CODE = 131056;

/** Limits that clear by themselves: waiting and sending the same message again is safe. */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([4, 80007, THROUGHPUT_LIMIT_CODE, PAIR_RATE_LIMIT_CODE]);
// Temporary trouble on Meta's side.
const TRANSIENT_CODES: ReadonlySet<number> = new Set([1, 2, 131000, 131016, 133004]);

// Token expired, revoked or lacking permissions: the creator must reconnect, retrying cannot help.
function isAuthCode(code: number): boolean {
  return code === 0 || code === 10 || code === 190 || (code >= 200 && code <= 299);
}

export const graphErrorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    message: z.string().default(''),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    error_data: z.looseObject({ details: z.string().optional() }).optional(),
    fbtrace_id: z.string().optional(),
  }),
});

export type GraphError = z.infer<typeof graphErrorEnvelopeSchema>['error'];

/** A Cloud API request Meta refused; `errorCode` is the Graph code, `title` its short name. */
export class WhatsAppRequestError extends ChannelRequestError {
  constructor(
    readonly graph: GraphError,
    readonly title: string,
    retryable: boolean,
    retryAfterSeconds?: number,
  ) {
    const details = graph.error_data?.details;
    super('whatsapp', graph.code, details && details !== title ? `${title}: ${details}` : title, retryable, retryAfterSeconds);
    this.name = 'WhatsAppRequestError';
  }

  /** Meta's trace id, worth quoting to Meta support. */
  get fbtraceId(): string | undefined {
    return this.graph.fbtrace_id;
  }
}

/**
 * The user has not written for 24 hours (Graph code 131047): free-form messages are refused until
 * they write again, so send an approved template instead.
 */
export class WindowClosedError extends WhatsAppRequestError {
  constructor(graph: GraphError, title: string) {
    super(graph, title, false);
    this.name = 'WindowClosedError';
  }
}

/** The user stopped marketing messages from this business (Graph code 131050): an opt-out, not a failure to retry. */
export class MarketingOptOutError extends RecipientOptedOutError {
  constructor(
    readonly graph: GraphError,
    readonly title: string,
  ) {
    const details = graph.error_data?.details;
    super('whatsapp', graph.code, details && details !== title ? `${title}: ${details}` : title);
    this.name = 'MarketingOptOutError';
  }
}

export { MediaTooLargeError } from '../media-download.js';

// "(#131047) Re-engagement message" → "Re-engagement message".
function titleOf(graph: GraphError): string {
  const title = graph.message.replace(/^\(#\d+\)\s*/, '').trim();
  return title || `Graph API error ${graph.code}`;
}

/** Maps a Graph error envelope's `error` to ChannelAuthError, WindowClosedError, MarketingOptOutError or WhatsAppRequestError. */
export function errorFromGraph(graph: GraphError, retryAfterSeconds?: number): ChannelAuthError | WhatsAppRequestError | MarketingOptOutError {
  const title = titleOf(graph);
  if (isAuthCode(graph.code)) return new ChannelAuthError('whatsapp', `WhatsApp rejected the access token (${graph.code}): ${title}`);
  if (graph.code === WINDOW_CLOSED_CODE) return new WindowClosedError(graph, title);
  if (graph.code === MARKETING_OPT_OUT_CODE) return new MarketingOptOutError(graph, title);
  const retryable = RATE_LIMIT_CODES.has(graph.code) || TRANSIENT_CODES.has(graph.code);
  return new WhatsAppRequestError(graph, title, retryable, RATE_LIMIT_CODES.has(graph.code) ? retryAfterSeconds : undefined);
}

/** True for a WhatsApp failure that waiting out a rate limit can cure. */
export function isRateLimited(err: unknown): err is WhatsAppRequestError {
  return err instanceof WhatsAppRequestError && err.errorCode !== undefined && RATE_LIMIT_CODES.has(err.errorCode);
}
