import { ConflictError, NotFoundError } from '../errors/app.errors.js';
import { verifyTokenHash, type BotService } from '../bots/bot.service.js';
import { PerBotCache } from '../cache/per-bot.cache.js';

/** Talks to Telegram for set-up (channels/telegram/telegram.client.ts behind it). */
export interface TelegramConnector {
  /** Validates the token (getMe) and registers the webhook; ChannelAuthError for a bad token. */
  connect(token: string, webhookUrl: string, secretToken: string): Promise<{ id: number; username: string }>;
  disconnect(token: string): Promise<void>;
  newSecret(): string;
}

/** Talks to the WhatsApp Cloud API for set-up (channels/whatsapp/whatsapp.client.ts behind it). */
export interface WhatsAppConnector {
  /** Checks that the token may use the phone number; ChannelAuthError for a bad token. */
  verify(phoneNumberId: string, accessToken: string): Promise<{ displayPhoneNumber: string; verifiedName?: string }>;
}

/** The approved template sent when the 24-hour window has closed; parameters fill {{1}}, {{2}}, … */
export interface WhatsAppTemplate {
  name: string;
  language: string;
  parameters?: string[] | undefined;
}

/** What is sealed for a connected WhatsApp business number. */
export interface WhatsAppCredentials {
  phoneNumberId: string;
  wabaId: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  template?: WhatsAppTemplate | undefined;
}

export interface WhatsAppConnection {
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  /** Where to point the Meta app's webhook; null without PUBLIC_URL. */
  webhookUrl: string | null;
  template: WhatsAppTemplate | null;
}

/** A connected WhatsApp number as the creator may see it again: no secret, the verify token only hinted at. */
export interface WhatsAppConnectionView extends WhatsAppConnection {
  /** The verify token's last characters, to tell which one the Meta app should have. */
  verifyTokenHint: string;
  /** connected: webhooks can reach the platform; needs_public_url: set PUBLIC_URL first, Meta has nowhere to call. */
  status: 'connected' | 'needs_public_url';
}

/** What is sealed for a connected Telegram bot. */
export interface TelegramCredentials {
  token: string;
  webhookSecret: string;
  username: string;
}

export interface ChannelSetupDeps {
  bots: Pick<BotService, 'get' | 'setChannelCredentials' | 'getChannelCredentials' | 'removeChannel' | 'findBotIdByRoute' | 'hasVerifyToken'>;
  telegram: TelegramConnector;
  whatsapp: WhatsAppConnector;
  /** Where the platform is reachable from the internet; webhooks cannot be registered without it. */
  publicUrl: string | undefined;
  /** Called after a channel's credentials changed, so cached clients are dropped. */
  onChanged?(botId: string): void;
  /** Told when the webhook could not be removed at Telegram (e.g. the token was revoked). */
  onDisconnectFailed?(error: unknown, botId: string): void;
}

// Webhooks and senders read a number's bot and credentials for every message; changes made in this
// process are seen at once, another process's within this time.
const CREDENTIALS_TTL_MS = 5_000;

/** Connecting and disconnecting a creator's bot to messaging channels. */
export class ChannelSetupService {
  private readonly whatsappBots: PerBotCache<string>;
  private readonly whatsappSecrets: PerBotCache<WhatsAppCredentials>;

  constructor(private readonly deps: ChannelSetupDeps) {
    this.whatsappBots = new PerBotCache((phoneNumberId) => deps.bots.findBotIdByRoute('whatsapp', phoneNumberId), { ttlMs: CREDENTIALS_TTL_MS });
    this.whatsappSecrets = new PerBotCache((botId) => deps.bots.getChannelCredentials<WhatsAppCredentials>(botId, 'whatsapp'), { ttlMs: CREDENTIALS_TTL_MS });
  }

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

  /**
   * Connects a WhatsApp business number: checks the token against the phone number, then stores
   * every secret sealed. Meta's webhook is configured in the Meta app, pointing at `webhookUrl`.
   */
  async connectWhatsApp(creatorId: string, botId: string, input: WhatsAppCredentials): Promise<WhatsAppConnection> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const phone = await this.deps.whatsapp.verify(input.phoneNumberId, input.accessToken);
    const connection: WhatsAppConnection = {
      phoneNumberId: input.phoneNumberId,
      wabaId: input.wabaId,
      displayPhoneNumber: phone.displayPhoneNumber,
      webhookUrl: this.webhookUrl(),
      template: input.template ?? null,
    };
    await this.deps.bots.setChannelCredentials(
      creatorId,
      bot.id,
      'whatsapp',
      input,
      { phoneNumberId: input.phoneNumberId, wabaId: input.wabaId, displayPhoneNumber: phone.displayPhoneNumber, template: input.template ?? null },
      { routeKey: input.phoneNumberId, verifyTokenHash: verifyTokenHash(input.verifyToken) },
    );
    this.forgetWhatsApp(bot.id, input.phoneNumberId);
    return connection;
  }

  /** The bot's WhatsApp connection without its secrets; NOT_FOUND when none is connected. */
  async whatsApp(creatorId: string, botId: string): Promise<WhatsAppConnectionView> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const credentials = await this.deps.bots.getChannelCredentials<WhatsAppCredentials>(bot.id, 'whatsapp');
    if (!credentials) throw new NotFoundError('WhatsApp channel');
    const shown = bot.channels.find((c) => c.channel === 'whatsapp');
    const webhookUrl = this.webhookUrl();
    return {
      phoneNumberId: credentials.phoneNumberId,
      wabaId: credentials.wabaId,
      displayPhoneNumber: typeof shown?.displayPhoneNumber === 'string' ? shown.displayPhoneNumber : '',
      webhookUrl,
      template: credentials.template ?? null,
      verifyTokenHint: tokenHint(credentials.verifyToken),
      status: webhookUrl ? 'connected' : 'needs_public_url',
    };
  }

  private webhookUrl(): string | null {
    return this.deps.publicUrl ? `${this.deps.publicUrl.replace(/\/+$/, '')}/webhooks/whatsapp` : null;
  }

  /** Forgets the bot's WhatsApp credentials; its number's webhooks are ignored from then on. */
  async disconnectWhatsApp(creatorId: string, botId: string): Promise<{ phoneNumberId: string }> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const credentials = await this.deps.bots.getChannelCredentials<WhatsAppCredentials>(bot.id, 'whatsapp');
    if (!credentials) throw new NotFoundError('WhatsApp channel');
    await this.deps.bots.removeChannel(creatorId, bot.id, 'whatsapp');
    this.forgetWhatsApp(bot.id, credentials.phoneNumberId);
    return { phoneNumberId: credentials.phoneNumberId };
  }

  /** The bot behind a WhatsApp business number and its sealed credentials; null when none is connected. */
  async whatsappByPhoneNumberId(phoneNumberId: string): Promise<{ botId: string; credentials: WhatsAppCredentials } | null> {
    // A cached answer is trusted only when the bot's credentials still name this number: a number
    // moved to another bot in another process is read again rather than dropped.
    for (const fresh of [false, true]) {
      const botId = fresh ? await this.whatsappBots.refresh(phoneNumberId) : await this.whatsappBots.get(phoneNumberId);
      if (!botId) return null;
      const credentials = fresh ? await this.whatsappSecrets.refresh(botId) : await this.whatsappSecrets.get(botId);
      if (credentials?.phoneNumberId === phoneNumberId) return { botId, credentials };
    }
    return null;
  }

  /** The sealed WhatsApp credentials of a bot, for its sender; null when not connected. */
  whatsappCredentials(botId: string): Promise<WhatsAppCredentials | null> {
    return this.whatsappSecrets.get(botId);
  }

  /** Drops what this process cached about a bot's WhatsApp number after a change. */
  forgetWhatsApp(botId: string, phoneNumberId?: string): void {
    this.whatsappSecrets.invalidate(botId);
    if (phoneNumberId) this.whatsappBots.invalidate(phoneNumberId);
    this.deps.onChanged?.(botId);
  }

  /** Whether a WhatsApp channel was connected with this verify token (Meta's subscription handshake). */
  isWhatsAppVerifyToken(token: string): Promise<boolean> {
    return this.deps.bots.hasVerifyToken('whatsapp', token);
  }
}

// Short tokens show nothing of themselves: a hint must not give most of a secret away.
function tokenHint(token: string): string {
  return token.length >= 12 ? `••••${token.slice(-4)}` : '••••';
}
