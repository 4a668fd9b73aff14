import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import type { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { Retriever } from '../types.js';
import { passageDocument, type PassageMetadata } from './passage.document.js';

export interface KnowledgeBaseRetrieverInput extends BaseRetrieverInput {
  /** The platform's hybrid retriever (rag/retrieve.ts), the same one the bot answers with. */
  retriever: Retriever;
  /** The bot whose knowledge base is searched; nothing of any other bot is ever returned. */
  botId: string;
  /** Passages per question; default 5. */
  k?: number;
}

/**
 * One bot's knowledge base as a LangChain retriever, in the platform's process: vector and BM25
 * full-text search fused by reciprocal rank, exactly as the bot retrieves before answering.
 */
export class KnowledgeBaseRetriever extends BaseRetriever<PassageMetadata> {
  static override lc_name(): string {
    return 'KnowledgeBaseRetriever';
  }

  lc_namespace = ['coachbot', 'retrievers'];
  readonly botId: string;
  readonly k: number;
  private readonly retriever: Retriever;

  constructor(input: KnowledgeBaseRetrieverInput) {
    super(input);
    this.retriever = input.retriever;
    this.botId = input.botId;
    this.k = input.k ?? 5;
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<Document<PassageMetadata>[]> {
    const passages = await this.retriever.retrieve(this.botId, query, { k: this.k });
    return passages.map((p) => passageDocument(this.botId, p));
  }
}
