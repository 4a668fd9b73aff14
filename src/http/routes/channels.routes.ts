import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ChannelSetupService } from '../../conversation/channel-setup.service.js';
import { botParams } from '../schemas/bots.js';
import {
  telegramChannelBody,
  telegramChannelResponse,
  whatsappChannelBody,
  whatsappChannelResponse,
  whatsappDisconnectResponse,
} from '../schemas/channels.js';

/** Connecting a bot to messaging channels. */
export const channelRoutes: FastifyPluginAsyncZod<{ channels: Pick<ChannelSetupService, 'connectTelegram' | 'disconnectTelegram' | 'connectWhatsApp' | 'disconnectWhatsApp'> }> = async (
  app,
  { channels },
) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['channels'], security: [{ bearer: [] }] };

  app.put(
    '/bots/:botId/channels/telegram',
    {
      schema: {
        ...common,
        summary: 'Connect the bot to Telegram: checks the token and registers the webhook (needs PUBLIC_URL)',
        params: botParams,
        body: telegramChannelBody,
        response: { 200: telegramChannelResponse },
      },
    },
    async (request) => channels.connectTelegram(request.creatorId, request.params.botId, request.body.token),
  );

  app.delete(
    '/bots/:botId/channels/telegram',
    {
      schema: {
        ...common,
        summary: 'Disconnect Telegram: removes the webhook and the stored token',
        params: botParams,
        response: { 200: telegramChannelResponse },
      },
    },
    async (request) => channels.disconnectTelegram(request.creatorId, request.params.botId),
  );

  app.put(
    '/bots/:botId/channels/whatsapp',
    {
      schema: {
        ...common,
        summary: 'Connect a WhatsApp business number: checks the token against it and stores every secret encrypted',
        params: botParams,
        body: whatsappChannelBody,
        response: { 200: whatsappChannelResponse },
      },
    },
    async (request) => channels.connectWhatsApp(request.creatorId, request.params.botId, request.body),
  );

  app.delete(
    '/bots/:botId/channels/whatsapp',
    {
      schema: { ...common, summary: 'Disconnect WhatsApp: deletes the stored credentials', params: botParams, response: { 200: whatsappDisconnectResponse } },
    },
    async (request) => channels.disconnectWhatsApp(request.creatorId, request.params.botId),
  );
};
