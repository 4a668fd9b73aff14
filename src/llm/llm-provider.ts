import type { LlmChatRequest, LlmPort } from '../conversation/ports.js';
import { ExtractiveResponder, type ExtractiveOptions } from './extractive.llm.js';
import { LlmConnectionError } from './llm.errors.js';
import { OllamaLlm, type OllamaLlmOptions } from './ollama.llm.js';

export interface CreateLlmOptions {
  provider: 'auto' | 'ollama' | 'extractive';
  host: string;
  defaultModel: string;
  /** How long a known Ollama state is trusted before it is probed again (auto only). */
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  ollama?: Omit<OllamaLlmOptions, 'host' | 'defaultModel'>;
  extractive?: ExtractiveOptions;
  /** Told when a reply fell back to quoting the material because Ollama failed before answering (auto only). */
  onFallback?(error: unknown): void;
  /**
   * Whether the operator pointed the platform at a model server (OLLAMA_HOST set). In auto mode, a
   * model that was never set up and never answered is not "down": quotes say they are quotes. Default true.
   */
  hostConfigured?: boolean;
}

/**
 * Uses Ollama while it answers and quotes the creator's material otherwise. The server's state
 * is probed lazily: at most every `probeIntervalMs`, and at once after a connection failure.
 */
export class AutoLlm implements LlmPort {
  readonly name: string;
  private up: boolean | undefined;
  private checkedAt = 0;
  private probing: Promise<boolean> | undefined;
  /** A model is expected once the operator configured one or it has answered since start. */
  private modelExpected: boolean;

  constructor(
    private readonly ollama: OllamaLlm,
    private readonly quoting: { noModel: ExtractiveResponder; modelDown: ExtractiveResponder },
    private readonly options: {
      probeIntervalMs: number;
      probeTimeoutMs: number;
      onFallback?: ((error: unknown) => void) | undefined;
      hostConfigured: boolean;
    },
  ) {
    this.modelExpected = options.hostConfigured;
    this.name = `auto(${ollama.name})`;
  }

  /** 'model' unless Ollama is known to be down. */
  get kind(): 'model' | 'extractive' {
    return this.up === false ? 'extractive' : 'model';
  }

  /** Probes the server now (sharing a probe already running) and remembers the answer. */
  probe(): Promise<boolean> {
    this.probing ??= this.ollama
      .ping(this.options.probeTimeoutMs)
      .then(
        () => true,
        () => false,
      )
      .then((up) => {
        this.up = up;
        if (up) this.modelExpected = true;
        this.checkedAt = Date.now();
        this.probing = undefined;
        return up;
      });
    return this.probing;
  }

  private async ollamaUp(): Promise<boolean> {
    if (this.probing) return this.probing;
    if (this.up !== undefined && Date.now() - this.checkedAt < this.options.probeIntervalMs) return this.up;
    return this.probe();
  }

  /** Streams from Ollama; when it is down or fails before its first token, the same turn is answered by quoting. */
  async *chat(request: LlmChatRequest): AsyncGenerator<string> {
    if (await this.ollamaUp()) {
      let started = false;
      try {
        for await (const delta of this.ollama.chat(request)) {
          started = true;
          this.modelExpected = true;
          yield delta;
        }
        return;
      } catch (err) {
        if (err instanceof LlmConnectionError) {
          this.up = false;
          this.checkedAt = Date.now();
          void this.probe();
        }
        // After the first token a fallback would append quotes to half a reply; a caller's abort is not a failure.
        if (started || request.signal?.aborted || request.purpose === 'summary') throw err;
        this.options.onFallback?.(err);
      }
    }
    yield* (this.modelExpected ? this.quoting.modelDown : this.quoting.noModel).chat(request);
  }
}

/** Builds the LlmPort the configuration asks for. */
export function createLlm(options: CreateLlmOptions): LlmPort {
  // Configured alone, the responder quotes because there is no model; behind auto, because there is
  // none yet (never configured, never answered) or because the expected one is down.
  const noModel = new ExtractiveResponder({ ...options.extractive, reason: 'no-model' });
  if (options.provider === 'extractive') return noModel;
  const ollama = new OllamaLlm({ ...options.ollama, host: options.host, defaultModel: options.defaultModel });
  if (options.provider === 'ollama') return ollama;
  const modelDown = new ExtractiveResponder({ ...options.extractive, reason: 'model-down' });
  return new AutoLlm(ollama, { noModel, modelDown }, {
    probeIntervalMs: options.probeIntervalMs ?? 30_000,
    probeTimeoutMs: options.probeTimeoutMs ?? 1_500,
    onFallback: options.onFallback,
    hostConfigured: options.hostConfigured ?? true,
  });
}

/** The one start-up log line that says how replies are written under this configuration. */
export function describeAnswerMode(options: Pick<CreateLlmOptions, 'provider' | 'host' | 'defaultModel'>): string {
  if (options.provider === 'extractive') return "answers: quoting the creator's material (no model configured)";
  if (options.provider === 'ollama') return `answers: Ollama ${options.defaultModel} at ${options.host}`;
  return `answers: Ollama ${options.defaultModel} at ${options.host} when it answers, otherwise quoting the creator's material`;
}
