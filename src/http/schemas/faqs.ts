import { z } from 'zod';

const question = z.string().trim().min(1).max(1000).describe('The question as users ask it');
const answer = z.string().trim().min(1).max(4000).describe('The creator’s own answer, sent as it is when no model answers');

export const createFaqBody = z.strictObject({ question, answer });

export const updateFaqBody = z
  .strictObject({ question: question.optional(), answer: answer.optional() })
  .refine((b) => b.question !== undefined || b.answer !== undefined, { message: 'give a question, an answer or both' });

export const faqParams = z.object({ botId: z.string(), faqId: z.string() });

export const faqListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Pairs per page (1–200)'),
  after: z.string().regex(/^\d{1,18}$/, 'the nextCursor of the previous page').optional().describe('The nextCursor of the previous page'),
});

export const faqResponse = z.object({
  id: z.uuid(),
  question: z.string(),
  answer: z.string(),
  source: z.enum(['manual', 'document']).describe('manual: written here; document: read from an uploaded FAQ sheet (change the sheet to change it)'),
  documentId: z.uuid().nullable().describe('The FAQ sheet it was read from'),
  location: z
    .object({ sheet: z.string().nullable(), row: z.int(), label: z.string().describe('"sheet FAQ, row 4" or "row 4"') })
    .nullable()
    .describe('Where in the sheet'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const faqListResponse = z.object({
  faqs: z.array(faqResponse),
  nextCursor: z.string().nullable().describe('Pass as `after` for the next page; null on the last page'),
});
