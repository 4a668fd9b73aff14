import { PerBotCache } from '../src/cache/per-bot.cache.js';
import { textSearchConfig } from './text-search-config.js';
import type { BotSearchProfile, ChunkPassage, ChunkSearch, Embedder, RetrievedPassage, RetrieveOptions, Retriever, VectorStore } from './types.js';

export interface HybridRetrieverOptions {
  /** Candidates taken from each of vector and full-text search before fusion. */
  candidates?: number;
  /** Reciprocal rank fusion constant: higher flattens the advantage of top ranks. */
  rrfK?: number;
  /** How long the question's embedding may take before the answer comes from full text alone. */
  embedTimeoutMs?: number;
  /** Told when vector search fails and the answer falls back to full text alone. */
  onVectorSearchFailed?(error: unknown): void;
  /**
   * How long a bot's search profile (language, whether it has vectors) serves later questions.
   * Every turn retrieves, and the profile changes rarely; see `forgetBot` for changes made here.
   */
  profileTtlMs?: number;
  /**
   * The embedder of another model than the default one, for bots whose documents are searched by
   * it (a per-bot model, or documents not yet switched to a new one).
   */
  embedderFor?(model: string): Embedder;
}

// Enough words for any real question; the rest only slows the full-text match down.
const MAX_QUERY_WORDS = 32;

/**
 * The words of a natural-language question for full-text search, space-separated: only letters and
 * digits survive, so nothing in it is query syntax. Null when nothing is left. Full-text search
 * matches chunks with any of them (websearch_to_tsquery would AND them all and miss).
 */
export function questionWords(question: string): string | null {
  const words = [...new Set(question.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean))].slice(0, MAX_QUERY_WORDS);
  return words.length ? words.join(' ') : null;
}

/** Reciprocal rank fusion: each list adds 1 / (k + rank) for every chunk it ranks (rank from 1). */
export function reciprocalRankFusion(lists: ChunkPassage[][], k: number, limit: number): RetrievedPassage[] {
  const fused = new Map<string, { passage: ChunkPassage; score: number; best: number }>();
  for (const list of lists) {
    list.forEach((passage, index) => {
      const rank = index + 1;
      const entry = fused.get(passage.chunkId) ?? { passage, score: 0, best: Infinity };
      entry.score += 1 / (k + rank);
      entry.best = Math.min(entry.best, rank);
      fused.set(passage.chunkId, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.best - b.best || a.passage.chunkId.localeCompare(b.passage.chunkId))
    .slice(0, limit)
    .map(({ passage, score }) => ({
      chunkId: passage.chunkId,
      documentId: passage.documentId,
      title: passage.title,
      text: passage.text,
      ...(passage.page === null ? {} : { page: passage.page }),
      ...(passage.location === null ? {} : { location: passage.location }),
      score,
    }));
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Hybrid retrieval over one bot: nearest chunks by embedding plus best full-text matches, fused by
 * reciprocal rank. Without an embedding model (or embedded documents) it is full text alone.
 */
export class HybridRetriever implements Retriever {
  private readonly candidates: number;
  private readonly rrfK: number;
  private readonly embedTimeoutMs: number;
  private readonly profiles: PerBotCache<BotSearchProfile>;

  constructor(
    private readonly chunks: ChunkSearch,
    private readonly vectors: VectorStore,
    private readonly embedder: Embedder | undefined,
    private readonly options: HybridRetrieverOptions = {},
  ) {
    this.candidates = options.candidates ?? 50;
    this.rrfK = options.rrfK ?? 60;
    this.embedTimeoutMs = options.embedTimeoutMs ?? 10_000;
    // A stale profile costs little and lasts at most the TTL: a bot whose first embedded document
    // just became ready elsewhere is searched by full text alone, and a new language stems the
    // question as the old one did. Ingestion in this process calls `forgetBot` (src/platform.ts).
    this.profiles = new PerBotCache((botId) => this.chunks.profile(botId), { ttlMs: options.profileTtlMs ?? 5_000 });
  }

  /** Forgets what is cached about a bot after a change to it in this process (e.g. a document ingested). */
  forgetBot(botId: string): void {
    this.profiles.invalidate(botId);
  }

  async retrieve(botId: string, query: string, options: RetrieveOptions): Promise<RetrievedPassage[]> {
    return this.retrieveWith(botId, query, options);
  }

  /**
   * As `retrieve`, with the question's embedding by the default model already computed (or
   * explicitly none, for full text alone); benchmarks use it.
   */
  async retrieveWith(botId: string, query: string, options: RetrieveOptions, queryEmbedding?: number[] | null): Promise<RetrievedPassage[]> {
    const profile = await this.profiles.get(botId);
    if (!profile) return [];
    const words = questionWords(query);
    // Each document is searched by its own active model, so while a bot switches models the
    // question is embedded by each model still in use and each list ranks only that model's
    // documents; the lists never share a chunk, and fusion interleaves them by rank.
    const models = queryEmbedding === null ? [] : profile.vectorModels;
    const lists = await Promise.all([
      ...models.map((model) => this.vectorCandidates(botId, query, model, model === this.embedder?.model ? (queryEmbedding ?? undefined) : undefined)),
      words ? this.chunks.lexical(botId, textSearchConfig(profile.language), words, this.candidates) : Promise.resolve([]),
    ]);
    return reciprocalRankFusion(lists, this.rrfK, Math.max(1, options.k));
  }

  private embedderOf(model: string): Embedder | undefined {
    return this.embedder?.model === model ? this.embedder : this.options.embedderFor?.(model);
  }

  private async vectorCandidates(botId: string, query: string, model: string, given: number[] | undefined): Promise<ChunkPassage[]> {
    try {
      let embedding = given;
      if (!embedding) {
        const embedder = this.embedderOf(model);
        if (!embedder || !(await embedder.available())) return [];
        [embedding] = await withTimeout(embedder.embed([query]), this.embedTimeoutMs, 'embedding the question');
        if (!embedding) return [];
      }
      // Vectors may outlive their chunks briefly (re-ingestion, deletion): only live chunks count.
      // A store beside the chunks joins them in its own query; otherwise they are looked up here.
      if (this.vectors.queryPassages) return await this.vectors.queryPassages(botId, embedding, this.candidates, model);
      const hits = await this.vectors.query(botId, embedding, this.candidates, model);
      if (!hits.length) return [];
      const live = new Map((await this.chunks.passages(botId, hits.map((h) => h.chunkId), model)).map((p) => [p.chunkId, p]));
      return hits.flatMap((h) => live.get(h.chunkId) ?? []);
    } catch (err) {
      this.options.onVectorSearchFailed?.(err);
      return [];
    }
  }
}
