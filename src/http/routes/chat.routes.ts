import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BotService } from '../../bots/bot.service.js';
import type { WebChatService } from '../../conversation/web-chat.service.js';
import { oneOfTextOrButton, oneOfTextOrButtonMessage, webMessageBody, webMessageIdSchema } from '../schemas/web-chat.js';
import { botParams } from '../schemas/bots.js';
import { openSseStream } from '../sse-stream.js';
import { writeWebChatEvents } from '../web-chat-stream.js';

const sessionId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'must contain only letters, digits, "_" and "-"')
  .describe('Chosen by the client; messages with the same session share one conversation and its memory');

const chatBody = webMessageBody
  .extend({ sessionId, text: z.string().min(1).max(4000).optional() })
  .refine(oneOfTextOrButton, oneOfTextOrButtonMessage);

const replyParams = botParams.extend({ sessionId, messageId: webMessageIdSchema });

/** The creator's own web chat with a bot: a message in, its reply followed as server-sent events. */
export const chatRoutes: FastifyPluginAsyncZod<{ bots: Pick<BotService, 'get'>; webChat: Pick<WebChatService, 'send' | 'resume'> }> = async (
  app,
  { bots, webChat },
) => {
  app.post(
    '/bots/:botId/chat',
    {
      onRequest: [app.authenticate],
      // What is typed is cleaned on the way in, as on every channel, rather than refused.
      config: { cleansText: true },
      schema: {
        tags: ['chat'],
        security: [{ bearer: [] }],
        summary:
          'Chat with a bot (server-sent events: accepted, token…, then done or error). The message takes the same path as Telegram and WhatsApp messages: stored, queued, answered by a worker.',
        params: botParams,
        body: chatBody,
      },
    },
    async (request, reply) => {
      // Ownership before the stream starts, so a foreign bot is a plain 404 response.
      await bots.get(request.creatorId, request.params.botId);
      const { text, button } = request.body;
      const messageId = request.body.messageId ?? randomUUID();
      const stream = openSseStream(reply);
      const events = webChat.send(request.params.botId, request.body.sessionId, { messageId, text, button }, stream.signal);
      await writeWebChatEvents(stream, messageId, events, request.log);
    },
  );

  app.get(
    '/bots/:botId/chat/:sessionId/messages/:messageId/reply',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['chat'],
        security: [{ bearer: [] }],
        summary: 'Follows the reply to a message sent before, after a dropped connection (server-sent events as for sending)',
        params: replyParams,
      },
    },
    async (request, reply) => {
      await bots.get(request.creatorId, request.params.botId);
      const { botId, sessionId: conversation, messageId } = request.params;
      const stream = openSseStream(reply);
      await writeWebChatEvents(stream, messageId, webChat.resume(botId, conversation, messageId, stream.signal), request.log);
    },
  );
};
