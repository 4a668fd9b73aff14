import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { SourceLocation } from '../types.js';
import { passageDocument, type PassageMetadata } from './passage.document.js';

export interface KnowledgeBaseHttpRetrieverInput extends BaseRetrieverInput {
  /** The platform's base URL, e.g. `http://localhost:3000`. */
  url: string;
  /** An API key of the bot's creator (`POST /v1/api-keys`), sent as a bearer token. */
  apiKey: string;
  botId: string;
  /** Passages per question, 1–50; default 5. */
  k?: number;
  /** Time limit of one search request; default 30 s. */
  timeoutMs?: number;
  /** The fetch to use; the global one unless given. */
  fetch?: typeof fetch;
}

/** One result of `GET /v1/bots/:botId/search`. */
interface SearchResult {
  documentId: string;
  title: string;
  text: string;
  page?: number;
  location?: SourceLocation & { label: string };
  score: number;
}

/** The search endpoint answered with an error; `code` and `status` are the API's. */
export class KnowledgeBaseSearchError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'KnowledgeBaseSearchError';
  }
}

/**
 * A creator's knowledge base as a LangChain retriever, from anywhere: it asks a running platform's
 * search endpoint (`GET /v1/bots/:botId/search`), which retrieves as the bot itself does.
 */
export class KnowledgeBaseHttpRetriever extends BaseRetriever<PassageMetadata> {
  static override lc_name(): string {
    return 'KnowledgeBaseHttpRetriever';
  }

  lc_namespace = ['coachbot', 'retrievers'];
  readonly botId: string;
  readonly k: number;
  private readonly endpoint: URL;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(input: KnowledgeBaseHttpRetrieverInput) {
    super(input);
    this.botId = input.botId;
    this.k = input.k ?? 5;
    this.endpoint = new URL(`v1/bots/${encodeURIComponent(input.botId)}/search`, input.url.endsWith('/') ? input.url : `${input.url}/`);
    this.apiKey = input.apiKey;
    this.timeoutMs = input.timeoutMs ?? 30_000;
    this.fetch = input.fetch ?? globalThis.fetch;
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<Document<PassageMetadata>[]> {
    const url = new URL(this.endpoint);
    url.searchParams.set('q', query);
    url.searchParams.set('k', String(this.k));
    const response = await this.fetch(url, {
      headers: { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as { results?: SearchResult[]; error?: { code?: string; message?: string } } | null;
    if (!response.ok || !Array.isArray(body?.results)) {
      throw new KnowledgeBaseSearchError(
        response.status,
        body?.error?.code ?? 'UNEXPECTED_RESPONSE',
        `Searching bot ${this.botId} answered ${response.status}: ${body?.error?.message ?? 'no search results in the answer'}`,
      );
    }
    return body.results.map((r) => passageDocument(this.botId, r));
  }
}
