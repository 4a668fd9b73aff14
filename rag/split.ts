import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { ChunkDraft, LoadedDocument, Splitter } from './types.js';

export interface SplitOptions {
  /** Maximum characters per chunk. */
  chunkSize: number;
  /** Characters repeated between neighbouring chunks so a sentence cut at a border stays findable. */
  chunkOverlap: number;
}

/** Collapses runs of spaces, trims lines, keeps at most one blank line, drops NULs PostgreSQL rejects. */
export function normaliseWhitespace(text: string, keepIndent: boolean): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replaceAll('\u0000', '')
    .split('\n')
    .map((line) => {
      const indent = keepIndent ? (/^[ \t]*/.exec(line)?.[0] ?? '').replace(/\t/g, '  ') : '';
      const body = line.trim().replace(/[^\S\n]+/g, ' ');
      return body ? indent + body : '';
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/**
 * Recursive character splitting (Markdown-aware for Markdown sources) page by page, so every chunk
 * keeps the page it came from and no chunk straddles two pages. Located entries (a transcript's
 * passages, each at its first cue's time) are split the same way and never merged, so a chunk's
 * location is always where its text begins or earlier. An entry's section heads each of its chunks.
 */
export class TextSplitter implements Splitter {
  private readonly plain: RecursiveCharacterTextSplitter;
  private readonly markdown: RecursiveCharacterTextSplitter;

  constructor(options: SplitOptions) {
    // The splitter refuses an overlap as large as a chunk; half a chunk is already generous.
    const fields = { chunkSize: options.chunkSize, chunkOverlap: Math.min(options.chunkOverlap, Math.floor(options.chunkSize / 2)) };
    this.plain = new RecursiveCharacterTextSplitter(fields);
    this.markdown = RecursiveCharacterTextSplitter.fromLanguage('markdown', fields);
  }

  async split(document: LoadedDocument): Promise<ChunkDraft[]> {
    const markdown = document.format === 'markdown';
    const splitter = markdown ? this.markdown : this.plain;
    const drafts: ChunkDraft[] = [];
    for (const page of document.pages) {
      const text = normaliseWhitespace(page.text, markdown);
      if (!text) continue;
      const section = page.section ? normaliseWhitespace(page.section, false).replace(/\n/g, ' ') : '';
      for (const piece of await splitter.splitText(text)) {
        const trimmed = piece.trim();
        if (!trimmed) continue;
        const chunk = section && !firstLine(trimmed).includes(section) ? `${section}\n\n${trimmed}` : trimmed;
        drafts.push({
          ordinal: drafts.length,
          ...(page.page !== undefined ? { page: page.page } : {}),
          ...(page.location !== undefined ? { location: page.location } : {}),
          text: chunk,
        });
      }
    }
    return drafts;
  }
}
