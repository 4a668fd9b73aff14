import { createHash } from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../errors/app.errors.js';
import type { SecretBox } from '../security/secret-box.js';
import { SettingAboveCapError } from './bot.errors.js';
import { botSettingsPatchSchema, botSettingsSchema, readBotSettings, type BotSettingsInput, type BotSettingsPatch } from './bot-settings.js';
import type { Bot, BotChannelInfo, BotStore, ChannelName, ChannelRouting, StoredBot } from './bot.types.js';

export interface CreateBotInput {
  name: string;
  persona?: string | undefined;
  language?: string | undefined;
  settings?: BotSettingsInput | undefined;
}

export interface UpdateBotInput {
  name?: string | undefined;
  persona?: string | undefined;
  language?: string | undefined;
  settings?: BotSettingsPatch | undefined;
}

/** Called with a bot's id before its row is deleted, e.g. to drop its vectors from an external store. */
export type BotDeletedListener = (botId: string) => Promise<void>;

/** Called after a bot's embedding model setting was set or reset, e.g. to re-embed its documents. */
export type EmbeddingModelChangedListener = (botId: string) => Promise<void>;

export interface BotServiceOptions {
  bots: BotStore;
  secretBox: Pick<SecretBox, 'seal' | 'open'>;
  onBotDeleted?: BotDeletedListener[] | undefined;
  /** The creator's plan: throws (402) when it has no room for another bot. */
  quota?: { assertCanCreateBot(creatorId: string): Promise<void> };
  /** The operator's caps on what a bot may ask of the model server; settings can only go lower. */
  caps?: ModelCaps;
}

/** MAX_CONTEXT_TOKENS and MAX_ANSWER_TOKENS. */
export interface ModelCaps {
  contextTokens: number;
  answerTokens: number;
}

const DEFAULT_LANGUAGE = 'en';

/** Creators' bots: profile, settings and sealed channel credentials. Every call is scoped to its creator. */
export class BotService {
  private readonly listeners: BotDeletedListener[];
  private readonly embeddingModelListeners: EmbeddingModelChangedListener[] = [];

  constructor(private readonly options: BotServiceOptions) {
    this.listeners = [...(options.onBotDeleted ?? [])];
  }

  /** Creates a bot with settings validated and defaults filled in. */
  async create(creatorId: string, input: CreateBotInput): Promise<Bot> {
    const settings = parseOrThrow(botSettingsSchema, input.settings ?? {}, 'settings');
    this.assertWithinCaps(settings);
    await this.options.quota?.assertCanCreateBot(creatorId);
    const stored = await this.options.bots.insert(creatorId, {
      name: input.name.trim(),
      persona: input.persona ?? '',
      language: input.language ?? DEFAULT_LANGUAGE,
      settings,
    });
    return toBot(stored);
  }

  /** The creator's bots, oldest first. */
  async list(creatorId: string): Promise<Bot[]> {
    return (await this.options.bots.listByCreator(creatorId)).map(toBot);
  }

  /** The creator's bot; NOT_FOUND for unknown ids and for another creator's bot alike. */
  async get(creatorId: string, botId: string): Promise<Bot> {
    const stored = await this.options.bots.find(creatorId, botId);
    if (!stored) throw new NotFoundError('Bot');
    return toBot(stored);
  }

  /** Changes the given fields; settings keys are merged, a `null` setting returns to its default. */
  async update(creatorId: string, botId: string, input: UpdateBotInput): Promise<Bot> {
    const settings = input.settings === undefined ? undefined : parseOrThrow(botSettingsPatchSchema, input.settings, 'settings');
    // Only the values being set: one stored before a cap was lowered is clamped at use, not a reason to refuse other changes.
    if (settings) this.assertWithinCaps(settings);
    const entries = Object.entries(settings ?? {}).filter(([, v]) => v !== undefined);
    const stored = await this.options.bots.update(creatorId, botId, {
      name: input.name?.trim(),
      persona: input.persona,
      language: input.language,
      setSettings: Object.fromEntries(entries.filter(([, v]) => v !== null)),
      unsetSettings: entries.filter(([, v]) => v === null).map(([k]) => k),
    });
    if (!stored) throw new NotFoundError('Bot');
    if (settings?.embeddingModel !== undefined) for (const listener of this.embeddingModelListeners) await listener(botId);
    return toBot(stored);
  }

  /**
   * Deletes the bot; documents, chunks and channels go with the row. Listeners run first so that if
   * one fails the bot still exists and the deletion can simply be retried.
   */
  async delete(creatorId: string, botId: string): Promise<void> {
    await this.get(creatorId, botId);
    for (const listener of this.listeners) await listener(botId);
    if (!(await this.options.bots.delete(creatorId, botId))) throw new NotFoundError('Bot');
  }

  private assertWithinCaps(settings: { contextSize?: number | null | undefined; maxAnswerTokens?: number | null | undefined }): void {
    const { caps } = this.options;
    if (!caps) return;
    if (settings.contextSize != null && settings.contextSize > caps.contextTokens) {
      throw new SettingAboveCapError('contextSize', settings.contextSize, { name: 'MAX_CONTEXT_TOKENS', value: caps.contextTokens });
    }
    if (settings.maxAnswerTokens != null && settings.maxAnswerTokens > caps.answerTokens) {
      throw new SettingAboveCapError('maxAnswerTokens', settings.maxAnswerTokens, { name: 'MAX_ANSWER_TOKENS', value: caps.answerTokens });
    }
  }

  /** Registers work to do once a bot's embedding model setting changed (for modules built after this service). */
  addEmbeddingModelListener(listener: EmbeddingModelChangedListener): void {
    this.embeddingModelListeners.push(listener);
  }

  /** Registers a cleanup to run when a bot is deleted (for adapters built after this service). */
  addBotDeletedListener(listener: BotDeletedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Connects (or reconnects) a channel: `credentials` are sealed before they are stored and never
   * returned by any read; `publicConfig` is what bot listings show for the channel.
   */
  async setChannelCredentials(
    creatorId: string,
    botId: string,
    channel: ChannelName,
    credentials: object,
    publicConfig: Record<string, unknown>,
    routing?: ChannelRouting,
  ): Promise<BotChannelInfo> {
    await this.get(creatorId, botId);
    const { channel: _ignored, ...shown } = publicConfig;
    await this.options.bots.upsertChannel(botId, channel, this.options.secretBox.seal(credentials, sealContext(botId, channel)), shown, routing);
    return { ...shown, channel };
  }

  /** Disconnects a channel; false when it was not connected. */
  async removeChannel(creatorId: string, botId: string, channel: ChannelName): Promise<boolean> {
    await this.get(creatorId, botId);
    return this.options.bots.deleteChannel(botId, channel);
  }

  /**
   * The decrypted credentials of a bot's channel, or null when not connected. Not scoped to a
   * creator: webhooks and workers know only the bot.
   */
  async getChannelCredentials<T extends object = Record<string, unknown>>(botId: string, channel: ChannelName): Promise<T | null> {
    const sealed = await this.options.bots.findSealedCredentials(botId, channel);
    return sealed === null ? null : this.options.secretBox.open<T>(sealed, sealContext(botId, channel));
  }

  /** Which bot a channel address belongs to (WhatsApp: its phone number id); null when none. */
  findBotIdByRoute(channel: ChannelName, routeKey: string): Promise<string | null> {
    return this.options.bots.findBotIdByRoute(channel, routeKey);
  }

  /** Whether a channel was connected with this verify token (compared by SHA-256). */
  async hasVerifyToken(channel: ChannelName, verifyToken: string): Promise<boolean> {
    return this.options.bots.hasVerifyTokenHash(channel, verifyTokenHash(verifyToken));
  }
}

/** The form a webhook verify token is stored and looked up in. */
export function verifyTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

// Binds sealed credentials to their row, so copying them to another bot or channel makes them unreadable.
// Ids are compared as PostgreSQL does (case-insensitively): an id typed in capitals names the same row.
function sealContext(botId: string, channel: ChannelName) {
  return `bot-channel:${botId.toLowerCase()}:${channel}`;
}

function toBot(stored: StoredBot): Bot {
  return { ...stored, settings: readBotSettings(stored.settings) };
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ field: [field, ...i.path.map(String)].join('.'), message: i.message }));
  throw new ValidationError(`${issues[0]?.field}: ${issues[0]?.message}`, { issues });
}
