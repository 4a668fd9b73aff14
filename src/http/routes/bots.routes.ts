import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BotService } from '../../bots/bot.service.js';
import type { Bot } from '../../bots/bot.types.js';
import { botListResponse, botParams, botResponse, createBotBody, updateBotBody } from '../schemas/bots.js';

/** The public shape of a bot: no owner id, no credentials. */
export function toBotResponse(bot: Bot) {
  return {
    id: bot.id,
    name: bot.name,
    persona: bot.persona,
    language: bot.language,
    settings: bot.settings,
    channels: bot.channels,
    createdAt: bot.createdAt.toISOString(),
    updatedAt: bot.updatedAt.toISOString(),
  };
}

/** CRUD for the creator's bots. */
export const botRoutes: FastifyPluginAsyncZod<{ bots: BotService }> = async (app, { bots }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['bots'], security: [{ bearer: [] }] };

  app.post('/bots', { schema: { ...common, summary: 'Create a bot', body: createBotBody, response: { 201: botResponse } } }, async (request, reply) =>
    reply.status(201).send(toBotResponse(await bots.create(request.creatorId, request.body))),
  );

  app.get('/bots', { schema: { ...common, summary: 'List bots', response: { 200: botListResponse } } }, async (request) => ({
    bots: (await bots.list(request.creatorId)).map(toBotResponse),
  }));

  app.get('/bots/:botId', { schema: { ...common, summary: 'Get a bot', params: botParams, response: { 200: botResponse } } }, async (request) =>
    toBotResponse(await bots.get(request.creatorId, request.params.botId)),
  );

  app.patch(
    '/bots/:botId',
    { schema: { ...common, summary: 'Change some of a bot’s fields', params: botParams, body: updateBotBody, response: { 200: botResponse } } },
    async (request) => toBotResponse(await bots.update(request.creatorId, request.params.botId, request.body)),
  );

  app.delete(
    '/bots/:botId',
    { schema: { ...common, summary: 'Delete a bot with its documents and channels', params: botParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await bots.delete(request.creatorId, request.params.botId);
      return reply.status(204).send(null);
    },
  );
};
