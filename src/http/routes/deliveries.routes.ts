import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DeliveryService } from '../../conversation/delivery.service.js';
import { botParams } from '../schemas/bots.js';
import { deliveriesQuery, deliveriesResponse } from '../schemas/deliveries.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What became of a bot's outgoing messages: sent, delivered, read, or failed and why. */
export const deliveryRoutes: FastifyPluginAsyncZod<{ deliveries: Pick<DeliveryService, 'list'> }> = async (app, { deliveries }) => {
  app.get(
    '/bots/:botId/deliveries',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['channels'],
        security: [{ bearer: [] }],
        summary: "The bot's outgoing messages, newest first, with delivery state and failure reasons",
        params: botParams,
        querystring: deliveriesQuery,
        response: { 200: deliveriesResponse },
      },
    },
    async (request) => {
      const { status, before, limit } = request.query;
      const records = await deliveries.list(request.creatorId, request.params.botId, {
        limit,
        ...(status ? { status } : {}),
        ...(before ? { before: new Date(before) } : {}),
      });
      return {
        deliveries: records.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), sentAt: iso(r.sentAt), reportedAt: iso(r.reportedAt) })),
      };
    },
  );
};
