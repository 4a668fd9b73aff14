import type { Embedder } from '../types.js';

/** No embedding model: documents are stored for full-text search only. */
export class NoEmbedder implements Embedder {
  readonly model = 'none';

  async available(): Promise<boolean> {
    return false;
  }

  async embed(): Promise<number[][]> {
    throw new Error('No embedding model is configured');
  }
}
