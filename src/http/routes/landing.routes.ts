import type { FastifyPluginAsync } from 'fastify';
import { sendHtmlPage } from '../html-page.js';
import { renderLandingPage } from '../static/landing-page.js';

export interface LandingRoutesOptions {
  /** The demo coach's bot id while its public chat is published; the page links to that chat. */
  demoBotId: () => Promise<string | null>;
}

/** `GET /`: a small page linking to the API documentation and the demo chat. */
export const landingRoutes: FastifyPluginAsync<LandingRoutesOptions> = async (app, { demoBotId }) => {
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const botId = await demoBotId();
    const demoChatPath = botId ? `/c/${botId}` : null;
    return sendHtmlPage(reply, (nonce) => renderLandingPage({ demoChatPath, nonce }), { formAction: 'none' });
  });
};
