import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Retriever } from '../../../rag/types.js';
import type { BotService } from '../../bots/bot.service.js';
import { labelled } from '../../conversation/source-location.js';
import { botParams } from '../schemas/bots.js';
import { searchQuery, searchResponse } from '../schemas/search.js';

/** Searching a bot's knowledge base the way the bot itself does (hybrid retrieval). */
export const searchRoutes: FastifyPluginAsyncZod<{ bots: Pick<BotService, 'get'>; retriever: Retriever }> = async (app, { bots, retriever }) => {
  app.get(
    '/bots/:botId/search',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['search'],
        security: [{ bearer: [] }],
        summary: 'Search a bot’s documents',
        params: botParams,
        querystring: searchQuery,
        response: { 200: searchResponse },
      },
    },
    async (request) => {
      // Ownership first: another creator's bot is NOT_FOUND, exactly like an unknown one.
      const bot = await bots.get(request.creatorId, request.params.botId);
      const passages = await retriever.retrieve(bot.id, request.query.q, { k: request.query.k });
      return {
        results: passages.map((p) => ({
          documentId: p.documentId,
          title: p.title,
          text: p.text,
          ...(p.page === undefined ? {} : { page: p.page }),
          ...(p.location === undefined ? {} : { location: labelled(p.location) }),
          score: p.score,
        })),
      };
    },
  );
};
