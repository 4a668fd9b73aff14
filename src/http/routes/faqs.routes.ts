import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FaqService } from '../../knowledge/faq.service.js';
import type { FaqPair } from '../../knowledge/faq.types.js';
import { botParams } from '../schemas/bots.js';
import { createFaqBody, faqListQuery, faqListResponse, faqParams, faqResponse, updateFaqBody } from '../schemas/faqs.js';

function toFaq(pair: FaqPair) {
  return {
    id: pair.id,
    question: pair.question,
    answer: pair.answer,
    source: pair.documentId === null ? ('manual' as const) : ('document' as const),
    documentId: pair.documentId,
    location: pair.location && {
      ...pair.location,
      label: pair.location.sheet === null ? `row ${pair.location.row}` : `sheet ${pair.location.sheet}, row ${pair.location.row}`,
    },
    createdAt: pair.createdAt.toISOString(),
    updatedAt: pair.updatedAt.toISOString(),
  };
}

/** A bot's FAQ pairs: written by hand or read from FAQ sheets; a question matching one is answered with it. */
export const faqRoutes: FastifyPluginAsyncZod<{ faqs: FaqService }> = async (app, { faqs }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['knowledge'], security: [{ bearer: [] }] };

  app.post(
    '/bots/:botId/faqs',
    { schema: { ...common, summary: 'Add an FAQ pair: a question users ask matching it closely is answered with this answer', params: botParams, body: createFaqBody, response: { 201: faqResponse } } },
    async (request, reply) => reply.status(201).send(toFaq(await faqs.create(request.creatorId, request.params.botId, request.body))),
  );

  app.get(
    '/bots/:botId/faqs',
    { schema: { ...common, summary: "List the bot's FAQ pairs, oldest first (a sheet's in its row order)", params: botParams, querystring: faqListQuery, response: { 200: faqListResponse } } },
    async (request) => {
      const page = await faqs.list(request.creatorId, request.params.botId, request.query);
      return { faqs: page.items.map(toFaq), nextCursor: page.nextCursor };
    },
  );

  app.get('/bots/:botId/faqs/:faqId', { schema: { ...common, summary: 'Get an FAQ pair', params: faqParams, response: { 200: faqResponse } } }, async (request) =>
    toFaq(await faqs.get(request.creatorId, request.params.botId, request.params.faqId)),
  );

  app.patch(
    '/bots/:botId/faqs/:faqId',
    { schema: { ...common, summary: 'Change a written FAQ pair (409 for one read from a sheet)', params: faqParams, body: updateFaqBody, response: { 200: faqResponse } } },
    async (request) => toFaq(await faqs.update(request.creatorId, request.params.botId, request.params.faqId, request.body)),
  );

  app.delete(
    '/bots/:botId/faqs/:faqId',
    { schema: { ...common, summary: 'Delete a written FAQ pair (409 for one read from a sheet)', params: faqParams, response: { 204: z.null().describe('Deleted') } } },
    async (request, reply) => {
      await faqs.delete(request.creatorId, request.params.botId, request.params.faqId);
      return reply.status(204).send(null);
    },
  );
};
