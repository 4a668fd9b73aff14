import { z } from 'zod';

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

export const analyticsQuery = z.object({
  from: date.optional().describe('First local day (YYYY-MM-DD), included; default 29 days before `to`'),
  to: date.optional().describe('Last local day (YYYY-MM-DD), included; default today in `tz`. At most 366 days in all'),
  tz: z.string().max(64).optional().describe('IANA time zone the days follow, e.g. Europe/Berlin (DST changes included); default UTC'),
});

const count = z.number().int().min(0);
const questionGroup = z.object({
  question: z.string().describe('The latest wording of the group'),
  count: count.describe('How often the group was asked in the range'),
  uncovered: count.describe('How often it was answered with "I don\'t know"'),
  lastAskedAt: z.iso.datetime(),
});

export const analyticsResponse = z.object({
  botId: z.string(),
  timeZone: z.string().describe('The canonical name of the zone the days follow'),
  from: z.string(),
  to: z.string(),
  days: z
    .array(
      z.object({
        date: z.string().describe('YYYY-MM-DD in the time zone'),
        conversations: count.describe('Conversations in which users wrote'),
        activeContacts: count.describe('Contacts who wrote'),
        messagesIn: count.describe('Messages users sent (not edits, reactions or block/unblock)'),
        messagesOut: count.describe('Messages the bot sent'),
        replyLatencyMs: z
          .object({ p50: z.number().nullable(), p95: z.number().nullable() })
          .describe("From the user's (newest) message to the reply being sent; null without replies"),
        uncovered: count.describe('Answers where the material did not cover the question'),
        deliveries: z
          .object({ pending: count, sending: count, sent: count, failed: count })
          .describe('Outgoing messages created that day, by ledger state'),
      }),
    )
    .describe('Every day of the range, quiet days as zeros'),
  topQuestions: z.array(questionGroup).describe('Most asked questions, near-identical ones grouped'),
  uncoveredQuestions: z.array(questionGroup).describe('Questions the material did not cover, most often first: what to write next'),
});
