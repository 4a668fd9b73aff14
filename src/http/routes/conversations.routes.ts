import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { InboxConversation } from '../../conversation/inbox.ports.js';
import type { InboxService } from '../../conversation/inbox.service.js';
import type { TakeoverState } from '../../conversation/takeover.ports.js';
import type { TakeoverService } from '../../conversation/takeover.service.js';
import { botParams } from '../schemas/bots.js';
import {
  conversationParams,
  conversationResponse,
  conversationsQuery,
  conversationsResponse,
  creatorMessageBody,
  creatorMessageResponse,
  messagesQuery,
  messagesResponse,
  takeoverResponse,
} from '../schemas/conversations.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

const conversationJson = (c: InboxConversation) => ({
  ...c,
  lastMessage: c.lastMessage ? { ...c.lastMessage, at: c.lastMessage.at.toISOString() } : null,
  lastMessageAt: c.lastMessageAt.toISOString(),
});

const takeoverJson = (state: TakeoverState) => ({ ...state, takenOverAt: iso(state.takenOverAt) });

/** The creators' inbox: their bots' conversations and each one's transcript, and human takeover. */
export const conversationRoutes: FastifyPluginAsyncZod<{
  inbox: Pick<InboxService, 'list' | 'get' | 'transcript'>;
  takeover: Pick<TakeoverService, 'takeOver' | 'release' | 'send'>;
}> = async (app, { inbox, takeover }) => {
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
      return { conversations: page.conversations.map(conversationJson), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/bots/:botId/conversations/:conversationId',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary: 'One conversation, as the list shows it (who, where, the last message, whether it needs attention or a person has it)',
        params: conversationParams,
        response: { 200: conversationResponse },
      },
    },
    async (request) => conversationJson(await inbox.get(request.creatorId, request.params.botId, request.params.conversationId)),
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
          item.type === 'user' || item.type === 'event'
            ? { ...item, at: item.at.toISOString() }
            : { ...item, at: item.at.toISOString(), delivery: { ...item.delivery, sentAt: iso(item.delivery.sentAt) } },
        ),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    '/bots/:botId/conversations/:conversationId/takeover',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary: 'Take the conversation over: the bot answers nothing (the contact’s messages are still stored and shown) until it is released',
        params: conversationParams,
        response: { 200: takeoverResponse },
      },
    },
    async (request) => takeoverJson(await takeover.takeOver(request.creatorId, request.params.botId, request.params.conversationId)),
  );

  app.post(
    '/bots/:botId/conversations/:conversationId/release',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary: 'Hand the conversation back to the bot, which answers the contact’s next message',
        params: conversationParams,
        response: { 200: takeoverResponse },
      },
    },
    async (request) => takeoverJson(await takeover.release(request.creatorId, request.params.botId, request.params.conversationId)),
  );

  app.post(
    '/bots/:botId/conversations/:conversationId/messages',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['conversations'],
        security: [{ bearer: [] }],
        summary:
          'Send your own message in a conversation you took over, through its channel, exactly once per clientMessageId (WhatsApp: after 24 hours only as the channel’s template; 409 when there is none)',
        params: conversationParams,
        body: creatorMessageBody,
        response: { 200: creatorMessageResponse, 202: creatorMessageResponse },
      },
    },
    async (request, reply) => {
      const { text, clientMessageId } = request.body;
      const message = await takeover.send(request.creatorId, request.params.botId, request.params.conversationId, { text, ...(clientMessageId ? { clientMessageId } : {}) });
      // 202: the channel failed in passing; the message is retried.
      reply.code(message.status === 'sent' ? 200 : 202);
      return { ...message, at: message.at.toISOString(), sentAt: iso(message.sentAt) };
    },
  );
};
