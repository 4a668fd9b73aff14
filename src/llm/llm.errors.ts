import { AppError } from '../errors/app.errors.js';

/** A chat model did not produce a reply. `retryable` says whether trying again may help. */
export class LlmError extends AppError {
  constructor(
    code: string,
    status: number,
    message: string,
    readonly retryable: boolean,
    details?: Record<string, unknown>,
  ) {
    super(code, status, message, details);
    this.name = 'LlmError';
  }
}

/** The model server could not be reached, or the connection broke. */
export class LlmConnectionError extends LlmError {
  constructor(host: string, reason: string) {
    super('LLM_UNREACHABLE', 503, `The Ollama server at ${host} could not be reached: ${reason}`, true, { host });
    this.name = 'LlmConnectionError';
  }
}

/** The model server answered with an error status. 5xx are worth retrying; 4xx are not. */
export class LlmResponseError extends LlmError {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super('LLM_FAILED', 502, `The model server answered ${statusCode}: ${message}`, statusCode >= 500, { statusCode });
    this.name = 'LlmResponseError';
  }
}

/** The configured model has not been pulled onto the Ollama server. */
export class ModelNotPulledError extends LlmError {
  constructor(
    readonly model: string,
    readonly host: string,
  ) {
    super('MODEL_NOT_AVAILABLE', 503, `The model "${model}" is not available on the Ollama server at ${host}. Run: ollama pull ${model}`, false, {
      model,
      host,
    });
    this.name = 'ModelNotPulledError';
  }
}

/** No first token, or no complete reply, within the time allowed. */
export class LlmTimeoutError extends LlmError {
  constructor(
    readonly phase: 'first-token' | 'overall',
    readonly timeoutMs: number,
  ) {
    const what = phase === 'first-token' ? 'started replying' : 'finished replying';
    super('LLM_TIMEOUT', 504, `The model had not ${what} after ${timeoutMs} ms`, false, { phase, timeoutMs });
    this.name = 'LlmTimeoutError';
  }
}

/** The reply stream failed: the server reported an error in it, or it broke off after starting (a retry would repeat text). */
export class LlmStreamError extends LlmError {
  constructor(message: string) {
    super('LLM_STREAM_FAILED', 502, `The model's reply failed: ${message}`, false);
    this.name = 'LlmStreamError';
  }
}

/** This responder cannot do what was asked (the extractive fallback cannot write summaries). */
export class LlmUnavailableError extends LlmError {
  constructor(message: string) {
    super('LLM_UNAVAILABLE', 503, message, false);
    this.name = 'LlmUnavailableError';
  }
}
