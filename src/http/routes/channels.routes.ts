import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ChannelSetupService } from '../../conversation/channel-setup.service.js';
import { botParams } from '../schemas/bots.js';
import { telegramChannelBody, telegramChannelResponse } from '../schemas/channels.js';

/** Connecting a bot to messaging channels. */
export const channelRoutes: FastifyPluginAsyncZod<{ channels: Pick<ChannelSetupService, 'connectTelegram' | 'disconnectTelegram'> }> = async (
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
};
