import { z } from 'zod';

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour time "HH:MM"').describe("When the contact is asked, in their own time zone");
const daysOfWeek = z
  .array(z.int().min(1).max(7))
  .min(1)
  .max(7)
  .refine((days) => new Set(days).size === days.length, { message: 'each day once' })
  .describe('ISO weekdays the contact is asked on (1 = Monday … 7 = Sunday); every day when absent');
const timesPerWeek = z.int().min(1).max(7).describe('A weekly target: days done per ISO week (streaks and adherence then count weeks)');
const name = z.string().trim().min(1).max(200);

export const createHabitBody = z
  .strictObject({ name, localTime, daysOfWeek: daysOfWeek.optional(), timesPerWeek: timesPerWeek.optional() })
  .refine((h) => !h.timesPerWeek || !h.daysOfWeek || h.timesPerWeek <= h.daysOfWeek.length, { message: 'timesPerWeek cannot exceed the days asked', path: ['timesPerWeek'] });

export const updateHabitBody = z.strictObject({
  name: name.optional(),
  localTime: localTime.optional(),
  daysOfWeek: daysOfWeek.optional(),
  timesPerWeek: timesPerWeek.nullable().optional().describe('null makes it a daily habit again'),
});

export const habitParams = z.object({ botId: z.string(), habitId: z.string() });

export const habitResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  localTime: z.string(),
  daysOfWeek: z.array(z.int()).describe('Empty: every day'),
  timesPerWeek: z.int().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const habitListResponse = z.object({ habits: z.array(habitResponse) });

export const subscribeBody = z.strictObject({ contactId: z.string().describe("The contact's id (as in the bot's conversations)") });

const adherence = z.object({
  done: z.int(),
  due: z.int().describe('Due days (weeks, for a weekly target) in the window; an open today or week counts once done'),
  rate: z.number().nullable(),
});

export const subscriptionResponse = z.object({
  id: z.uuid(),
  habitId: z.uuid(),
  contactId: z.uuid(),
  status: z.enum(['active', 'paused', 'stopped']),
  startedOn: z.string().describe("The contact's local date when they joined"),
  timeZone: z.string().optional(),
  today: z.string().optional().describe("The contact's local date now"),
  stats: z
    .object({
      currentStreak: z.int(),
      longestStreak: z.int(),
      streakUnit: z.enum(['days', 'weeks']),
      last7: adherence,
      last30: adherence,
    })
    .optional(),
});
export const subscriptionListResponse = z.object({ subscriptions: z.array(subscriptionResponse) });
