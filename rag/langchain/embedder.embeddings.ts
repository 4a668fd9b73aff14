import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import type { Embedder } from '../types.js';

/** The platform's embedder (Ollama) as LangChain embeddings, so vectors match those of ingestion. */
export class EmbedderEmbeddings extends Embeddings {
  constructor(
    private readonly embedder: Embedder,
    params: EmbeddingsParams = {},
  ) {
    super(params);
  }

  /** The model the vectors come from; documents record it so vectors of two models never mix. */
  get model(): string {
    return this.embedder.model;
  }

  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.caller.call(() => this.embedder.embed(texts));
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.caller.call(() => this.embedder.embed([text]));
    if (!vector) throw new Error('The embedder returned no vector for the query');
    return vector;
  }
}
