import { z } from 'zod';

const text = z.string().trim().min(1).max(4000);

const step = z
  .strictObject({
    afterDays: z.int().min(0).max(365).optional().describe('Whole days after the previous step (the first: after enrolling), at the same local time'),
    afterMinutes: z.int().min(0).max(525_600).optional().describe('Minutes after the previous step, added to afterDays'),
    text: text.optional(),
    passage: text.optional().describe('A passage of the material, shown as a quote'),
    question: z
      .strictObject({
        text: z.string().trim().min(1).max(1000),
        options: z.array(z.string().trim().min(1).max(100)).min(1).max(10).describe('Quick replies; answers are stored'),
      })
      .optional(),
  })
  .refine((s) => s.text !== undefined || s.passage !== undefined || s.question !== undefined, { message: 'a step needs text, a passage or a question' });

const slug = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-" only, at most 64 (a Telegram start link carries it)')
  .describe('Named by /start <slug> (t.me/<bot>?start=<slug>) and /program <slug>');

export const createProgramBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug,
  steps: z.array(step).min(1).max(365),
});

export const updateProgramBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  slug: slug.optional(),
  steps: z.array(step).min(1).max(365).optional().describe('Replaces the steps; steps already sent stay sent'),
});

export const programParams = z.object({ botId: z.string(), programId: z.string() });
export const enrollmentParams = programParams.extend({ enrollmentId: z.string(), action: z.enum(['pause', 'resume', 'leave']) });
export const contactParams = z.object({ botId: z.string(), contactId: z.string() });

const stepResponse = z.object({
  afterDays: z.number().optional(),
  afterMinutes: z.number().optional(),
  text: z.string().optional(),
  passage: z.string().optional(),
  question: z.object({ text: z.string(), options: z.array(z.string()) }).optional(),
});

export const programResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  steps: z.array(stepResponse),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const programListResponse = z.object({ programs: z.array(programResponse) });

export const enrollBody = z.strictObject({ contactId: z.string().describe("The contact's id (as in the bot's conversations)") });

export const enrollmentResponse = z.object({
  id: z.uuid(),
  programId: z.uuid(),
  contactId: z.uuid(),
  status: z.enum(['active', 'paused', 'left', 'completed']),
  nextStep: z.number().describe('Index of the step to be sent next'),
  enrolledAt: z.iso.datetime(),
  answers: z.array(z.object({ stepIndex: z.number(), optionIndex: z.number(), answer: z.string(), answeredAt: z.iso.datetime() })).optional(),
});
export const enrollmentListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().optional().describe('The id of the last enrollment of the previous page (nextCursor)'),
});
export const enrollmentListResponse = z.object({
  enrollments: z.array(
    enrollmentResponse.extend({
      contact: z.object({
        displayName: z.string().describe('The name the channel gave, else @username, the phone number or "Visitor …"'),
        channel: z.enum(['telegram', 'whatsapp', 'web']),
      }),
    }),
  ),
  nextCursor: z.string().nullable().describe('Pass as `before` for the next, older page; null on the last page'),
});

export const timeZoneBody = z.strictObject({ timeZone: z.string().min(1).max(64).describe('IANA zone, e.g. Europe/Paris') });
export const timeZoneResponse = z.object({ contactId: z.uuid(), timeZone: z.string() });

export const scheduledQuery = z.object({
  status: z.enum(['scheduled', 'sent', 'skipped', 'failed', 'cancelled']).optional(),
  contactId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const scheduledResponse = z.object({
  messages: z.array(
    z.object({
      id: z.uuid(),
      contactId: z.uuid(),
      channel: z.string(),
      kind: z.enum(['reminder', 'program_step', 'habit_ask', 'broadcast', 'creator_message']),
      effectKey: z.string(),
      dueAt: z.iso.datetime(),
      status: z.enum(['scheduled', 'sent', 'skipped', 'failed', 'cancelled']),
      reason: z.string().nullable().describe('Why it was skipped, failed or cancelled'),
    }),
  ),
});
