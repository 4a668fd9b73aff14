import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EmailFeedbackService } from '../../email/email-feedback.service.js';
import { sendHtmlPage } from '../html-page.js';
import { acceptRawBody } from '../plugins/raw-body.js';
import { unsubscribeQuery } from '../schemas/email.js';
import { renderResetPasswordPage, renderUnsubscribePage, renderUnsubscribedPage, renderVerifyEmailPage } from '../static/account-pages.js';

function sendPage(reply: FastifyReply, render: (nonce: string) => string) {
  return sendHtmlPage(reply, render, { formAction: 'self' });
}

/**
 * Where emailed links lead: the email-verification and password-reset screens of the dashboard, or
 * this platform's own small pages when no dashboard is built (both post to the JSON API), and
 * unsubscribing from the digest, by link or by the one-click List-Unsubscribe POST (RFC 8058) mail
 * clients send.
 */
export const emailLinkRoutes: FastifyPluginAsyncZod<{
  feedback: Pick<EmailFeedbackService, 'unsubscribe'>;
  /** Whether the dashboard is built, asked on every visit: a build may appear after start. */
  dashboardBuilt?: () => boolean;
}> = async (app, { feedback, dashboardBuilt = () => false }) => {
  // The one-click POST is form-encoded (`List-Unsubscribe=One-Click`); its body carries nothing we need.
  acceptRawBody(app, 16 * 1024);

  // The links carry their token in the fragment, which browsers keep across a redirect (RFC 9110
  // §10.2.2), so already-sent links open the dashboard's screen with the token and it never reaches a server.
  app.get('/account/verify-email', { schema: { hide: true } }, async (_request, reply) =>
    dashboardBuilt() ? reply.redirect('/app/account/verify-email', 302) : sendPage(reply, renderVerifyEmailPage),
  );
  app.get('/account/reset-password', { schema: { hide: true } }, async (_request, reply) =>
    dashboardBuilt() ? reply.redirect('/app/account/reset-password', 302) : sendPage(reply, renderResetPasswordPage),
  );

  app.get('/email/unsubscribe', { schema: { hide: true, querystring: unsubscribeQuery } }, async (request, reply) =>
    sendPage(reply, (nonce) => renderUnsubscribePage(nonce, request.query.token)),
  );

  app.post(
    '/email/unsubscribe',
    { schema: { tags: ['email'], summary: 'Unsubscribe from the weekly digest (link or List-Unsubscribe one-click)', querystring: unsubscribeQuery } },
    async (request, reply) => {
      const { email } = await feedback.unsubscribe(request.query.token);
      request.log.info('email: unsubscribed from the weekly digest');
      return sendPage(reply, (nonce) => renderUnsubscribedPage(nonce, email));
    },
  );
};
