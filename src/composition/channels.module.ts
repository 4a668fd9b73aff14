import { connectTelegramBot, disconnectTelegramBot } from '../../channels/telegram/telegram.client.js';
import { generateWebhookSecret } from '../../channels/telegram/telegram.webhook.js';
import { WhatsAppClient } from '../../channels/whatsapp/whatsapp.client.js';
import { WhatsAppPacer } from '../../channels/whatsapp/whatsapp.pacing.js';
import { TopicReplyBus } from '../../channels/web/topic.reply-bus.js';
import { WebSender } from '../../channels/web/web.sender.js';
import { ChannelSenders, TelegramSenderCache, WhatsAppSenderCache } from '../../workers/channel-senders.js';
import { startPeriodic } from '../../workers/periodic.js';
import { RedisSendPace } from '../../workers/send-pace.redis.js';
import { PerBotCache } from '../cache/per-bot.cache.js';
import { platformBaseUrl, type Config } from '../config.js';
import type { ReplyEventBus, SharedSendPace } from '../conversation/channel.ports.js';
import { ChannelSetupService, type TelegramCredentials } from '../conversation/channel-setup.service.js';
import { VISITOR_SESSION_DAYS } from '../conversation/visitor-chat.service.js';
import { WebPublicationService } from '../conversation/web-publication.service.js';
import { ContactRepository } from '../db/contact.repository.js';
import { PgSendPace } from '../db/send-pace.repository.js';
import { WebChatRepository } from '../db/web-chat.repository.js';
import type { Logger } from '../observability/logger.js';
import type { BotsModule } from './bots.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Telegram, WhatsApp and the public web chat: connecting bots to them, their webhooks' credentials, and sending replies. */
export interface ChannelsModule extends ModuleLifecycle {
  setup: ChannelSetupService;
  /** A bot's Telegram credentials, decrypted once and kept a few seconds (webhooks and replies). */
  telegramCredentials: PerBotCache<TelegramCredentials>;
  /** One sender per bot and channel, dropped when the bot's channel changes. */
  senders: ChannelSenders;
  /** The public web chat's publications (page, widget, allowed origins). */
  webPublications: WebPublicationService;
  /** Its tables: publications, visitor sessions, daily counters, and its messages' outcomes. */
  webChatStore: WebChatRepository;
  /** Web chat drafts and replies, from the process answering a turn to the one holding the page's request. */
  replyBus: ReplyEventBus;
}

const WEB_CHAT_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Where the channels' send slots are kept so that worker processes side by side stay within a bot's
 * (or a number's) limit together: Redis, else PostgreSQL; the embedded database has one process.
 */
function createSharedSendPace(config: Config, infrastructure: InfrastructureModule): SharedSendPace | undefined {
  if (infrastructure.redis) return new RedisSendPace(infrastructure.redis, config.QUEUE_PREFIX);
  if (infrastructure.database.kind === 'postgres') return new PgSendPace(infrastructure.database.pool);
  return undefined;
}

/** Builds channel set-up and the senders over the bots' sealed credentials. */
export function createChannelsModule({
  config,
  logger,
  infrastructure,
  bots,
  clock,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  bots: BotsModule;
  /** The wall clock WhatsApp's 24-hour window is judged by (tests move it). */
  clock?: (() => Date) | undefined;
}): ChannelsModule {
  // Every Telegram webhook and every reply needs the bot's credentials: decrypted once and kept a
  // few seconds, dropped at once when the channel changes in this process (another process's change
  // shows within the TTL; Telegram redelivers what it refused meanwhile).
  const telegramCredentials = new PerBotCache((botId) => bots.service.getChannelCredentials<TelegramCredentials>(botId, 'telegram'), { ttlMs: 5_000 });
  bots.service.addBotDeletedListener(async (botId) => telegramCredentials.invalidate(botId));
  // The senders read WhatsApp credentials from set-up's cache, and set-up drops the senders when a
  // channel changes: each is told of the other through this list rather than built before it.
  const channelChanged: Array<(botId: string) => void> = [];
  const setup = new ChannelSetupService({
    bots: bots.service,
    telegram: {
      connect: (token, webhookUrl, secretToken) => connectTelegramBot(token, { apiRoot: config.TELEGRAM_API_ROOT, webhookUrl, secretToken, fetch: infrastructure.sdkFetch }),
      disconnect: (token) => disconnectTelegramBot(token, { apiRoot: config.TELEGRAM_API_ROOT, fetch: infrastructure.sdkFetch }),
      newSecret: generateWebhookSecret,
    },
    whatsapp: {
      verify: (phoneNumberId, accessToken) => new WhatsAppClient({ accessToken, graphUrl: config.WHATSAPP_GRAPH_URL, fetch: infrastructure.sdkFetch }).phoneNumber(phoneNumberId),
    },
    publicUrl: config.PUBLIC_URL,
    onChanged: (botId) => {
      for (const listener of channelChanged) listener(botId);
    },
    onDisconnectFailed: (err, botId) => logger.warn({ err, botId }, 'telegram: webhook could not be removed; credentials deleted anyway'),
  });
  bots.service.addBotDeletedListener(async (botId) => setup.forgetWhatsApp(botId));
  const contacts = new ContactRepository(infrastructure.database.pool);
  // Web chat events travel on the platform's topic bus, whichever process answers the turn.
  const replyBus = new TopicReplyBus(infrastructure.topics);
  const sharedPace = createSharedSendPace(config, infrastructure);
  const onSharedPaceError = (err: unknown) => logger.warn({ err }, 'channels: the shared send pace is unavailable; pacing within this process');
  const senders = new ChannelSenders({
    web: {
      sender: async (botId) => new WebSender(botId, replyBus, (err) => logger.warn({ err, botId }, 'web chat: a draft could not be published')),
      invalidate: () => undefined,
    },
    telegram: new TelegramSenderCache({
      token: async (botId) => (await telegramCredentials.get(botId))?.token ?? null,
      apiRoot: config.TELEGRAM_API_ROOT,
      throttle: config.TELEGRAM_THROTTLE,
      fetch: infrastructure.sdkFetch,
      sharedPace,
      onSharedPaceError,
    }),
    whatsapp: new WhatsAppSenderCache({
      credentials: (botId) => setup.whatsappCredentials(botId),
      // WhatsApp allows free-form replies only within 24 hours of the contact's last message.
      lastInboundAt: (botId, waId) => contacts.lastInboundAt(botId, 'whatsapp', waId),
      graphUrl: config.WHATSAPP_GRAPH_URL,
      fetch: infrastructure.sdkFetch,
      pacer: new WhatsAppPacer({
        messagesPerSecond: config.WHATSAPP_MESSAGES_PER_SECOND,
        recipientGapMs: config.WHATSAPP_RECIPIENT_GAP_MS,
        ...(sharedPace ? { sharedPace, onSharedPaceError } : {}),
      }),
      ...(clock ? { now: clock } : {}),
    }),
  });
  channelChanged.push((botId) => {
    senders.invalidate(botId);
    telegramCredentials.invalidate(botId);
  });
  const webChatStore = new WebChatRepository(infrastructure.database.pool);
  const webPublications = new WebPublicationService({ bots: bots.service, store: webChatStore, baseUrl: platformBaseUrl(config) });
  bots.service.addBotDeletedListener(async (botId) => webPublications.forget(botId));
  let sweep: { stop(): Promise<void> } | undefined;
  return {
    setup,
    telegramCredentials,
    senders,
    webPublications,
    webChatStore,
    replyBus,
    startWorkers() {
      // Expired visitor sessions and past days' counters are of no use to anyone: removed hourly.
      sweep = startPeriodic({
        name: 'web-chat sweep',
        intervalMs: WEB_CHAT_SWEEP_INTERVAL_MS,
        logger,
        pass: async () => {
          const removed = await webChatStore.sweep(VISITOR_SESSION_DAYS);
          if (removed.sessions + removed.counters > 0) logger.info(removed, 'web-chat sweep: removed expired visitor sessions and past daily counters');
        },
      });
    },
    drain: async () => sweep?.stop(),
    stop: () => replyBus.close(),
  };
}
