import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { pageSecurityHeaders } from '../html-page.js';

// The UI runs only its own files from /docs/static (no inline script), reads /docs/json, and draws
// its icons from data: URLs in its stylesheet. Its one inline style is the <style> inside its logo
// (swagger-ui 5), allowed by hash: a later UI version with another logo loses only the logo's colours.
const LOGO_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";
const DOCS_POLICY = `default-src 'none'; script-src 'self'; style-src 'self' ${LOGO_STYLE_HASH}; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/**
 * The OpenAPI UI at /docs and its document at /docs/json. Served from the origin of the chat page,
 * so it gets the same protection as our other pages: nothing foreign runs, nothing frames it.
 */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(pageSecurityHeaders(DOCS_POLICY));
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
};
