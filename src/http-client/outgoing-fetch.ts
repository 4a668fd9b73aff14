import { createUndiciFetch, followAbort, type Fetch } from './undici-fetch.js';

/** HTTP_CLIENT: the lean fetch of undici-fetch.ts, or Node's global fetch. */
export type HttpClientKind = 'lean' | 'fetch';

export interface OutgoingFetchOptions {
  /** Also cancels every request made through this fetch, whatever signal the caller passes. */
  signal?: AbortSignal;
  /**
   * lean: longest wait for the response headers and longest silence between two body chunks;
   * fetch: longest time a whole request may take (the global fetch has no idle timer of its own).
   */
  timeoutMs?: number;
}

/** Makes the fetch an SDK client (Ollama, grammY, whatsapp-api-js) is given. */
export type FetchMaker = (options?: OutgoingFetchOptions) => Fetch;

/**
 * A native signal following `signal`: grammY's come from the abort-controller package, whose
 * signals Node's fetch refuses ("Expected signal to be an instance of AbortSignal").
 */
function nativeSignal(signal: AbortSignal): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  followAbort(controller, signal);
  return controller.signal;
}

/** The global fetch with the options' signal and timeout added to each request's own signal. */
function globalFetch(options: OutgoingFetchOptions): Fetch {
  const { signal: ownSignal, timeoutMs } = options;
  // `fetch` is looked up per call, so one replaced after start-up (tests, instrumentation) is the one used.
  return (input, init) => {
    const signals: AbortSignal[] = [];
    const given = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    if (given) signals.push(nativeSignal(given));
    if (ownSignal) signals.push(ownSignal);
    if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
    if (signals.length === 0) return fetch(input, init);
    // AbortSignal.any lets go of its sources once they are gone, so a long-lived one does not collect listeners.
    return fetch(input, { ...init, signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals) });
  };
}

/** The fetch maker of the chosen kind. */
export function outgoingFetch(kind: HttpClientKind): FetchMaker {
  return kind === 'lean' ? (options = {}) => createUndiciFetch(options) : (options = {}) => globalFetch(options);
}
