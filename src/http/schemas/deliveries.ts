import { z } from 'zod';

const statuses = ['pending', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;

export const deliveriesQuery = z.object({
  status: z.enum(statuses).optional().describe('Only messages in this state, e.g. failed'),
  before: z.iso.datetime({ offset: true }).optional().describe('Only messages created before this instant (the last createdAt of the previous page)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const deliveriesResponse = z.object({
  deliveries: z.array(
    z.object({
      id: z.string(),
      conversationId: z.string(),
      channel: z.string(),
      contact: z.object({ externalId: z.string(), displayName: z.string().optional() }),
      status: z.enum(statuses),
      text: z.string().nullable(),
      externalMessageIds: z.array(z.string()),
      createdAt: z.string(),
      sentAt: z.string().nullable(),
      error: z.object({ code: z.number().nullable(), title: z.string(), details: z.string().optional() }).nullable(),
      reportedAt: z.string().nullable(),
    }),
  ),
});
