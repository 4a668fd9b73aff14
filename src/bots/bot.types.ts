import type { BotSettings } from './bot-settings.js';

/** Messaging channels a bot can be connected to. */
export const CHANNELS = ['telegram', 'whatsapp'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** What may be shown about a connected channel (e.g. the Telegram username); never credentials. */
export type BotChannelInfo = { channel: ChannelName } & Record<string, unknown>;

/** A bot as services and routes see it. */
export interface Bot {
  id: string;
  creatorId: string;
  name: string;
  persona: string;
  language: string;
  settings: BotSettings;
  channels: BotChannelInfo[];
  createdAt: Date;
  updatedAt: Date;
}

/** A bot row as stored: settings not yet read through the schema. */
export interface StoredBot extends Omit<Bot, 'settings'> {
  settings: unknown;
}

/** How webhooks find a channel without decrypting credentials. */
export interface ChannelRouting {
  /** The channel's own address of the bot, unique per channel (WhatsApp: phone_number_id). */
  routeKey?: string;
  /** SHA-256 (hex) of the webhook verify token. */
  verifyTokenHash?: string;
}

/** Persistence port for bots and their channels (src/db/bot.repository.ts). Reads never return credentials. */
export interface BotStore {
  insert(creatorId: string, input: { name: string; persona: string; language: string; settings: BotSettings }): Promise<StoredBot>;
  listByCreator(creatorId: string): Promise<StoredBot[]>;
  /** The creator's bot; null for unknown ids, malformed ids and other creators' bots. */
  find(creatorId: string, botId: string): Promise<StoredBot | null>;
  /**
   * Updates the given fields of the creator's bot; settings are merged key by key with `setSettings`
   * and `unsetSettings` removed, in one statement so concurrent updates do not lose each other's keys.
   */
  update(
    creatorId: string,
    botId: string,
    patch: { name?: string | undefined; persona?: string | undefined; language?: string | undefined; setSettings?: Record<string, unknown>; unsetSettings?: string[] },
  ): Promise<StoredBot | null>;
  delete(creatorId: string, botId: string): Promise<boolean>;
  /** Stores a channel; ChannelRouteTakenError when another bot already has the same route key. */
  upsertChannel(botId: string, channel: ChannelName, sealedCredentials: string, publicConfig: Record<string, unknown>, routing?: ChannelRouting): Promise<void>;
  /** The bot connected under the channel's own address (WhatsApp: phone number id). */
  findBotIdByRoute(channel: ChannelName, routeKey: string): Promise<string | null>;
  /** Whether any bot's channel was connected with this verify-token hash. */
  hasVerifyTokenHash(channel: ChannelName, verifyTokenHash: string): Promise<boolean>;
  deleteChannel(botId: string, channel: ChannelName): Promise<boolean>;
  /** The sealed credentials of a channel, or null when the bot has none for it. */
  findSealedCredentials(botId: string, channel: ChannelName): Promise<string | null>;
}
