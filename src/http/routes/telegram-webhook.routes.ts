import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { normalizeTelegramUpdate } from '../../../channels/telegram/telegram.inbound.js';
import { TELEGRAM_SECRET_HEADER, verifyTelegramSecret } from '../../../channels/telegram/telegram.webhook.js';
import type { ChannelSetupService } from '../../conversation/channel-setup.service.js';
import type { InboundService } from '../../conversation/inbound.service.js';
import { AppError, NotFoundError, UnauthorizedError, UnavailableError } from '../../errors/app.errors.js';
import { telegramWebhookParams, webhookAck } from '../schemas/channels.js';

/** Anything but an expected failure means the database (or the queue behind it) is unreachable: Telegram should retry. */
function unavailable(err: unknown): unknown {
  return err instanceof AppError ? err : new UnavailableError('The message could not be stored right now; Telegram will deliver it again');
}

/**
 * Telegram's webhook: verifies the secret token, stores the update and acknowledges it only once
 * it is committed (503 otherwise, so Telegram redelivers). Open route: no JWT, no rate limit.
 */
export const telegramWebhookRoutes: FastifyPluginAsyncZod<{
  channels: Pick<ChannelSetupService, 'telegramCredentials'>;
  inbound: Pick<InboundService, 'receive'>;
}> = async (app, { channels, inbound }) => {
  app.post(
    '/webhooks/telegram/:botId',
    {
      // The update's text is cleaned at the channel edge (telegram.inbound), not refused: Telegram would redeliver it forever.
      config: { rateLimit: false, cleansText: true },
      schema: { tags: ['webhooks'], summary: 'Telegram Bot API updates', params: telegramWebhookParams, response: { 200: webhookAck } },
    },
    async (request) => {
      // Ids are case-insensitive in the database; caches and sealed credentials key on the canonical form.
      const botId = request.params.botId.toLowerCase();
      const credentials = await channels.telegramCredentials(botId).catch((err: unknown) => {
        request.log.warn({ err, botId }, 'telegram webhook: credentials unavailable');
        throw unavailable(err);
      });
      // Unknown bot and bot without Telegram look the same from outside.
      if (!credentials) throw new NotFoundError('Bot');
      if (!verifyTelegramSecret(request.headers[TELEGRAM_SECRET_HEADER], credentials.webhookSecret)) {
        throw new UnauthorizedError('Invalid webhook secret token');
      }
      const normalized = normalizeTelegramUpdate(request.body, { botUsername: credentials.username });
      if ('ignored' in normalized) {
        request.log.info({ botId, reason: normalized.ignored }, 'telegram webhook: update acknowledged and ignored');
        return { ok: true as const };
      }
      try {
        const outcome = await inbound.receive(botId, normalized);
        if (outcome.duplicate) request.log.info({ botId, externalId: normalized.externalId }, 'telegram webhook: duplicate delivery');
      } catch (err) {
        request.log.warn({ err, botId }, 'telegram webhook: could not store the update');
        throw unavailable(err);
      }
      return { ok: true as const };
    },
  );
};
