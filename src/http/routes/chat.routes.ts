import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BotService } from '../../bots/bot.service.js';
import type { WebChatService } from '../../conversation/web-chat.service.js';
import { AppError } from '../../errors/app.errors.js';
import { openSseStream } from '../sse-stream.js';
import { botParams } from '../schemas/bots.js';

const chatBody = z.object({
  sessionId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, 'must contain only letters, digits, "_" and "-"')
    .describe('Chosen by the client; messages with the same session share one conversation and its memory'),
  text: z.string().min(1).max(4000),
});

/** Web chat: one message in, the reply streamed back as server-sent events. */
export const chatRoutes: FastifyPluginAsyncZod<{ bots: Pick<BotService, 'get'>; webChat: Pick<WebChatService, 'chat'> }> = async (
  app,
  { bots, webChat },
) => {
  app.post(
    '/bots/:botId/chat',
    {
      onRequest: [app.authenticate],
      // What a visitor types is cleaned by the web chat service, as on every channel, rather than refused.
      config: { cleansText: true },
      schema: {
        tags: ['chat'],
        security: [{ bearer: [] }],
        summary: 'Chat with a bot (server-sent events: token…, then done or error)',
        params: botParams,
        body: chatBody,
      },
    },
    async (request, reply) => {
      // Ownership before the stream starts, so a foreign bot is a plain 404 response.
      await bots.get(request.creatorId, request.params.botId);

      const stream = openSseStream(reply);
      const write = stream.write;
      try {
        const result = await webChat.chat(request.creatorId, request.params.botId, request.body, {
          onToken: (text) => write('token', { text }),
          signal: stream.signal,
        });
        write('done', {
          reply: result.reply,
          sources: result.sources.map((s) => ({ documentId: s.documentId, title: s.title, ...(s.page === undefined ? {} : { page: s.page }) })),
        });
      } catch (err) {
        if (err instanceof AppError && err.status < 500) {
          write('error', { code: err.code, message: err.message });
        } else {
          request.log.error({ err }, 'web chat turn failed');
          write('error', { code: 'INTERNAL', message: 'The reply could not be produced; please try again.' });
        }
      } finally {
        stream.end();
      }
    },
  );
};
