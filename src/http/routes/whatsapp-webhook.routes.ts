import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseWhatsAppWebhook, phoneNumberIdsOf, toDeliveryReport, toInboundMessage } from '../../../channels/whatsapp/whatsapp.inbound.js';
import { verifySubscription, verifyWhatsAppSignature, WHATSAPP_SIGNATURE_HEADER } from '../../../channels/whatsapp/whatsapp.webhook.js';
import type { ChannelSetupService, WhatsAppCredentials } from '../../conversation/channel-setup.service.js';
import type { DeliveryService } from '../../conversation/delivery.service.js';
import type { InboundService } from '../../conversation/inbound.service.js';
import { AppError, ForbiddenError, UnauthorizedError, UnavailableError } from '../../errors/app.errors.js';
import { acceptRawBody, parseJsonBody } from '../plugins/raw-body.js';
import { webhookAck } from '../schemas/channels.js';

/** Anything but an expected failure means the database is unreachable: Meta should deliver again. */
function unavailable(err: unknown): unknown {
  return err instanceof AppError ? err : new UnavailableError('The webhook could not be stored right now; WhatsApp will deliver it again');
}

/**
 * WhatsApp Cloud API webhooks. GET answers Meta's subscription handshake; POST verifies the
 * signature over the exact bytes with the app secret of the bot owning each phone number, then
 * stores every message and status of the payload before acknowledging (503 otherwise: Meta retries).
 */
export const whatsappWebhookRoutes: FastifyPluginAsyncZod<{
  channels: Pick<ChannelSetupService, 'whatsappByPhoneNumberId' | 'isWhatsAppVerifyToken'>;
  inbound: Pick<InboundService, 'receive'>;
  deliveries: Pick<DeliveryService, 'record'>;
}> = async (app, { channels, inbound, deliveries }) => {
  acceptRawBody(app);

  app.get('/webhooks/whatsapp', { schema: { tags: ['webhooks'], summary: "Meta's webhook subscription handshake", hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const token = query['hub.verify_token'];
    const known = typeof token === 'string' && token.length > 0 && (await channels.isWhatsAppVerifyToken(token).catch((err: unknown) => {
      throw unavailable(err);
    }));
    const challenge = known ? verifySubscription(query, token) : null;
    if (challenge === null) {
      request.log.warn('whatsapp webhook: subscription handshake refused');
      throw new ForbiddenError('The verify token does not match any connected WhatsApp number');
    }
    return reply.type('text/plain; charset=utf-8').send(challenge);
  });

  app.post(
    '/webhooks/whatsapp',
    { config: { rateLimit: false }, schema: { tags: ['webhooks'], summary: 'WhatsApp Cloud API messages and statuses', response: { 200: webhookAck } } },
    async (request) => {
      const raw = request.body;
      const json = parseJsonBody(raw);
      const bots = new Map<string, { botId: string; credentials: WhatsAppCredentials }>();
      try {
        for (const phoneNumberId of phoneNumberIdsOf(json)) {
          const bot = await channels.whatsappByPhoneNumberId(phoneNumberId);
          if (bot) bots.set(phoneNumberId, bot);
        }
      } catch (err) {
        request.log.warn({ err }, 'whatsapp webhook: bot lookup failed');
        throw unavailable(err);
      }
      if (bots.size === 0) {
        // A number we do not serve (e.g. disconnected): retrying would not change that.
        request.log.info({ phoneNumberIds: phoneNumberIdsOf(json) }, 'whatsapp webhook: no connected number in the payload; ignored');
        return { ok: true as const };
      }
      const header = request.headers[WHATSAPP_SIGNATURE_HEADER];
      for (const { botId, credentials } of bots.values()) {
        if (!verifyWhatsAppSignature(raw as Buffer, typeof header === 'string' ? header : undefined, credentials.appSecret)) {
          request.log.warn({ botId }, 'whatsapp webhook: signature does not match');
          throw new UnauthorizedError('Invalid X-Hub-Signature-256');
        }
      }
      const parsed = parseWhatsAppWebhook(json);
      if (parsed.ignored.length) request.log.info({ ignored: parsed.ignored }, 'whatsapp webhook: parts acknowledged and ignored');
      try {
        for (const event of parsed.events) {
          const bot = bots.get(event.phoneNumberId);
          if (!bot) continue;
          if (event.type === 'message') {
            const outcome = await inbound.receive(bot.botId, toInboundMessage(event.message));
            if (outcome.duplicate) request.log.info({ botId: bot.botId, messageId: event.message.externalId }, 'whatsapp webhook: duplicate delivery');
          } else {
            await deliveries.record(bot.botId, toDeliveryReport(event.status));
          }
        }
      } catch (err) {
        request.log.warn({ err }, 'whatsapp webhook: could not store the payload');
        throw unavailable(err);
      }
      return { ok: true as const };
    },
  );
};
