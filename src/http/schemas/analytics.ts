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

const rate = z.number().min(0).max(1).nullable();

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
        checkIns: z
          .object({
            asked: count.describe('Habit asks that went out for the day'),
            due: count.describe('Subscription days due: asked (or owed an ask that could not go out) or done; an unanswered one once the day is over for the contact'),
            done: count,
            skipped: count.describe('Answered "not today"'),
            adherence: rate.describe('done / due; null when nothing was due'),
          })
          .describe("Habit check-ins by the contact's own local date (the date asked about), whatever the zone of the range"),
        programs: z
          .object({
            enrolled: count.describe('Enrollments started'),
            stepsSent: count.describe('Program steps delivered'),
            completed: count.describe('Enrollments that finished their last step'),
            left: count.describe('Enrollments left'),
          })
          .describe('Program enrollments and steps that day'),
      }),
    )
    .describe('Every day of the range, quiet days as zeros'),
  topQuestions: z.array(questionGroup).describe('Most asked questions, near-identical ones grouped'),
  uncoveredQuestions: z.array(questionGroup).describe('Questions the material did not cover, most often first: what to write next'),
  habits: z
    .array(
      z.object({
        habitId: z.string(),
        name: z.string(),
        asked: count,
        due: count,
        done: count,
        skipped: count,
        adherence: rate.describe('done / due over the range; null when nothing was due'),
      }),
    )
    .describe("Each of the bot's habits with its check-ins summed over the range: which habit works"),
  programs: z
    .array(
      z.object({
        programId: z.string(),
        name: z.string(),
        enrolled: count.describe('Enrollments started in the range'),
        completed: count.describe('Of those, how many have completed the program by now'),
        left: count.describe('Of those, how many were left'),
        completionRate: rate.describe('completed / enrolled; null without enrollments'),
      }),
    )
    .describe("Each of the bot's programs and what became of the enrollments started in the range: which program works"),
});
