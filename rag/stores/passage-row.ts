import type { ChunkPassage } from '../types.js';

/** A live chunk with its document's title, as SQL over `chunks` joined to `documents` returns it. */
export interface PassageRow {
  chunk_id: string;
  document_id: string;
  title: string;
  text: string;
  page: number | null;
}

/** The passage retrieval shows for a chunk row. */
export function toPassage(row: PassageRow): ChunkPassage {
  return { chunkId: row.chunk_id, documentId: row.document_id, title: row.title, text: row.text, page: row.page };
}
