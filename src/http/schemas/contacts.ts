import { z } from 'zod';

// Shape only: the service normalises and checks each tag (letters, digits, `_ . : -`), so a bad
// tag is answered with the tag named.
const tag = z.string().max(200);

export const contactParams = z.object({ botId: z.string(), contactId: z.string() });
export const contactTagParams = z.object({ botId: z.string(), contactId: z.string(), tag: z.string() });

export const tagsBody = z.strictObject({
  tags: z
    .array(tag)
    .max(200)
    .describe('Case-insensitive labels, stored trimmed and in lower case: 1–64 letters, digits, "_", ".", ":" or "-"; at most 50 per contact'),
});

export const tagsResponse = z.object({ contactId: z.uuid(), tags: z.array(z.string()).describe('The contact’s tags, alphabetical') });

export const contactListQuery = z.object({
  tag: z.string().max(200).optional().describe('Only contacts with this tag (case-insensitive)'),
  before: z.string().optional().describe('The id of the last contact of the previous page (nextCursor)'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const contactListResponse = z.object({
  contacts: z.array(
    z.object({
      id: z.uuid(),
      channel: z.enum(['telegram', 'whatsapp', 'web']),
      displayName: z.string().describe('The name the channel gave, else @username, the phone number or "Visitor …"'),
      username: z.string().nullable(),
      tags: z.array(z.string()),
      optedOut: z.boolean().describe('No proactive messages: /stop, STOP, or WhatsApp told us the user stopped marketing messages'),
      blocked: z.boolean().describe('The user blocked the bot'),
      createdAt: z.iso.datetime(),
    }),
  ),
  nextCursor: z.string().nullable().describe('Pass as `before` for the next, older page; null on the last page'),
});
