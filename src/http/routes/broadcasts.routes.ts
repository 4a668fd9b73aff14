import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BroadcastSegment } from '../../coaching/broadcast.ports.js';
import type { BroadcastService, BroadcastView } from '../../coaching/broadcast.service.js';
import { botParams } from '../schemas/bots.js';
import {
  broadcastAccepted,
  broadcastListQuery,
  broadcastListResponse,
  broadcastParams,
  broadcastResponse,
  createBroadcastBody,
  recipientsQuery,
  recipientsResponse,
} from '../schemas/broadcasts.js';

function segmentOf(segment: BroadcastSegment) {
  switch (segment.type) {
    case 'program':
      return { type: segment.type, value: segment.programId };
    case 'habit':
      return { type: segment.type, value: segment.habitId };
    case 'tag':
      return { type: segment.type, value: segment.tag };
    case 'channel':
      return { type: segment.type, value: segment.channel };
    case 'all':
      return { type: segment.type };
  }
}

function toBroadcast(b: BroadcastView) {
  const segment = segmentOf(b.segment);
  return {
    id: b.id,
    text: b.text,
    segment,
    sendAt: b.sendAt.toISOString(),
    recipientsChosenAt: b.startedAt?.toISOString() ?? null,
    createdAt: b.createdAt.toISOString(),
    cancelledAt: b.cancelledAt?.toISOString() ?? null,
    status: b.status,
    total: b.total,
    sent: b.sent,
    failed: b.failed,
    skipped: b.skipped,
    cancelled: b.cancelled,
    pending: b.pending,
  };
}

/** Broadcasts: one message to a segment of the bot's contacts, its totals and per-recipient fate. */
export const broadcastRoutes: FastifyPluginAsyncZod<{ broadcasts: BroadcastService }> = async (app, { broadcasts }) => {
  app.addHook('onRequest', app.authenticate);
  const common = { tags: ['coaching'], security: [{ bearer: [] }] };

  app.post(
    '/bots/:botId/broadcasts',
    {
      schema: {
        ...common,
        summary: 'Send one message to a segment of the contacts, now or at sendAt, when the recipients are chosen (paced per channel; opted-out contacts are skipped)',
        params: botParams,
        body: createBroadcastBody,
        response: { 202: broadcastAccepted },
      },
    },
    async (request, reply) => {
      const { text, segment, sendAt } = request.body;
      const created = await broadcasts.create(request.creatorId, request.params.botId, { text, segment, sendAt: sendAt ? new Date(sendAt) : undefined });
      request.log.info({ broadcastId: created.id, recipients: created.total }, 'broadcast created');
      return reply.status(202).send({ id: created.id, status: created.status });
    },
  );

  app.get(
    '/bots/:botId/broadcasts',
    { schema: { ...common, summary: "The bot's broadcasts, newest first, with their totals", params: botParams, querystring: broadcastListQuery, response: { 200: broadcastListResponse } } },
    async (request) => ({
      broadcasts: (await broadcasts.list(request.creatorId, request.params.botId, { limit: request.query.limit, before: request.query.before })).map(toBroadcast),
    }),
  );

  app.get(
    '/bots/:botId/broadcasts/:broadcastId',
    { schema: { ...common, summary: 'A broadcast with totals counted from its recipients', params: broadcastParams, response: { 200: broadcastResponse } } },
    async (request) => toBroadcast(await broadcasts.get(request.creatorId, request.params.botId, request.params.broadcastId)),
  );

  app.post(
    '/bots/:botId/broadcasts/:broadcastId/cancel',
    {
      schema: {
        ...common,
        summary: 'Cancel the recipients not yet being sent to (a message already going out still goes)',
        params: broadcastParams,
        response: { 200: broadcastResponse },
      },
    },
    async (request) => toBroadcast(await broadcasts.cancel(request.creatorId, request.params.botId, request.params.broadcastId)),
  );

  app.get(
    '/bots/:botId/broadcasts/:broadcastId/recipients',
    { schema: { ...common, summary: "Each recipient's status, with why any was skipped", params: broadcastParams, querystring: recipientsQuery, response: { 200: recipientsResponse } } },
    async (request) => {
      const { status, limit, before } = request.query;
      const recipients = await broadcasts.recipients(request.creatorId, request.params.botId, request.params.broadcastId, { status, limit, before });
      return { recipients: recipients.map((r) => ({ ...r, settledAt: r.settledAt?.toISOString() ?? null })) };
    },
  );
};
