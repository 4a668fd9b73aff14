import type { Update } from 'grammy/types';
import { storable } from '../../src/text/storable-text.js';
import type { Attachment, InboundContact, InboundMessage } from '../../src/conversation/channel.ports.js';

/** The update types we handle; pass to setWebhook so Telegram does not send the rest. */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const satisfies ReadonlyArray<
  Exclude<keyof Update, 'update_id'>
>;

export type NormalizedUpdate = InboundMessage | { ignored: string };

export interface NormalizeOptions {
  /** Our bot's username: a command addressed to another bot in a group (`/start@OtherBot`) is ignored. */
  botUsername?: string;
  /** Receipt time, for updates that carry no date of their own (button presses). */
  now?: () => Date;
}

type Json = Record<string, unknown>;

// Webhook bodies are untrusted JSON: every field is checked before use rather than cast.
function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

class Malformed extends Error {}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Malformed();
  return value;
}

function idString(value: unknown): string {
  return String(required(int(value)));
}

function contactOf(user: unknown): InboundContact {
  if (!isRecord(user)) throw new Malformed();
  const name = [str(user.first_name), str(user.last_name)].filter((part) => part && part.trim()).join(' ');
  const username = str(user.username);
  const languageCode = str(user.language_code);
  return {
    externalId: idString(user.id),
    ...(name ? { displayName: name } : {}),
    ...(username ? { username } : {}),
    ...(languageCode ? { languageCode } : {}),
  };
}

// Groups and channels may carry no `from` (anonymous admins, channel posts): the chat speaks.
function senderOf(message: Json): InboundContact {
  if (isRecord(message.from)) return contactOf(message.from);
  const chat = message.chat as Json;
  const title = str(chat.title);
  return { externalId: idString(chat.id), ...(title ? { displayName: title } : {}) };
}

function chatIdOf(message: Json): string {
  if (!isRecord(message.chat)) throw new Malformed();
  return idString(message.chat.id);
}

function dateOf(seconds: unknown): Date {
  return new Date(required(int(seconds)) * 1000);
}

function fileFields(file: Json): Omit<Attachment, 'type'> {
  const fileId = str(file.file_id);
  const mimeType = str(file.mime_type);
  const fileName = str(file.file_name);
  const sizeBytes = int(file.file_size);
  const durationSeconds = int(file.duration);
  const width = int(file.width);
  const height = int(file.height);
  return {
    fileId,
    mimeType,
    fileName,
    sizeBytes,
    durationSeconds,
    width,
    height,
  };
}

// Telegram sends every resolution it made; the largest is the one worth keeping.
function largestPhoto(sizes: unknown[]): Json | undefined {
  let best: Json | undefined;
  let bestArea = -1;
  for (const size of sizes) {
    if (!isRecord(size) || str(size.file_id) === undefined) continue;
    const area = (int(size.width) ?? 0) * (int(size.height) ?? 0);
    const better = area > bestArea || (area === bestArea && (int(size.file_size) ?? 0) > (int(best?.file_size) ?? 0));
    if (better) {
      best = size;
      bestArea = area;
    }
  }
  return best;
}

const fileKinds = [
  ['voice', 'voice'],
  ['audio', 'audio'],
  ['video', 'video'],
  ['video_note', 'video'],
  // An animation also arrives as `document`; taking it first keeps one attachment per file.
  ['animation', 'video'],
  ['document', 'document'],
  ['sticker', 'sticker'],
] as const;

function attachmentsOf(message: Json, caption: string | undefined): Attachment[] {
  const withCaption = caption !== undefined ? { caption } : {};
  if (Array.isArray(message.photo)) {
    const photo = largestPhoto(message.photo);
    if (photo) return [{ type: 'photo', ...fileFields(photo), ...withCaption }];
  }
  for (const [field, type] of fileKinds) {
    const file = message[field];
    if (!isRecord(file)) continue;
    const emoji = type === 'sticker' ? str(file.emoji) : undefined;
    return [{ type, ...fileFields(file), ...(emoji ? { emoji } : {}), ...withCaption }];
  }
  const venue = isRecord(message.venue) ? message.venue : undefined;
  const location = isRecord(message.location) ? message.location : isRecord(venue?.location) ? venue.location : undefined;
  if (location) {
    const latitude = num(location.latitude);
    const longitude = num(location.longitude);
    if (latitude === undefined || longitude === undefined) throw new Malformed();
    const title = venue ? str(venue.title) : undefined;
    return [{ type: 'location', latitude, longitude, ...(title ? { title } : {}) }];
  }
  if (isRecord(message.contact)) {
    const contact = message.contact;
    const phoneNumber = str(contact.phone_number);
    const contactName = [str(contact.first_name), str(contact.last_name)].filter(Boolean).join(' ');
    return [{ type: 'contact', ...(phoneNumber ? { phoneNumber } : {}), ...(contactName ? { contactName } : {}) }];
  }
  return [];
}

// Things a person sends that we do not read; service messages (joins, pins, …) are ignored instead.
const unsupportedContent = ['poll', 'dice', 'game', 'story', 'paid_media', 'checklist', 'invoice', 'giveaway'];

const commandPattern = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+([\s\S]*))?$/;

function parseCommand(text: string): { name: string; botUsername?: string; payload?: string } | undefined {
  const match = commandPattern.exec(text.trim());
  if (!match) return undefined;
  const payload = match[3]?.trim();
  return { name: match[1]!.toLowerCase(), ...(match[2] ? { botUsername: match[2] } : {}), ...(payload ? { payload } : {}) };
}

function normalizeMessage(updateId: string, message: unknown, edited: boolean, options: NormalizeOptions): NormalizedUpdate {
  if (!isRecord(message)) throw new Malformed();
  const conversationId = chatIdOf(message);
  const messageId = idString(message.message_id);
  const sentAt = dateOf(edited ? (message.edit_date ?? message.date) : message.date);
  const text = str(message.text);
  const caption = str(message.caption);
  const attachments = attachmentsOf(message, caption);
  const replyTo = isRecord(message.reply_to_message) ? int(message.reply_to_message.message_id) : undefined;
  const base = {
    channel: 'telegram' as const,
    externalId: updateId,
    conversationId,
    contact: senderOf(message),
    attachments,
    externalMessageId: messageId,
    ...(replyTo !== undefined ? { replyToMessageId: String(replyTo) } : {}),
    sentAt,
  };
  const body = text ?? caption;
  const withText = body !== undefined ? { text: body } : {};

  if (edited) return { ...base, kind: 'edited', editedMessageId: messageId, ...withText };
  if (text !== undefined) {
    const command = text.startsWith('/') ? parseCommand(text) : undefined;
    if (command) {
      const mine = !command.botUsername || !options.botUsername || command.botUsername.toLowerCase() === options.botUsername.toLowerCase();
      if (!mine) return { ignored: 'command for another bot' };
      return { ...base, kind: 'command', text, command: { name: command.name, ...(command.payload ? { payload: command.payload } : {}) } };
    }
    return { ...base, kind: 'text', text };
  }
  if (attachments.length > 0) return { ...base, kind: 'attachment', ...withText };
  if (unsupportedContent.some((field) => field in message)) return { ...base, kind: 'unsupported' };
  return { ignored: 'service message not handled' };
}

function normalizeCallback(updateId: string, query: unknown, options: NormalizeOptions): NormalizedUpdate {
  if (!isRecord(query)) throw new Malformed();
  const id = required(str(query.id));
  const contact = contactOf(query.from);
  // The pressed message may be too old to be delivered in full, but chat and id always come.
  const message = isRecord(query.message) ? query.message : undefined;
  const conversationId = message && isRecord(message.chat) ? idString(message.chat.id) : contact.externalId;
  const messageId = message ? int(message.message_id) : undefined;
  const data = str(query.data);
  return {
    channel: 'telegram',
    externalId: updateId,
    conversationId,
    contact,
    kind: 'callback',
    attachments: [],
    callback: { id, ...(data !== undefined ? { data } : {}), ...(messageId !== undefined ? { messageId: String(messageId) } : {}) },
    sentAt: (options.now ?? (() => new Date()))(),
  };
}

// Our bot's own membership: in a private chat `kicked` means the user blocked it, `member` that they restarted it.
const blockedStatuses = new Set(['kicked', 'left']);
const activeStatuses = new Set(['member', 'administrator']);

function normalizeMyChatMember(updateId: string, change: unknown): NormalizedUpdate {
  if (!isRecord(change) || !isRecord(change.new_chat_member)) throw new Malformed();
  const conversationId = chatIdOf(change);
  const contact = contactOf(change.from);
  const sentAt = dateOf(change.date);
  const status = required(str(change.new_chat_member.status));
  const contactStatus = blockedStatuses.has(status) ? 'blocked' : activeStatuses.has(status) ? 'unblocked' : undefined;
  if (!contactStatus) return { ignored: `my_chat_member status ${status} not handled` };
  return { channel: 'telegram', externalId: updateId, conversationId, contact, kind: 'contact_status', contactStatus, attachments: [], sentAt };
}

/**
 * Turns a Telegram update into the channel-free InboundMessage, or says why it was ignored; never
 * throws. Every string is made storable (NUL, lone surrogates → U+FFFD): the message is kept and
 * answered rather than refused by the database on every redelivery.
 */
export function normalizeTelegramUpdate(update: Update | unknown, options: NormalizeOptions = {}): NormalizedUpdate {
  return storable(normalizeUpdate(update, options));
}

function normalizeUpdate(update: unknown, options: NormalizeOptions): NormalizedUpdate {
  try {
    if (!isRecord(update)) return { ignored: 'malformed update' };
    const updateId = idString(update.update_id);
    if ('message' in update) return normalizeMessage(updateId, update.message, false, options);
    if ('edited_message' in update) return normalizeMessage(updateId, update.edited_message, true, options);
    if ('callback_query' in update) return normalizeCallback(updateId, update.callback_query, options);
    if ('my_chat_member' in update) return normalizeMyChatMember(updateId, update.my_chat_member);
    const type = Object.keys(update).find((key) => key !== 'update_id');
    return { ignored: type ? `${type} not handled` : 'malformed update' };
  } catch {
    return { ignored: 'malformed update' };
  }
}
