import { Ollama } from 'ollama';
import type { FetchMaker } from '../../src/http-client/outgoing-fetch.js';
import { createUndiciFetch } from '../../src/http-client/undici-fetch.js';
import type { Embedder } from '../types.js';

export interface OllamaEmbedderOptions {
  host: string;
  model: string;
  batchSize: number;
  /** How long `available()` waits for Ollama's model list. */
  probeTimeoutMs?: number;
  /** How long `available()` trusts its last answer. */
  probeCacheMs?: number;
  /** Per embed request; a first request may load the model, which takes a while. */
  requestTimeoutMs?: number;
  /** Makes the clients' fetch (HTTP_CLIENT); the lean one unless given. */
  fetch?: FetchMaker;
}

/** Raised when Ollama cannot produce embeddings; ingestion retries later. */
export class EmbedderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbedderError';
  }
}

/** `nomic-embed-text` and `nomic-embed-text:latest` name the same model. */
function sameModel(a: string, b: string): boolean {
  const full = (name: string) => (name.includes(':') ? name : `${name}:latest`);
  return full(a) === full(b);
}

/** Embeddings from a local Ollama server through its `/api/embed` endpoint. */
export class OllamaEmbedder implements Embedder {
  readonly model: string;
  private readonly client: Ollama;
  private readonly probe: Ollama;
  private cached: { value: boolean; at: number } | undefined;

  constructor(private readonly options: OllamaEmbedderOptions) {
    this.model = options.model;
    // The timeouts bound the wait for an answer and each silence within it (undici's timers, free per request).
    const makeFetch = options.fetch ?? createUndiciFetch;
    this.client = new Ollama({ host: options.host, fetch: makeFetch({ timeoutMs: options.requestTimeoutMs ?? 120_000 }) });
    this.probe = new Ollama({ host: options.host, fetch: makeFetch({ timeoutMs: options.probeTimeoutMs ?? 2_000 }) });
  }

  /** True when Ollama answers and has the model pulled; the answer is cached briefly. */
  async available(): Promise<boolean> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < (this.options.probeCacheMs ?? 10_000)) return this.cached.value;
    let value: boolean;
    try {
      const { models } = await this.probe.list();
      value = models.some((m) => sameModel(m.name, this.model) || sameModel(m.model, this.model));
    } catch {
      value = false;
    }
    this.cached = { value, at: Date.now() };
    return value;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.options.batchSize) {
      const batch = texts.slice(start, start + this.options.batchSize);
      let embeddings: number[][];
      try {
        ({ embeddings } = await this.client.embed({ model: this.model, input: batch, truncate: true }));
      } catch (err) {
        // The model may have gone away; the next availability check must ask again.
        this.cached = undefined;
        throw new EmbedderError(`Embedding with ${this.model} failed: ${(err as Error).message}`, { cause: err });
      }
      if (embeddings.length !== batch.length) {
        throw new EmbedderError(`Ollama returned ${embeddings.length} embeddings for ${batch.length} texts`);
      }
      vectors.push(...embeddings);
    }
    return vectors;
  }
}
