import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendHtmlPage } from '../html-page.js';
import { renderChatPage } from '../static/chat-page.js';

const pageParams = z.object({ botId: z.uuid() });

/**
 * The web chat page. Open: it holds no bot data beyond the id in its address, and asks the
 * visitor for an API key or access token before it can talk to the (authenticated) chat endpoint.
 */
export const chatPageRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/chat/:botId', { schema: { hide: true, params: pageParams } }, async (request, reply) => {
    return sendHtmlPage(reply, (nonce) => renderChatPage(request.params.botId, nonce), { formAction: 'none' });
  });
};
