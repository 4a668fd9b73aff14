import { setTimeout as sleep } from 'node:timers/promises';
import { Ollama } from 'ollama';
import type { LlmChatRequest, LlmPort } from '../conversation/ports.js';
import { createUndiciFetch, followAbort } from '../http-client/undici-fetch.js';
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

  constructor(options: OllamaLlmOptions) {
    this.host = options.host.replace(/\/+$/, '');
    this.defaultModel = options.defaultModel;
    this.name = `ollama:${options.defaultModel}`;
    this.firstTokenTimeoutMs = options.firstTokenTimeoutMs ?? 120_000;
    this.overallTimeoutMs = options.overallTimeoutMs ?? 300_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 4_000;
  }

  /**
   * A client whose every request is cancelled by `signal`; the SDK's own stream signal alone cannot
   * stop a request still waiting for headers. One per call because the SDK takes no signal per call,
   * and because it keeps every stream that ends without its final line in a list until the client
   * goes away; the client itself is a few fields (its connections are the shared pool's).
   */
  private client(signal: AbortSignal): Ollama {
    return new Ollama({ host: this.host, fetch: createUndiciFetch({ signal }) });
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
    let started = false;
    try {
      for (let attempt = 0; ; attempt += 1) {
        const attemptAbort = new AbortController();
        const unfollowCall = followAbort(attemptAbort, call.signal);
        const signal = attemptAbort.signal;
        const firstTokenTimer = setTimeout(
          () => attemptAbort.abort(new LlmTimeoutError('first-token', this.firstTokenTimeoutMs)),
          this.firstTokenTimeoutMs,
        );
        firstTokenTimer.unref();
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
          for await (const part of stream) {
            const delta = part.message?.content ?? '';
            if (delta === '') continue;
            if (!started) {
              started = true;
              clearTimeout(firstTokenTimer);
              request.onResponder?.({ name: `ollama:${model}`, kind: this.kind });
            }
            yield delta;
          }
          return;
        } catch (err) {
          // An abort (caller, overall or first-token timeout) surfaces as its reason, whatever the SDK threw.
          if (signal.aborted) throw abortReason(signal);
          const failure = this.classify(err, model, started);
          if (started || !failure.retryable || attempt >= this.maxRetries) throw failure;
        } finally {
          clearTimeout(firstTokenTimer);
          unfollowCall();
          // Releases the connection when the consumer stopped reading early.
          attemptAbort.abort(ATTEMPT_OVER);
        }
        await this.backoff(attempt, call.signal);
      }
    } finally {
      clearTimeout(overallTimer);
      unfollowCaller?.();
    }
  }

  private async backoff(attempt: number, signal: AbortSignal): Promise<void> {
    const ceiling = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** attempt);
    // Jitter spreads the retries of many conversations hitting one recovering server.
    const delay = Math.round(ceiling * (0.5 + Math.random() * 0.5));
    try {
      await sleep(delay, undefined, { signal });
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      throw err;
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
