import { z } from 'zod';

export const searchQuery = z.object({
  q: z.string().trim().min(1).max(1000).describe('The question or words to look for'),
  k: z.coerce.number().int().min(1).max(50).default(5).describe('How many passages to return (1–50)'),
});

/** Where a passage or source sits in its document; shared by search results and reply sources. */
export const sourceLocation = z
  .object({
    kind: z
      .enum(['page', 'slide', 'time', 'row', 'chapter', 'path'])
      .describe('page (PDF), slide (decks), time (subtitles and transcripts), row (spreadsheets), chapter (e-books) or path (a file of a Notion or Obsidian export)'),
    value: z.number().describe("The page, slide, row or chapter number, the export file's number in path order, or the time in seconds from the start"),
    section: z.string().optional().describe("The sheet of a workbook row, a chapter's title, an export file's folder path"),
    label: z
      .string()
      .describe('The short form citations use: "p. 4", "slide 12", "at 04:31" ("1:02:07" past an hour), "sheet Plans, row 12", "ch. 3 “Winding down”", "Course/Week 1/Breathing"'),
  })
  .describe('Where in the document the passage sits; absent for sources without pages, slides, times, rows, chapters or paths');

export const searchResult = z.object({
  documentId: z.uuid(),
  title: z.string(),
  text: z.string().describe('The passage as stored'),
  page: z.int().optional().describe('Page of the source, for paged formats such as PDF'),
  location: sourceLocation.optional(),
  score: z.number().describe('Fused relevance (reciprocal rank fusion of vector and full-text rank); higher is better'),
});

export const searchResponse = z.object({ results: z.array(searchResult) });
