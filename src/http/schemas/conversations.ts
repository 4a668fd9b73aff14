import { z } from 'zod';

const channels = ['telegram', 'whatsapp', 'web'] as const;
const deliveryStatuses = ['pending', 'sending', 'sent', 'failed'] as const;
const cursor = z.string().min(1).max(400);

export const conversationsQuery = z.object({
  channel: z.enum(channels).optional().describe('Only conversations on this channel'),
  status: z
    .enum(['unanswered', 'unknown'])
    .optional()
    .describe("unanswered: the last user message has no reply yet or answering it failed; unknown: the last reply was the bot's \"I don't know\""),
  q: z.string().max(500).optional().describe('Words to find in the conversation’s messages, user messages and replies alike (whole words, any order; "quoted phrase", -excluded, or)'),
  before: cursor.optional().describe('The nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Conversations per page (1–100)'),
});

export const conversationParams = z.object({ botId: z.string(), conversationId: z.string() });

export const conversationsResponse = z.object({
  conversations: z.array(
    z.object({
      id: z.uuid(),
      channel: z.enum(channels),
      contact: z.object({
        id: z.uuid(),
        displayName: z.string().describe('The name the channel gave (WhatsApp profile, Telegram name), else @username, the phone number or "Visitor …"'),
        username: z.string().nullable(),
        tags: z.array(z.string()).describe('The contact’s tags, alphabetical; change them with PUT/POST/DELETE /v1/bots/{botId}/contacts/{contactId}/tags'),
      }),
      lastMessage: z
        .object({ type: z.enum(['user', 'reply', 'notice']), text: z.string().nullable(), at: z.string() })
        .nullable()
        .describe('The newest message, whoever sent it'),
      lastMessageAt: z.string(),
      unanswered: z.boolean().describe('The last user message has no reply yet, or answering it failed'),
      unknown: z.boolean().describe('The last reply was the bot’s "I don’t know" (no passage answered)'),
    }),
  ),
  nextCursor: z.string().nullable().describe('Pass as `before` for the next, older page; null on the last page. Positions are those of the first page’s time, so messages arriving meanwhile neither repeat nor skip a conversation'),
});

export const messagesQuery = z.object({
  before: cursor.optional().describe('The nextCursor of the previous (newer) page'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1–200)'),
});

const source = z.object({ documentId: z.string(), title: z.string(), page: z.number().optional() });

export const messagesResponse = z.object({
  items: z
    .array(
      z.discriminatedUnion('type', [
        z.object({
          type: z.literal('user'),
          id: z.uuid(),
          kind: z.string().describe('text, command, callback, attachment, edited, reaction, contact_status or unsupported'),
          text: z.string().nullable(),
          attachments: z.array(z.object({ type: z.string(), fileName: z.string().optional(), mimeType: z.string().optional(), sizeBytes: z.number().optional() })),
          at: z.string(),
        }),
        z.object({
          type: z.enum(['reply', 'notice']),
          id: z.uuid(),
          text: z.string().nullable().describe('Null while the reply is being written'),
          sources: z.array(source),
          delivery: z.object({ status: z.enum(deliveryStatuses), error: z.string().nullable(), sentAt: z.string().nullable() }),
          at: z.string(),
        }),
      ]),
    )
    .describe('Oldest first within the page'),
  nextCursor: z.string().nullable().describe('Pass as `before` for the page of older items; null when this page reaches the start'),
});
