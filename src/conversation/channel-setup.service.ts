import { ConflictError, NotFoundError } from '../errors.js';
import type { BotService } from '../bots/bot.service.js';

/** Talks to Telegram for set-up (channels/telegram/telegram.client.ts behind it). */
export interface TelegramConnector {
  /** Validates the token (getMe) and registers the webhook; ChannelAuthError for a bad token. */
  connect(token: string, webhookUrl: string, secretToken: string): Promise<{ id: number; username: string }>;
  disconnect(token: string): Promise<void>;
  newSecret(): string;
}

/** What is sealed for a connected Telegram bot. */
export interface TelegramCredentials {
  token: string;
  webhookSecret: string;
  username: string;
}

export interface ChannelSetupDeps {
  bots: Pick<BotService, 'get' | 'setChannelCredentials' | 'getChannelCredentials' | 'removeChannel'>;
  telegram: TelegramConnector;
  /** Where the platform is reachable from the internet; webhooks cannot be registered without it. */
  publicUrl: string | undefined;
  /** Called after a channel's credentials changed, so cached clients are dropped. */
  onChanged?(botId: string): void;
  /** Told when the webhook could not be removed at Telegram (e.g. the token was revoked). */
  onDisconnectFailed?(error: unknown, botId: string): void;
}

/** Connecting and disconnecting a creator's bot to messaging channels. */
export class ChannelSetupService {
  constructor(private readonly deps: ChannelSetupDeps) {}

  /** Checks the token, points Telegram's webhook at us and stores the credentials sealed. */
  async connectTelegram(creatorId: string, botId: string, token: string): Promise<{ username: string }> {
    const publicUrl = this.deps.publicUrl;
    if (!publicUrl) {
      throw new ConflictError(
        'PUBLIC_URL_REQUIRED',
        'Telegram delivers messages by webhook, which needs PUBLIC_URL: set it to the address where this server is reachable from the internet (https://…) and try again',
      );
    }
    const bot = await this.deps.bots.get(creatorId, botId);
    const secret = this.deps.telegram.newSecret();
    const webhookUrl = `${publicUrl.replace(/\/+$/, '')}/webhooks/telegram/${bot.id}`;
    const me = await this.deps.telegram.connect(token, webhookUrl, secret);
    const credentials: TelegramCredentials = { token, webhookSecret: secret, username: me.username };
    await this.deps.bots.setChannelCredentials(creatorId, bot.id, 'telegram', credentials, { username: me.username, telegramBotId: me.id });
    this.deps.onChanged?.(bot.id);
    return { username: me.username };
  }

  /** Removes the webhook (best effort: a revoked token cannot) and the stored credentials. */
  async disconnectTelegram(creatorId: string, botId: string): Promise<{ username: string }> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const credentials = await this.deps.bots.getChannelCredentials<TelegramCredentials>(bot.id, 'telegram');
    if (!credentials) throw new NotFoundError('Telegram channel');
    try {
      await this.deps.telegram.disconnect(credentials.token);
    } catch (err) {
      // Without stored credentials every further delivery gets 404, so a webhook we could not delete stops mattering.
      this.deps.onDisconnectFailed?.(err, bot.id);
    }
    await this.deps.bots.removeChannel(creatorId, bot.id, 'telegram');
    this.deps.onChanged?.(bot.id);
    return { username: credentials.username };
  }

  /** The sealed Telegram credentials of a bot, for webhook verification; null when not connected. */
  telegramCredentials(botId: string): Promise<TelegramCredentials | null> {
    return this.deps.bots.getChannelCredentials<TelegramCredentials>(botId, 'telegram');
  }
}
