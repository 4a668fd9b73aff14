import type { z } from 'zod';
import { hasUnstorableText, storable } from '../../src/text/storable-text.js';
import type { Attachment, DeliveryReport, InboundContact, InboundMessage } from '../../src/conversation/channel.ports.js';
import { MARKETING_OPT_OUT_CODE } from './whatsapp.errors.js';
import {
  buttonSchema,
  changeSchema,
  changeValueSchema,
  contactCardSchema,
  entrySchema,
  firstIssue,
  graphErrorItemSchema,
  interactiveSchema,
  locationSchema,
  mediaSchema,
  messageSchema,
  profileContactSchema,
  reactionSchema,
  statusSchema,
  textSchema,
  webhookPayloadSchema,
  type WebhookMessage,
} from './whatsapp.schema.js';


export interface WhatsAppAttachment extends Attachment {
  /** The file's SHA-256 (base64) as WhatsApp reports it, to check a download against. */
  sha256?: string | undefined;
  /** Sticker: animated. */
  animated?: boolean | undefined;
  /** Location: the shared place's address and link. */
  address?: string | undefined;
  url?: string | undefined;
  /** Contact card: every phone number on it (the first is also `phoneNumber`). */
  phoneNumbers?: string[] | undefined;
  /** Contact card: the WhatsApp id of the first number that is on WhatsApp. */
  waId?: string | undefined;
}

export interface WhatsAppInboundMessage extends Omit<InboundMessage, 'channel' | 'attachments'> {
  channel: 'whatsapp';
  attachments: WhatsAppAttachment[];
  /** WhatsApp's own message type (text, image, interactive, button, reaction, …), for logs and metrics. */
  whatsappType: string;
  forwarded?: boolean | undefined;
  /** For `unsupported`: WhatsApp's reason when it gives one (e.g. "Message type unknown"). */
  unsupportedReason?: string | undefined;
}

export type WhatsAppDeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** A delivery report for a message we sent. */
export interface WhatsAppStatus {
  /** The `wamid…` the send call returned. */
  messageId: string;
  recipientId: string;
  status: WhatsAppDeliveryStatus;
  timestamp: Date;
  errors?: Array<{ code: number; title: string; message?: string | undefined; details?: string | undefined }> | undefined;
  conversation?: { id: string; expiresAt?: Date | undefined; originType?: string | undefined } | undefined;
  pricing?: { billable?: boolean | undefined; pricingModel?: string | undefined; category?: string | undefined } | undefined;
  /** Echo of `biz_opaque_callback_data` given at send time. */
  callbackData?: string | undefined;
}

interface EventSource {
  /** The business phone number the event belongs to: it identifies the bot. */
  phoneNumberId: string;
  /** The WhatsApp Business Account (entry id). */
  wabaId?: string | undefined;
}

export type WhatsAppEvent =
  | (EventSource & { type: 'message'; message: WhatsAppInboundMessage })
  | (EventSource & { type: 'status'; status: WhatsAppStatus });

export interface ParsedWebhook {
  /** Messages and statuses in payload order (entry, then change, then messages before statuses). */
  events: WhatsAppEvent[];
  /** Parts skipped, each with where it was and why. */
  ignored: string[];
}

type Json = Record<string, unknown>;

class Skip extends Error {}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function part<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Skip(`${what} (${firstIssue(result.error)})`);
  return result.data;
}

function defined<T extends Json>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

const mediaKinds = {
  image: 'photo',
  video: 'video',
  document: 'document',
  sticker: 'sticker',
  audio: 'audio',
} as const satisfies Record<string, Attachment['type']>;

// Things WhatsApp reports that no person typed: answering them as "unsupported" would puzzle the user.
const notFromUser: Record<string, string> = {
  system: 'system notice (e.g. the user changed number)',
  request_welcome: 'chat opened for the first time (welcome request)',
};

function mediaAttachment(type: keyof typeof mediaKinds, raw: unknown): WhatsAppAttachment {
  const media = part(mediaSchema, raw, `${type} without a media id`);
  const kind = type === 'audio' && media.voice === true ? 'voice' : mediaKinds[type];
  return {
    type: kind,
    fileId: media.id,
    ...defined({
      mimeType: media.mime_type,
      sha256: media.sha256,
      fileName: media.filename,
      caption: media.caption,
      animated: type === 'sticker' ? media.animated : undefined,
    }),
  };
}

function contactAttachments(raw: unknown): WhatsAppAttachment[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new Skip('contacts message without contact cards');
  return raw.map((card) => {
    const parsed = part(contactCardSchema, card, 'malformed contact card');
    const phones = (parsed.phones ?? []).filter((p) => p.phone || p.wa_id);
    const numbers = phones.map((p) => (p.phone ?? p.wa_id)!);
    const name = parsed.name?.formatted_name ?? [parsed.name?.first_name, parsed.name?.last_name].filter(Boolean).join(' ');
    const waId = phones.find((p) => p.wa_id)?.wa_id;
    return {
      type: 'contact',
      ...defined({ phoneNumber: numbers[0], contactName: name, waId }),
      ...(numbers.length > 0 ? { phoneNumbers: numbers } : {}),
    };
  });
}

function unsupportedReason(message: WebhookMessage): string | undefined {
  const first = message.errors?.map((e) => graphErrorItemSchema.safeParse(e)).find((r) => r.success)?.data;
  return first ? (first.title ?? first.message ?? `error ${first.code}`) : undefined;
}

type Body = Pick<WhatsAppInboundMessage, 'kind' | 'text' | 'attachments' | 'callback' | 'reaction' | 'unsupportedReason'>;

function bodyOf(message: WebhookMessage & Json): Body {
  const type = message.type;
  const raw = message[type];
  const replyTo = message.context?.id;
  switch (type) {
    case 'text':
      return { kind: 'text', text: part(textSchema, raw, 'text message without a body').body, attachments: [] };
    case 'image':
    case 'video':
    case 'document':
    case 'sticker':
    case 'audio': {
      const attachment = mediaAttachment(type, raw);
      return { kind: 'attachment', attachments: [attachment], ...defined({ text: attachment.caption }) };
    }
    case 'location': {
      const place = part(locationSchema, raw, 'location without coordinates');
      const attachment: WhatsAppAttachment = {
        type: 'location',
        latitude: place.latitude,
        longitude: place.longitude,
        ...defined({ title: place.name ?? place.address, address: place.address, url: place.url }),
      };
      return { kind: 'attachment', attachments: [attachment] };
    }
    case 'contacts':
      return { kind: 'attachment', attachments: contactAttachments(raw) };
    case 'interactive': {
      const interactive = part(interactiveSchema, raw, 'malformed interactive reply');
      const reply = interactive.type === 'button_reply' ? interactive.button_reply : interactive.type === 'list_reply' ? interactive.list_reply : undefined;
      if (!reply) {
        if (interactive.type === 'button_reply' || interactive.type === 'list_reply') throw new Skip(`${interactive.type} without its reply`);
        return { kind: 'unsupported', attachments: [], unsupportedReason: `interactive ${interactive.type} not handled` };
      }
      return {
        kind: 'callback',
        text: reply.title,
        attachments: [],
        callback: { id: message.id, data: reply.id, ...defined({ messageId: replyTo }) },
      };
    }
    case 'button': {
      const button = part(buttonSchema, raw, 'template button reply without text');
      return {
        kind: 'callback',
        text: button.text,
        attachments: [],
        callback: { id: message.id, data: button.payload ?? button.text, ...defined({ messageId: replyTo }) },
      };
    }
    case 'reaction': {
      const reaction = part(reactionSchema, raw, 'reaction without the reacted-to message');
      return { kind: 'reaction', attachments: [], reaction: { messageId: reaction.message_id, ...defined({ emoji: reaction.emoji }) } };
    }
    default:
      return { kind: 'unsupported', attachments: [], ...defined({ unsupportedReason: unsupportedReason(message) ?? `message type ${type} not handled` }) };
  }
}

function contactFor(from: string, contacts: unknown[]): InboundContact {
  const profiles = contacts.map((c) => profileContactSchema.safeParse(c)).flatMap((r) => (r.success ? [r.data] : []));
  // One contact per payload is the norm; match by wa_id when a payload carries several.
  const profile = profiles.find((p) => p.wa_id === from) ?? (profiles.length === 1 && !profiles[0]!.wa_id ? profiles[0] : undefined);
  const name = profile?.profile?.name?.trim();
  return { externalId: from, ...(name ? { displayName: name } : {}) };
}

function normalizeMessage(raw: unknown, contacts: unknown[]): WhatsAppInboundMessage | { ignored: string } {
  const message = part(messageSchema, raw, 'malformed message');
  const skipReason = notFromUser[message.type];
  if (skipReason) return { ignored: skipReason };
  const body = bodyOf(message);
  const context = message.context;
  const forwarded = context?.forwarded === true || context?.frequently_forwarded === true;
  // A forwarded message's context carries no id; only a real reply names the message it answers.
  const replyTo = context?.id && body.kind !== 'callback' && body.kind !== 'reaction' ? context.id : undefined;
  return {
    channel: 'whatsapp',
    externalId: message.id,
    conversationId: message.from,
    contact: contactFor(message.from, contacts),
    externalMessageId: message.id,
    sentAt: new Date(message.timestamp * 1000),
    whatsappType: message.type,
    ...body,
    ...(replyTo ? { replyToMessageId: replyTo } : {}),
    ...(forwarded ? { forwarded } : {}),
  };
}

const deliveryStatuses = new Set<string>(['sent', 'delivered', 'read', 'failed']);

function normalizeStatus(raw: unknown): WhatsAppStatus | { ignored: string } {
  const status = part(statusSchema, raw, 'malformed status');
  if (!deliveryStatuses.has(status.status)) return { ignored: `status ${status.status} not handled` };
  const errors = (status.errors ?? [])
    .map((e) => graphErrorItemSchema.safeParse(e))
    .flatMap((r) => (r.success ? [r.data] : []))
    .map((e) => ({
      code: e.code,
      title: e.title ?? e.message ?? `Error ${e.code}`,
      ...defined({ message: e.message, details: e.error_data?.details }),
    }));
  const conversation = status.conversation;
  const pricing = status.pricing;
  return {
    messageId: status.id,
    recipientId: status.recipient_id,
    status: status.status as WhatsAppDeliveryStatus,
    timestamp: new Date(status.timestamp * 1000),
    ...(errors.length > 0 ? { errors } : {}),
    ...(conversation
      ? {
          conversation: {
            id: conversation.id,
            ...defined({
              expiresAt: conversation.expiration_timestamp !== undefined ? new Date(conversation.expiration_timestamp * 1000) : undefined,
              originType: conversation.origin?.type,
            }),
          },
        }
      : {}),
    ...(pricing ? { pricing: defined({ billable: pricing.billable, pricingModel: pricing.pricing_model, category: pricing.category }) } : {}),
    ...defined({ callbackData: status.biz_opaque_callback_data }),
  };
}

function withId(raw: unknown): string {
  return isRecord(raw) && typeof raw.id === 'string' ? ` ${raw.id}` : '';
}

function valueErrors(errors: unknown[]): string {
  return errors
    .map((e) => graphErrorItemSchema.safeParse(e))
    .map((r) => (r.success ? `${r.data.code} ${r.data.title ?? r.data.message ?? ''}`.trim() : 'unreadable error'))
    .join('; ');
}

/**
 * Reads every message and status from a webhook body (already JSON-parsed, signature already
 * checked), every string made storable. Never throws: parts it cannot read are listed in `ignored`
 * with where and why.
 */
export function parseWhatsAppWebhook(json: unknown): ParsedWebhook {
  const events: WhatsAppEvent[] = [];
  const ignored: string[] = [];
  const payload = webhookPayloadSchema.safeParse(json);
  if (!payload.success) return { events, ignored: [`payload: not a WhatsApp webhook (${firstIssue(payload.error)})`] };
  if (payload.data.object !== 'whatsapp_business_account') return { events, ignored: [`payload: object ${payload.data.object} not handled`] };

  payload.data.entry.forEach((rawEntry, e) => {
    const entry = entrySchema.safeParse(rawEntry);
    if (!entry.success) return void ignored.push(`entry[${e}]: malformed entry (${firstIssue(entry.error)})`);
    const wabaId = entry.data.id;
    entry.data.changes.forEach((rawChange, c) => {
      const where = `entry[${e}].changes[${c}]`;
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) return void ignored.push(`${where}: malformed change (${firstIssue(change.error)})`);
      if (change.data.field !== 'messages') return void ignored.push(`${where}: field ${change.data.field} not handled`);
      const value = changeValueSchema.safeParse(change.data.value);
      if (!value.success) return void ignored.push(`${where}: malformed value (${firstIssue(value.error)})`);
      const source = { phoneNumberId: value.data.metadata.phone_number_id, ...(wabaId ? { wabaId } : {}) };
      const contacts = value.data.contacts ?? [];

      value.data.messages?.forEach((raw, m) => {
        try {
          const result = normalizeMessage(raw, contacts);
          if ('ignored' in result) ignored.push(`${where}.messages[${m}]${withId(raw)}: ${result.ignored}`);
          else events.push({ type: 'message', ...source, message: result });
        } catch (err) {
          if (!(err instanceof Skip)) throw err;
          ignored.push(`${where}.messages[${m}]${withId(raw)}: ${err.message}`);
        }
      });
      value.data.statuses?.forEach((raw, s) => {
        try {
          const result = normalizeStatus(raw);
          if ('ignored' in result) ignored.push(`${where}.statuses[${s}]${withId(raw)}: ${result.ignored}`);
          else events.push({ type: 'status', ...source, status: result });
        } catch (err) {
          if (!(err instanceof Skip)) throw err;
          ignored.push(`${where}.statuses[${s}]${withId(raw)}: ${err.message}`);
        }
      });
      if (value.data.errors?.length) ignored.push(`${where}.errors: ${valueErrors(value.data.errors)}`);
    });
  });
  // Kept and answered, not refused by the database on every redelivery: NUL and lone surrogates become U+FFFD.
  return { events: storable(events), ignored };
}

/**
 * Every business phone number id a payload names, so the route can find the bot (and its app secret)
 * before trusting the body; an unreadable payload gives none.
 */
export function phoneNumberIdsOf(json: unknown): string[] {
  const ids = new Set<string>();
  if (!isRecord(json) || !Array.isArray(json.entry)) return [];
  for (const entry of json.entry) {
    if (!isRecord(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      const metadata = isRecord(change) && isRecord(change.value) ? change.value.metadata : undefined;
      const id = isRecord(metadata) ? metadata.phone_number_id : undefined;
      // Read before the signature is checked: an id the database cannot even compare names no number of ours.
      if (typeof id === 'string' && id && !hasUnstorableText(id)) ids.add(id);
    }
  }
  return [...ids];
}

// WhatsApp has no bot commands, but typing "/reset" should work as it does on Telegram.
const commandPattern = /^\/([a-z][a-z0-9_]{0,31})(?:\s+([\s\S]*))?$/i;

/** The channel-free message; a text that reads like a bot command ("/help") becomes a command. */
export function toInboundMessage(message: WhatsAppInboundMessage): InboundMessage {
  const command = message.kind === 'text' ? commandPattern.exec(message.text?.trim() ?? '') : null;
  if (!command) return message;
  const payload = command[2]?.trim();
  return { ...message, kind: 'command', command: { name: command[1]!.toLowerCase(), ...(payload ? { payload } : {}) } };
}

/** The channel-free delivery report of a status; the first error explains a failure. */
export function toDeliveryReport(status: WhatsAppStatus): DeliveryReport {
  const error = status.errors?.[0];
  return {
    externalMessageId: status.messageId,
    status: status.status,
    at: status.timestamp,
    ...(error ? { error: { code: error.code, title: error.title, ...(error.details ? { details: error.details } : {}) } } : {}),
    // Meta often reports the marketing opt-out only here, after accepting the send.
    ...(status.status === 'failed' && status.errors?.some((e) => e.code === MARKETING_OPT_OUT_CODE) ? { recipientOptedOut: true } : {}),
  };
}
