import { z } from 'zod';

export const searchQuery = z.object({
  q: z.string().trim().min(1).max(1000).describe('The question or words to look for'),
  k: z.coerce.number().int().min(1).max(50).default(5).describe('How many passages to return (1–50)'),
});

export const searchResult = z.object({
  documentId: z.uuid(),
  title: z.string(),
  text: z.string().describe('The passage as stored'),
  page: z.int().optional().describe('Page of the source, for paged formats such as PDF'),
  score: z.number().describe('Fused relevance (reciprocal rank fusion of vector and full-text rank); higher is better'),
});

export const searchResponse = z.object({ results: z.array(searchResult) });
