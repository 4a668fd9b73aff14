import { z } from 'zod';
import { botParams } from './bots.js';

export const eventsParams = botParams;

export const eventsQuery = z.object({
  ticket: z.string().max(1000).optional().describe('A stream ticket from POST /v1/bots/{botId}/events/ticket, for clients that cannot send headers (EventSource)'),
  lastEventId: z
    .string()
    .max(200)
    .optional()
    .describe('Resume after this event id, as the Last-Event-ID header does (a new EventSource cannot set that header)'),
});

export const ticketResponse = z.object({
  ticket: z.string(),
  expiresAt: z.string(),
});
