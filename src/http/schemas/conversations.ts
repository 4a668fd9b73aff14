import { z } from 'zod';
import { sourceLocation } from './search.js';

const channels = ['telegram', 'whatsapp', 'web'] as const;
const deliveryStatuses = ['pending', 'sending', 'sent', 'failed'] as const;
const cursor = z.string().min(1).max(400);

export const conversationsQuery = z.object({
  channel: z.enum(channels).optional().describe('Only conversations on this channel'),
  status: z
    .enum(['unanswered', 'unknown', 'taken_over', 'wants_human'])
    .optional()
    .describe(
      "unanswered: the last user message has no reply yet or answering it failed; unknown: the last reply was the bot's \"I don't know\"; taken_over: a person has the conversation; wants_human: the contact asked for a person",
    ),
  q: z.string().max(500).optional().describe('Words to find in the conversation’s messages, user messages and replies alike (whole words, any order; "quoted phrase", -excluded, or)'),
  before: cursor.optional().describe('The nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(100).default(30).describe('Conversations per page (1–100)'),
});

export const conversationParams = z.object({ botId: z.string(), conversationId: z.string() });

/** A conversation as the inbox lists it. */
export const conversationResponse = z.object({
  id: z.uuid(),
  channel: z.enum(channels),
  contact: z.object({
    id: z.uuid(),
    displayName: z.string().describe('The name the channel gave (WhatsApp profile, Telegram name), else @username, the phone number or "Visitor …"'),
    username: z.string().nullable(),
    tags: z.array(z.string()).describe('The contact’s tags, alphabetical; change them with PUT/POST/DELETE /v1/bots/{botId}/contacts/{contactId}/tags'),
  }),
  lastMessage: z
    .object({ type: z.enum(['user', 'reply', 'notice', 'creator']), text: z.string().nullable(), at: z.string() })
    .nullable()
    .describe('The newest message, whoever sent it (creator: the creator wrote it during a takeover)'),
  lastMessageAt: z.string(),
  unanswered: z.boolean().describe('The last user message has no reply yet, or answering it failed'),
  unknown: z.boolean().describe('The last reply was the bot’s "I don’t know" (no passage answered)'),
  takenOver: z.boolean().describe('A person has taken the conversation over: the bot answers nothing until it is released'),
  wantsHuman: z.boolean().describe('The contact asked for a person (/human or a handoff phrase) and no one has taken over since'),
});

export const conversationsResponse = z.object({
  conversations: z.array(conversationResponse),
  nextCursor: z.string().nullable().describe('Pass as `before` for the next, older page; null on the last page. Positions are those of the first page’s time, so messages arriving meanwhile neither repeat nor skip a conversation'),
});

export const messagesQuery = z.object({
  before: cursor.optional().describe('The nextCursor of the previous (newer) page'),
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1–200)'),
});

const source = z.object({ documentId: z.string(), title: z.string(), page: z.number().optional(), location: sourceLocation.optional() });

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
          held: z.boolean().describe('It arrived while a person had the conversation: the bot did not answer it'),
          at: z.string(),
        }),
        z.object({
          type: z.enum(['reply', 'notice', 'creator']).describe("reply: the bot's answer; notice: a message of the bot's own accord; creator: what the creator wrote"),
          id: z.uuid(),
          text: z.string().nullable().describe('Null while the reply is being written'),
          sources: z.array(source),
          delivery: z.object({ status: z.enum(deliveryStatuses), error: z.string().nullable(), sentAt: z.string().nullable() }),
          at: z.string(),
        }),
        z.object({
          type: z.literal('event'),
          id: z.uuid(),
          event: z.enum(['takeover', 'release', 'human_requested']),
          by: z.enum(['creator', 'idle', 'contact']).describe('idle: released after TAKEOVER_IDLE_RELEASE_MINUTES without a creator message'),
          at: z.string(),
        }),
      ]),
    )
    .describe('Oldest first within the page'),
  nextCursor: z.string().nullable().describe('Pass as `before` for the page of older items; null when this page reaches the start'),
});

export const takeoverResponse = z.object({
  conversationId: z.uuid(),
  takenOver: z.boolean(),
  takenOverAt: z.string().nullable().describe('Since when a person has had the conversation'),
  wantsHuman: z.boolean(),
});

export const creatorMessageBody = z.object({
  text: z.string().trim().min(1).max(4000).describe('What the contact receives, as written'),
  clientMessageId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1–100 letters, digits, dots, colons, dashes or underscores')
    .optional()
    .describe('Your id for this message: sending it again with the same id sends nothing twice and answers what became of the first'),
});

export const creatorMessageResponse = z.object({
  id: z.uuid(),
  clientMessageId: z.string(),
  text: z.string().nullable(),
  status: z.enum(deliveryStatuses).describe('sent; pending: the channel failed in passing and the message is retried'),
  error: z.string().nullable(),
  at: z.string(),
  sentAt: z.string().nullable(),
});
