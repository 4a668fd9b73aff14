import { Document } from '@langchain/core/documents';
import { locationLabel } from '../../src/text/location-label.js';
import type { SourceLocation } from '../types.js';

/**
 * What every knowledge-base document handed to LangChain carries in `metadata`, whether it came
 * from the retriever in this process, from the search endpoint over HTTP, or from a vector store.
 */
export interface PassageMetadata {
  botId: string;
  documentId: string;
  title: string;
  /** The chunk it is; absent over HTTP, where the search endpoint does not show chunk ids. */
  chunkId?: string;
  /** Page of a paged source (PDF). */
  page?: number;
  /** Page, slide, time in seconds, row, chapter or export path, with its citation label (`p. 4`, `at 04:31`, `ch. 3 “Winding down”`). */
  location?: SourceLocation & { label: string };
  /** Higher is better: fused rank for retrievers, cosine similarity for vector stores. */
  score: number;
}

/** A passage as retrieval, a vector store or the search endpoint gives it; absent page and location may be null. */
export interface PassageInput {
  text: string;
  documentId: string;
  title: string;
  chunkId?: string;
  page?: number | null;
  location?: SourceLocation | null;
  score: number;
}

/** A passage as a LangChain document: its text as the page content, where it came from as metadata. */
export function passageDocument(botId: string, passage: PassageInput): Document<PassageMetadata> {
  const { text, chunkId, page, location, documentId, title, score } = passage;
  // Only what the passage has: no undefined or null fields in `metadata`.
  const metadata: PassageMetadata = {
    botId,
    documentId,
    title,
    ...(chunkId ? { chunkId } : {}),
    ...(page == null ? {} : { page }),
    ...(location == null ? {} : { location: { kind: location.kind, value: location.value, ...(location.section !== undefined ? { section: location.section } : {}), label: locationLabel(location) } }),
    score,
  };
  return new Document({ pageContent: text, metadata, ...(chunkId ? { id: chunkId } : {}) });
}

/**
 * Numbered passages with their sources, as a prompt's context: `[1] Title (at 01:05)` then the text.
 * The numbers let an answer cite its sources.
 */
export function formatPassages(documents: ReadonlyArray<Document<PassageMetadata>>): string {
  return documents.map((doc, i) => `[${i + 1}] ${sourceLabel(doc.metadata)}\n${doc.pageContent}`).join('\n\n');
}

/** `Title`, or `Title (p. 4)` / `(slide 12)` / `(at 04:31)` / `(ch. 3 “Winding down”)` where the passage has a location. */
export function sourceLabel(metadata: PassageMetadata): string {
  const location = metadata.location;
  return location ? `${metadata.title} (${location.label})` : metadata.title;
}
