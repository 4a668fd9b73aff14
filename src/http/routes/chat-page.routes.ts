import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { renderChatPage } from '../static/chat-page.js';

const pageParams = z.object({ botId: z.uuid() });

/**
 * The web chat page. Open: it holds no bot data beyond the id in its address, and asks the
 * visitor for an API key or access token before it can talk to the (authenticated) chat endpoint.
 */
export const chatPageRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/chat/:botId', { schema: { hide: true, params: pageParams } }, async (request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header(
        'content-security-policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      )
      .send(renderChatPage(request.params.botId, nonce));
  });
};
