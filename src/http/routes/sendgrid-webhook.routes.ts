import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { storable } from '../../text/storable-text.js';
import { SENDGRID_SIGNATURE_HEADER, SENDGRID_TIMESTAMP_HEADER, parseSendGridEvents, type SendGridWebhookVerifier } from '../../email/adapters/sendgrid.webhook.js';
import type { EmailFeedbackService } from '../../email/email-feedback.service.js';
import { EmailWebhookSignatureError } from '../../email/email.errors.js';
import type { EmailEvent } from '../../email/ports.js';
import { AppError, UnavailableError, ValidationError } from '../../errors/app.errors.js';
import { acceptRawBody } from '../plugins/raw-body.js';
import { webhookReceipt } from '../schemas/email.js';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseEvents(raw: Buffer): EmailEvent[] {
  try {
    return parseSendGridEvents(raw);
  } catch (err) {
    throw new ValidationError(`Malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * SendGrid's signed Event Webhook: the ECDSA signature is checked over the exact bytes received and
 * the timestamp header before anything is parsed or stored; bounces, spam reports and unsubscribes
 * become suppressions. Open route (authenticated by signature), no rate limit: SendGrid batches.
 */
export const sendGridWebhookRoutes: FastifyPluginAsyncZod<{
  verifier: Pick<SendGridWebhookVerifier, 'verify'> | undefined;
  feedback: Pick<EmailFeedbackService, 'record'>;
}> = async (app, { verifier, feedback }) => {
  acceptRawBody(app, 5 * 1024 * 1024);

  app.post(
    '/webhooks/sendgrid',
    { config: { rateLimit: false }, schema: { tags: ['webhooks'], summary: 'SendGrid Event Webhook (signed)', response: { 200: webhookReceipt } } },
    async (request) => {
      if (!verifier) throw new AppError('NOT_CONFIGURED', 404, 'The SendGrid event webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)');
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      try {
        verifier.verify(raw, header(request.headers[SENDGRID_SIGNATURE_HEADER]), header(request.headers[SENDGRID_TIMESTAMP_HEADER]));
      } catch (err) {
        if (err instanceof EmailWebhookSignatureError) request.log.warn({ problem: err.problem }, 'sendgrid webhook: rejected');
        throw err;
      }
      // Cleaned, not refused: a NUL in a bounce reason must not make SendGrid redeliver the batch forever.
      const events = storable(parseEvents(raw));
      try {
        const summary = await feedback.record(events);
        request.log.info(summary, 'sendgrid webhook: events recorded');
        return summary;
      } catch (err) {
        // Not stored: answer 503 so SendGrid delivers the batch again.
        request.log.warn({ err }, 'sendgrid webhook: events could not be stored');
        throw new UnavailableError('The events could not be stored right now; SendGrid will deliver them again');
      }
    },
  );
};
