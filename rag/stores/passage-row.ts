import type { ChunkPassage, SourceLocation } from '../types.js';

/** The columns every passage query selects, `c` being `chunks` and `d` its document. */
export const PASSAGE_COLUMNS = 'c.id AS chunk_id, c.document_id, d.title, c.text, c.page, c.location_kind, c.location_value, c.location_section';

/** A live chunk with its document's title, as SQL over `chunks` joined to `documents` returns it. */
export interface PassageRow {
  chunk_id: string;
  document_id: string;
  title: string;
  text: string;
  page: number | null;
  location_kind: Exclude<SourceLocation['kind'], 'page'> | null;
  location_value: number | null;
  location_section: string | null;
}

function locationOf(row: PassageRow): SourceLocation | null {
  if (row.location_kind !== null && row.location_value !== null) {
    return { kind: row.location_kind, value: row.location_value, ...(row.location_section !== null ? { section: row.location_section } : {}) };
  }
  // Chunks written before locations existed, and every paged chunk since, are located by their page.
  return row.page !== null ? { kind: 'page', value: row.page } : null;
}

/** The passage retrieval shows for a chunk row. */
export function toPassage(row: PassageRow): ChunkPassage {
  return { chunkId: row.chunk_id, documentId: row.document_id, title: row.title, text: row.text, page: row.page, location: locationOf(row) };
}
