/**
 * Real Telegram updates (the nutgram fixtures) as test input, with the few fields tests vary
 * (update id, chat, sender, text) changed the way Telegram itself would fill them.
 */
import type { Update } from 'grammy/types';
import { jsonFixture } from './fixtures.js';

/** The fixture updates under ../shared/fixtures/telegram, by short name. */
export const telegramUpdateFixtures = [
  'callback_query',
  'command',
  'command_with_parameters',
  'document',
  'edited_message',
  'my_chat_member',
  'photo',
  'text',
  'voice',
] as const;

export type TelegramUpdateFixture = (typeof telegramUpdateFixtures)[number];

export interface UpdateChanges {
  updateId?: number;
  /** The chat; in a private chat (positive id) the user is the same id, as Telegram has it. */
  chatId?: number;
  /** The sending user, when it differs from the chat (groups). */
  fromId?: number;
  /** Message text (or callback data for callback_query); a leading /command gets its bot_command entity. */
  text?: string;
}

type Json = Record<string, unknown>;

/** Loads a fixture update, a fresh copy each time. */
export function loadTelegramUpdate(name: TelegramUpdateFixture): Update {
  return structuredClone(jsonFixture<Update>(`telegram/nutgram_update__${name}.json`));
}

function setChat(holder: Json | undefined, chatId: number | undefined, fromId: number | undefined) {
  if (!holder) return;
  const chat = holder.chat as Json | undefined;
  if (chat && chatId !== undefined) chat.id = chatId;
  const from = holder.from as Json | undefined;
  const userId = fromId ?? (chatId !== undefined && chatId > 0 ? chatId : undefined);
  if (from && userId !== undefined && from.is_bot !== true) from.id = userId;
}

function setText(message: Json, text: string) {
  message.text = text;
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  if (command) message.entities = [{ offset: 0, length: command[0].length, type: 'bot_command' }];
  else delete message.entities;
}

/** A fixture update with `changes` applied. */
export function telegramUpdate(name: TelegramUpdateFixture, changes: UpdateChanges = {}): Update {
  const update = loadTelegramUpdate(name) as unknown as Json;
  if (changes.updateId !== undefined) update.update_id = changes.updateId;
  const message = (update.message ?? update.edited_message) as Json | undefined;
  const query = update.callback_query as Json | undefined;
  const member = update.my_chat_member as Json | undefined;
  setChat(message, changes.chatId, changes.fromId);
  if (query) {
    setChat(query.message as Json | undefined, changes.chatId, undefined);
    const from = query.from as Json;
    const userId = changes.fromId ?? (changes.chatId !== undefined && changes.chatId > 0 ? changes.chatId : undefined);
    if (userId !== undefined) from.id = userId;
    if (changes.text !== undefined) query.data = changes.text;
  }
  if (member) {
    const chat = member.chat as Json;
    if (changes.chatId !== undefined) chat.id = changes.chatId;
    const userId = changes.fromId ?? (changes.chatId !== undefined && changes.chatId > 0 ? changes.chatId : undefined);
    if (userId !== undefined) (member.from as Json).id = userId;
  }
  if (message && changes.text !== undefined) setText(message, changes.text);
  return update as unknown as Update;
}

/** A private text message from `chatId` (the text fixture). */
export function textUpdate(text: string, changes: Omit<UpdateChanges, 'text'> = {}): Update {
  return telegramUpdate('text', { ...changes, text });
}

/**
 * The user blocking (`kicked`) or restarting (`member`) the bot in a private chat: the my_chat_member
 * fixture with the statuses Telegram sends for those events.
 */
export function chatMemberUpdate(status: 'kicked' | 'member', changes: Omit<UpdateChanges, 'text'> = {}): Update {
  const update = telegramUpdate('my_chat_member', changes) as unknown as Json;
  const member = update.my_chat_member as Json;
  const bot = (member.new_chat_member as Json).user;
  // In a private chat the user acts, and the bot's own membership changes.
  const from = member.from as Json;
  from.is_bot = false;
  from.id = changes.fromId ?? (member.chat as Json).id;
  member.old_chat_member = { status: status === 'kicked' ? 'member' : 'kicked', user: bot, ...(status === 'member' ? { until_date: 0 } : {}) };
  member.new_chat_member = { status, user: bot, ...(status === 'kicked' ? { until_date: 0 } : {}) };
  return update as unknown as Update;
}
