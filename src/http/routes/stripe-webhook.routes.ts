import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { StripeEventService } from '../../billing/stripe-events.service.js';
import { AppError, UnavailableError } from '../../errors/app.errors.js';
import { acceptRawBody } from '../plugins/raw-body.js';
import { stripeWebhookAck } from '../schemas/billing.js';

/**
 * Stripe's webhook: the signature is checked over the exact bytes received (300 s tolerance), the
 * event is stored by id (a redelivery is a no-op) and acknowledged at once; the `stripe-events`
 * worker applies it. A bad signature or stale timestamp answers 400 and stores nothing; a database
 * that cannot store the event answers 503 so Stripe delivers it again.
 */
export const stripeWebhookRoutes: FastifyPluginAsyncZod<{ events: Pick<StripeEventService, 'receive'> }> = async (app, { events }) => {
  // Scoped to this plugin: request.body is the raw Buffer here, and only here.
  acceptRawBody(app);
  app.post(
    '/webhooks/stripe',
    { config: { rateLimit: false }, schema: { tags: ['webhooks'], summary: 'Stripe events (signed)', response: { 200: stripeWebhookAck } } },
    async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const header = request.headers['stripe-signature'];
      try {
        const received = await events.receive(raw, typeof header === 'string' ? header : undefined);
        request.log.info({ eventId: received.eventId, type: received.type, duplicate: received.duplicate }, 'stripe webhook: event stored');
        return { received: true as const, duplicate: received.duplicate };
      } catch (err) {
        if (err instanceof AppError) {
          request.log.warn({ code: err.code, details: err.details }, `stripe webhook rejected: ${err.message}`);
          throw err;
        }
        request.log.warn({ err }, 'stripe webhook: could not store the event');
        throw new UnavailableError('The event could not be stored right now; Stripe will deliver it again');
      }
    },
  );
};
