import { z } from 'zod';

const recipientStatus = z.enum(['scheduled', 'sent', 'skipped', 'failed', 'cancelled']);

export const createBroadcastBody = z.strictObject({
  text: z.string().trim().min(1).max(4000),
  segment: z
    .strictObject({
      type: z.enum(['all', 'program', 'habit', 'tag', 'channel']).describe('program and habit take the id as value, tag the tag, channel its name'),
      value: z.string().trim().min(1).max(200).optional().describe('program or habit: its id; tag: the tag (case-insensitive); channel: telegram, whatsapp or web'),
    })
    .describe('Who receives it: every contact, a program’s active enrollments, a habit’s subscribers, the contacts with a tag, or one channel’s contacts'),
  sendAt: z.iso.datetime({ offset: true })
    .optional()
    .describe('When to send; now when absent or past. The recipients are the segment’s contacts at that time, not when the broadcast is created'),
});

export const broadcastParams = z.object({ botId: z.string(), broadcastId: z.string() });

export const broadcastListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().optional().describe('The id of the last broadcast of the previous page'),
});

export const recipientsQuery = z.object({
  status: recipientStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().optional().describe('The sendId of the last recipient of the previous page'),
});

export const broadcastAccepted = z.object({ id: z.uuid(), status: z.enum(['scheduled', 'sending', 'done', 'cancelled']) });

export const broadcastResponse = z.object({
  id: z.uuid(),
  text: z.string(),
  segment: z.object({ type: z.enum(['all', 'program', 'habit', 'tag', 'channel']), value: z.string().optional() }),
  sendAt: z.iso.datetime(),
  recipientsChosenAt: z.iso.datetime().nullable().describe('When the segment was read and the recipients stored; null while the broadcast waits for sendAt (totals count 0 until then)'),
  createdAt: z.iso.datetime(),
  cancelledAt: z.iso.datetime().nullable(),
  status: z.enum(['scheduled', 'sending', 'done', 'cancelled']).describe('done once every recipient is settled'),
  total: z.int(),
  sent: z.int(),
  failed: z.int(),
  skipped: z.int().describe('Opted out, blocked, forgotten, web chat, or WhatsApp outside the window without a template'),
  cancelled: z.int(),
  pending: z.int().describe('Recipients not settled yet'),
});

export const broadcastListResponse = z.object({ broadcasts: z.array(broadcastResponse) });

export const recipientsResponse = z.object({
  recipients: z.array(
    z.object({
      sendId: z.uuid(),
      contactId: z.uuid(),
      displayName: z.string().describe('The name the channel gave, else @username, the phone number or "Visitor …"'),
      channel: z.string(),
      status: recipientStatus,
      reason: z.string().nullable().describe('Why it was skipped, failed or cancelled'),
      settledAt: z.iso.datetime().nullable(),
    }),
  ),
});
