/**
 * Our own schema of the WhatsApp Cloud API webhook payload. Every level keeps its children as
 * `unknown[]` and each child is checked on its own, so one odd message never hides its neighbours;
 * objects are loose because Meta adds fields without notice.
 */
import { z } from 'zod';

/** Unix seconds; Meta sends them as digit strings, a few fields as numbers. */
export const unixSeconds = z.union([z.string().regex(/^\d{1,12}$/, 'expected unix seconds'), z.number().int().nonnegative()]).transform(Number);

export const webhookPayloadSchema = z.looseObject({
  object: z.string(),
  entry: z.array(z.unknown()),
});

export const entrySchema = z.looseObject({
  /** The WhatsApp Business Account id. */
  id: z.string().optional(),
  changes: z.array(z.unknown()),
});

export const changeSchema = z.looseObject({
  field: z.string(),
  value: z.unknown(),
});

export const changeValueSchema = z.looseObject({
  messaging_product: z.string().optional(),
  metadata: z.looseObject({
    phone_number_id: z.string().min(1),
    display_phone_number: z.string().optional(),
  }),
  contacts: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});

export const profileContactSchema = z.looseObject({
  wa_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional() }).optional(),
});

export const graphErrorItemSchema = z.looseObject({
  code: z.number().int(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
});

export const messageSchema = z.looseObject({
  from: z.string().min(1),
  id: z.string().min(1),
  timestamp: unixSeconds,
  type: z.string().min(1),
  context: z
    .looseObject({
      from: z.string().optional(),
      id: z.string().optional(),
      forwarded: z.boolean().optional(),
      frequently_forwarded: z.boolean().optional(),
    })
    .optional(),
  errors: z.array(z.unknown()).optional(),
});

export const textSchema = z.looseObject({ body: z.string() });

export const mediaSchema = z.looseObject({
  id: z.string().min(1),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
  voice: z.boolean().optional(),
  animated: z.boolean().optional(),
});

const replySchema = z.looseObject({ id: z.string().min(1), title: z.string(), description: z.string().optional() });

export const interactiveSchema = z.looseObject({
  type: z.string(),
  button_reply: replySchema.optional(),
  list_reply: replySchema.optional(),
});

/** A quick-reply button pressed on a template message. */
export const buttonSchema = z.looseObject({
  text: z.string(),
  payload: z.string().optional(),
});

export const reactionSchema = z.looseObject({
  message_id: z.string().min(1),
  emoji: z.string().optional(),
});

export const locationSchema = z.looseObject({
  latitude: z.number(),
  longitude: z.number(),
  name: z.string().optional(),
  address: z.string().optional(),
  url: z.string().optional(),
});

export const contactCardSchema = z.looseObject({
  name: z
    .looseObject({
      formatted_name: z.string().optional(),
      first_name: z.string().optional(),
      last_name: z.string().optional(),
    })
    .optional(),
  phones: z.array(z.looseObject({ phone: z.string().optional(), wa_id: z.string().optional(), type: z.string().optional() })).optional(),
});

export const statusSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  timestamp: unixSeconds,
  recipient_id: z.string().min(1),
  errors: z.array(z.unknown()).optional(),
  conversation: z
    .looseObject({
      id: z.string(),
      expiration_timestamp: unixSeconds.optional(),
      origin: z.looseObject({ type: z.string() }).optional(),
    })
    .optional(),
  pricing: z
    .looseObject({
      billable: z.boolean().optional(),
      pricing_model: z.string().optional(),
      category: z.string().optional(),
    })
    .optional(),
  biz_opaque_callback_data: z.string().optional(),
});

export type WebhookMessage = z.infer<typeof messageSchema>;
export type WebhookStatus = z.infer<typeof statusSchema>;
export type GraphErrorItem = z.infer<typeof graphErrorItemSchema>;

/** The first problem zod found, as `path: message`, for the `ignored` list. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
