import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { InboxService } from '../../conversation/inbox.service.js';
import { botParams } from '../schemas/bots.js';
import { conversationParams, conversationsQuery, conversationsResponse, messagesQuery, messagesResponse } from '../schemas/conversations.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The creators' inbox: their bots' conversations and each one's transcript. */
export const conversationRoutes: FastifyPluginAsyncZod<{ inbox: Pick<InboxService, 'list' | 'transcript'> }> = async (app, { inbox }) => {
  app.get(
    '/bots/:botId/conversations',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary: "The bot's conversations, newest message first, with who, where, the last message and whether it needs attention",
        params: botParams,
        querystring: conversationsQuery,
        response: { 200: conversationsResponse },
      },
    },
    async (request) => {
      const { channel, status, q, before, limit } = request.query;
      const page = await inbox.list(request.creatorId, request.params.botId, {
        limit,
        ...(channel ? { channel } : {}),
        ...(status ? { status } : {}),
        ...(q ? { q } : {}),
        ...(before ? { before } : {}),
      });
      return {
        conversations: page.conversations.map((c) => ({
          ...c,
          lastMessage: c.lastMessage ? { ...c.lastMessage, at: c.lastMessage.at.toISOString() } : null,
          lastMessageAt: c.lastMessageAt.toISOString(),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/bots/:botId/conversations/:conversationId/messages',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary: 'A conversation’s transcript: user messages, replies with their sources and delivery state, and notices, paged back in time',
        params: conversationParams,
        querystring: messagesQuery,
        response: { 200: messagesResponse },
      },
    },
    async (request) => {
      const { before, limit } = request.query;
      const page = await inbox.transcript(request.creatorId, request.params.botId, request.params.conversationId, { limit, ...(before ? { before } : {}) });
      return {
        items: page.items.map((item) =>
          item.type === 'user'
            ? { ...item, at: item.at.toISOString() }
            : { ...item, at: item.at.toISOString(), delivery: { ...item.delivery, sentAt: iso(item.delivery.sentAt) } },
        ),
        nextCursor: page.nextCursor,
      };
    },
  );
};
