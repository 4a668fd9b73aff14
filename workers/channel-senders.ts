import { createTelegramApi } from '../channels/telegram/telegram.client.js';
import { TelegramSender } from '../channels/telegram/telegram.outbound.js';
import type { ChannelName, ChannelSender, SharedSendPace } from '../src/conversation/channel.ports.js';
import { WhatsAppClient } from '../channels/whatsapp/whatsapp.client.js';
import { WhatsAppSender } from '../channels/whatsapp/whatsapp.outbound.js';
import type { WhatsAppPacer } from '../channels/whatsapp/whatsapp.pacing.js';
import { WindowedWhatsAppSender } from '../channels/whatsapp/whatsapp.windowed-sender.js';
import type { WhatsAppCredentials } from '../src/conversation/channel-setup.service.js';
import type { SenderDirectory } from '../src/conversation/turn.ports.js';

export interface TelegramSenderCacheOptions {
  /** The bot's Telegram token, or null when Telegram is not connected. */
  token(botId: string): Promise<string | null>;
  apiRoot: string;
  /** Telegram's rate limits applied client-side; off only against a local fake. */
  throttle: boolean;
  /** The fetch the Bot API calls go through (HTTP_CLIENT). */
  fetch?: typeof fetch;
  /** Each bot's pace shared with the other processes sending for it, where there are any. */
  sharedPace?: SharedSendPace | undefined;
  onSharedPaceError?(error: unknown): void;
}

/** One TelegramSender per bot and token, so a bot's throttling is shared by all its turns in this process. */
export class TelegramSenderCache {
  private readonly senders = new Map<string, { token: string; sender: TelegramSender }>();

  constructor(private readonly options: TelegramSenderCacheOptions) {}

  async sender(botId: string): Promise<ChannelSender | null> {
    const token = await this.options.token(botId);
    if (!token) {
      this.senders.delete(botId);
      return null;
    }
    const cached = this.senders.get(botId);
    // A changed token (reconnected in another process) replaces the sender here too.
    if (cached?.token === token) return cached.sender;
    const api = createTelegramApi(token, {
      apiRoot: this.options.apiRoot,
      ...(this.options.throttle ? {} : { throttle: false }),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.sharedPace
        ? { sharedPace: { pace: this.options.sharedPace, key: `telegram:${botId}`, onError: (err: unknown) => this.options.onSharedPaceError?.(err) } }
        : {}),
    });
    const sender = new TelegramSender(api, { fileApiRoot: this.options.apiRoot });
    this.senders.set(botId, { token, sender });
    return sender;
  }

  /** Drops a bot's sender after its channel changed. */
  invalidate(botId: string): void {
    this.senders.delete(botId);
  }
}

export interface WhatsAppSenderCacheOptions {
  /** The bot's sealed WhatsApp credentials, or null when WhatsApp is not connected. */
  credentials(botId: string): Promise<WhatsAppCredentials | null>;
  /** When the user last wrote to the bot on WhatsApp, for the 24-hour window. */
  lastInboundAt(botId: string, waId: string): Promise<Date | undefined>;
  graphUrl: string;
  /** One pacer per process, so a number's throughput cap holds across its bots and turns. */
  pacer: WhatsAppPacer;
  /** The fetch the Cloud API calls go through (HTTP_CLIENT). */
  fetch?: typeof fetch;
  /** The wall clock the 24-hour window is judged by. */
  now?: () => Date;
}

/** One window-aware WhatsApp sender per bot and credentials. */
export class WhatsAppSenderCache {
  private readonly senders = new Map<string, { key: string; sender: WindowedWhatsAppSender }>();

  constructor(private readonly options: WhatsAppSenderCacheOptions) {}

  async sender(botId: string): Promise<ChannelSender | null> {
    const credentials = await this.options.credentials(botId);
    if (!credentials) {
      this.senders.delete(botId);
      return null;
    }
    const key = JSON.stringify([credentials.accessToken, credentials.phoneNumberId, credentials.template ?? null]);
    const cached = this.senders.get(botId);
    if (cached?.key === key) return cached.sender;
    const client = new WhatsAppClient({
      accessToken: credentials.accessToken,
      graphUrl: this.options.graphUrl,
      pacer: this.options.pacer,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const sender = new WindowedWhatsAppSender(new WhatsAppSender(client, credentials.phoneNumberId), {
      lastInboundAt: (to) => this.options.lastInboundAt(botId, to),
      template: credentials.template,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    this.senders.set(botId, { key, sender });
    return sender;
  }

  invalidate(botId: string): void {
    this.senders.delete(botId);
  }
}

/** Senders for every messaging channel, behind the pipeline's SenderDirectory port. */
export class ChannelSenders implements SenderDirectory {
  constructor(private readonly byChannel: Partial<Record<ChannelName, { sender(botId: string): Promise<ChannelSender | null>; invalidate(botId: string): void }>>) {}

  async sender(botId: string, channel: ChannelName): Promise<ChannelSender | null> {
    return (await this.byChannel[channel]?.sender(botId)) ?? null;
  }

  /** Drops a bot's cached senders after its channels changed. */
  invalidate(botId: string): void {
    for (const cache of Object.values(this.byChannel)) cache.invalidate(botId);
  }
}
