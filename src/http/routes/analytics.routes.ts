import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AnalyticsService } from '../../coaching/analytics.service.js';
import { analyticsQuery, analyticsResponse } from '../schemas/analytics.js';
import { botParams } from '../schemas/bots.js';

/** A bot's activity per local day, and the questions its users ask. */
export const analyticsRoutes: FastifyPluginAsyncZod<{ analytics: Pick<AnalyticsService, 'forBot'> }> = async (app, { analytics }) => {
  app.get(
    '/bots/:botId/analytics',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['coaching'],
        security: [{ bearer: [] }],
        summary:
          "The bot's conversations, messages, reply latency, uncovered answers, deliveries, check-ins and programs per day in a time zone, with its top and uncovered questions and each habit's and program's results",
        params: botParams,
        querystring: analyticsQuery,
        response: { 200: analyticsResponse },
      },
    },
    async (request) => analytics.forBot(request.creatorId, request.params.botId, request.query),
  );
};
