import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { OutboxReader } from '../../email/delivery.ports.js';
import { AppError } from '../../errors/app.errors.js';
import { outboxQuery, outboxResponse } from '../schemas/email.js';

/**
 * The development outbox: without SENDGRID_API_KEY mail is stored instead of sent, and each creator
 * reads their own here (e.g. a verification link). With SendGrid configured there is no outbox.
 */
export const devOutboxRoutes: FastifyPluginAsyncZod<{ outbox: OutboxReader | undefined }> = async (app, { outbox }) => {
  app.get(
    '/dev/outbox',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['email'],
        summary: 'Emails the platform stored for you instead of sending (no SENDGRID_API_KEY)',
        security: [{ bearer: [] }],
        querystring: outboxQuery,
        response: { 200: outboxResponse },
      },
    },
    async (request) => {
      if (!outbox) throw new AppError('OUTBOX_DISABLED', 404, 'There is no development outbox: email is sent through SendGrid');
      const entries = await outbox.listForCreator(request.creatorId, request.query.limit);
      return { entries: entries.map(({ idempotencyKey: _key, createdAt, ...entry }) => ({ ...entry, createdAt: createdAt.toISOString() })) };
    },
  );
};
