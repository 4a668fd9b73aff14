import { Ollama, type ChatResponse } from 'ollama';
import type { LlmChatRequest, LlmPort } from '../conversation/ports.js';
import type { FetchMaker } from '../http-client/outgoing-fetch.js';
import { createUndiciFetch, followAbort } from '../http-client/undici-fetch.js';
import { retryWithBackoff } from '../retry/retry.js';
import {
  LlmConnectionError,
  LlmError,
  LlmResponseError,
  LlmStreamError,
  LlmTimeoutError,
  ModelNotPulledError,
} from './llm.errors.js';

export interface OllamaLlmOptions {
  /** Base URL of the Ollama server, e.g. http://127.0.0.1:11434. */
  host: string;
  /** Model used when a request names none. */
  defaultModel: string;
  /** How long the first token may take; loading a model on a CPU can take a while. */
  firstTokenTimeoutMs?: number;
  /** How long a whole reply may take, retries included. */
  overallTimeoutMs?: number;
  /** Retries of connection errors and 5xx answers, only ever before the first token. */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Makes the fetch of each call's client (HTTP_CLIENT); the lean one unless given. */
  fetch?: FetchMaker;
}

// Network failures that mean "the server is not there (right now)", as undici and Node report them.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for failures of the connection itself rather than answers of the server. */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = errorCode(err);
  if (code && CONNECTION_CODES.has(code)) return true;
  // undici: "fetch failed" before a response, "terminated" when the body breaks off.
  if (err instanceof TypeError && /fetch failed|terminated|network/i.test(err.message)) return true;
  // The ollama client's complaint when the stream ends without its final "done" line.
  return /did not receive done/i.test(err.message);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

// Why an attempt's requests are cancelled once it is over; a reason of our own spares building a DOMException.
const ATTEMPT_OVER = new Error('the reply attempt is over');

/** An attempt that reached its first piece of text (or the end of a reply without any). */
interface OpenAttempt {
  first: string | undefined;
  /** The rest of the stream. */
  parts: AsyncIterator<ChatResponse>;
  /** Aborted when the attempt's request is cancelled, with the reason why. */
  signal: AbortSignal;
  /** Cancels the attempt's request and timers; safe to call twice. */
  close: () => void;
}

/** The Ollama chat API as an LlmPort: streaming, timeouts, and retries that never duplicate text. */
export class OllamaLlm implements LlmPort {
  readonly kind = 'model' as const;
  readonly name: string;
  readonly host: string;
  private readonly defaultModel: string;
  private readonly firstTokenTimeoutMs: number;
  private readonly overallTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly makeFetch: FetchMaker;

  constructor(options: OllamaLlmOptions) {
    this.host = options.host.replace(/\/+$/, '');
    this.defaultModel = options.defaultModel;
    this.name = `ollama:${options.defaultModel}`;
    this.firstTokenTimeoutMs = options.firstTokenTimeoutMs ?? 120_000;
    this.overallTimeoutMs = options.overallTimeoutMs ?? 300_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 4_000;
    this.makeFetch = options.fetch ?? createUndiciFetch;
  }

  /**
   * A client whose every request is cancelled by `signal`; the SDK's own stream signal alone cannot
   * stop a request still waiting for headers. One per call because the SDK takes no signal per call,
   * and because it keeps every stream that ends without its final line in a list until the client
   * goes away; the client itself is a few fields (its connections are the shared pool's).
   */
  private client(signal: AbortSignal): Ollama {
    return new Ollama({ host: this.host, fetch: this.makeFetch({ signal }) });
  }

  /** Resolves when the server answers within `timeoutMs`; throws a typed LlmError otherwise. */
  async ping(timeoutMs = 1_500): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await this.client(signal).list();
    } catch (err) {
      if (signal.aborted) throw new LlmConnectionError(this.host, `no answer within ${timeoutMs} ms`);
      throw this.classify(err, '', false);
    }
  }

  /** Streams the reply; see OllamaLlmOptions for timeouts and retries. */
  async *chat(request: LlmChatRequest): AsyncGenerator<string> {
    const model = request.model ?? this.defaultModel;
    // The call's signal follows the caller's and the overall timeout; each attempt's follows the call's.
    const call = new AbortController();
    const overallTimer = setTimeout(() => call.abort(new LlmTimeoutError('overall', this.overallTimeoutMs)), this.overallTimeoutMs);
    overallTimer.unref();
    const unfollowCaller = request.signal ? followAbort(call, request.signal) : undefined;
    let attempt: OpenAttempt | undefined;
    try {
      // Only reaching the first token is retried: once text has been given out, a retry would repeat it.
      attempt = await retryWithBackoff(() => this.open(model, request, call.signal), {
        retries: this.maxRetries,
        firstDelayMs: this.retryBaseDelayMs,
        maxDelayMs: this.retryMaxDelayMs,
        // An abort's reason (caller, timeouts) is never a retryable LlmError, so it ends the call.
        retryable: (err) => err instanceof LlmError && err.retryable,
        // An abort while waiting to retry rejects with its reason, as one during an attempt does.
        signal: call.signal,
      });
      if (attempt.first === undefined) return;
      request.onResponder?.({ name: `ollama:${model}`, kind: this.kind });
      yield attempt.first;
      const rest = attempt.parts;
      try {
        for await (const part of { [Symbol.asyncIterator]: () => rest }) {
          const delta = part.message?.content ?? '';
          if (delta !== '') yield delta;
        }
      } catch (err) {
        if (attempt.signal.aborted) throw abortReason(attempt.signal);
        throw this.classify(err, model, true);
      }
    } finally {
      // Releases the connection when the consumer stopped reading early.
      attempt?.close();
      clearTimeout(overallTimer);
      unfollowCaller?.();
    }
  }

  /**
   * Starts one attempt and reads up to its first piece of text, under the first-token timeout.
   * Throws a typed LlmError (or the abort's reason) with the attempt's request closed.
   */
  private async open(model: string, request: LlmChatRequest, callSignal: AbortSignal): Promise<OpenAttempt> {
    const attemptAbort = new AbortController();
    const unfollowCall = followAbort(attemptAbort, callSignal);
    const signal = attemptAbort.signal;
    const firstTokenTimer = setTimeout(() => attemptAbort.abort(new LlmTimeoutError('first-token', this.firstTokenTimeoutMs)), this.firstTokenTimeoutMs);
    firstTokenTimer.unref();
    const close = () => {
      clearTimeout(firstTokenTimer);
      unfollowCall();
      attemptAbort.abort(ATTEMPT_OVER);
    };
    try {
      const stream = await this.client(signal).chat({
        model,
        messages: request.messages,
        stream: true,
        options: {
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.contextSize !== undefined ? { num_ctx: request.contextSize } : {}),
          ...(request.maxTokens !== undefined ? { num_predict: request.maxTokens } : {}),
        },
      });
      const parts = stream[Symbol.asyncIterator]();
      for (;;) {
        const next = await parts.next();
        if (next.done) {
          close();
          return { first: undefined, parts, signal, close };
        }
        const delta = next.value.message?.content ?? '';
        if (delta !== '') {
          clearTimeout(firstTokenTimer);
          return { first: delta, parts, signal, close };
        }
      }
    } catch (err) {
      // An abort (caller, overall or first-token timeout) surfaces as its reason, whatever the SDK threw.
      const failure = signal.aborted ? abortReason(signal) : this.classify(err, model, false);
      close();
      throw failure;
    }
  }

  /** Maps what the SDK or fetch threw to a typed LlmError. */
  private classify(err: unknown, model: string, started: boolean): LlmError {
    if (err instanceof LlmError) return err;
    const status = (err as { status_code?: unknown } | null)?.status_code;
    if (typeof status === 'number') {
      if (status === 404 && model !== '') return new ModelNotPulledError(model, this.host);
      return new LlmResponseError(status, (err as Error).message);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (isConnectionFailure(err)) {
      const reason = errorCode(err) ?? message;
      return started ? new LlmStreamError(`the connection broke (${reason})`) : new LlmConnectionError(this.host, reason);
    }
    // The server reported an error inside the stream (e.g. the model runner crashed).
    return new LlmStreamError(message);
  }
}
