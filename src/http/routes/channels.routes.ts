import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ChannelSetupService } from '../../conversation/channel-setup.service.js';
import type { WebPublicationService } from '../../conversation/web-publication.service.js';
import { botParams } from '../schemas/bots.js';
import {
  telegramChannelBody,
  telegramChannelResponse,
  whatsappChannelBody,
  whatsappChannelResponse,
  whatsappConnectionResponse,
  whatsappDisconnectResponse,
  webChannelBody,
  webChannelResponse,
  webChannelSettingsResponse,
} from '../schemas/channels.js';

/** Connecting a bot to messaging channels. */
export const channelRoutes: FastifyPluginAsyncZod<{
  channels: Pick<ChannelSetupService, 'connectTelegram' | 'disconnectTelegram' | 'connectWhatsApp' | 'whatsApp' | 'disconnectWhatsApp'>;
  webPublications: Pick<WebPublicationService, 'publish' | 'unpublish' | 'settings'>;
}> = async (app, { channels, webPublications }) => {
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

  app.get(
    '/bots/:botId/channels/whatsapp',
    {
      schema: {
        ...common,
        summary: 'The connected WhatsApp number without its secrets: the webhook URL to enter in the Meta app and a hint of the verify token',
        params: botParams,
        response: { 200: whatsappConnectionResponse },
      },
    },
    async (request) => channels.whatsApp(request.creatorId, request.params.botId),
  );

  app.delete(
    '/bots/:botId/channels/whatsapp',
    {
      schema: { ...common, summary: 'Disconnect WhatsApp: deletes the stored credentials', params: botParams, response: { 200: whatsappDisconnectResponse } },
    },
    async (request) => channels.disconnectWhatsApp(request.creatorId, request.params.botId),
  );

  app.put(
    '/bots/:botId/channels/web',
    {
      schema: {
        ...common,
        summary: 'Publish the public web chat: a page anyone can open without a key, and a snippet to embed it',
        params: botParams,
        body: webChannelBody,
        response: { 200: webChannelResponse },
      },
    },
    async (request) => webPublications.publish(request.creatorId, request.params.botId, request.body),
  );

  app.get(
    '/bots/:botId/channels/web',
    {
      schema: {
        ...common,
        summary: 'The published web chat: its settings, public address and embed snippet (404 while unpublished)',
        params: botParams,
        response: { 200: webChannelSettingsResponse },
      },
    },
    async (request) => webPublications.settings(request.creatorId, request.params.botId),
  );

  app.delete(
    '/bots/:botId/channels/web',
    { schema: { ...common, summary: 'Unpublish the web chat: only the creator’s preview keeps working', params: botParams, response: { 204: z.null() } } },
    async (request, reply) => {
      await webPublications.unpublish(request.creatorId, request.params.botId);
      return reply.status(204).send(null);
    },
  );
};
