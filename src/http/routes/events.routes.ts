import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BotService } from '../../bots/bot.service.js';
import { credentialKey, type CredentialService } from '../../accounts/credential.service.js';
import { UnauthorizedError } from '../../errors/app.errors.js';
import type { BotEventHub } from '../../events/bot-event.hub.js';
import type { BotEvent } from '../../events/bot-event.types.js';
import type { StreamTickets } from '../../events/stream-ticket.js';
import { eventsParams, eventsQuery, ticketResponse } from '../schemas/events.js';
import { openSseStream } from '../sse-stream.js';

export interface EventRoutesOptions {
  bots: Pick<BotService, 'get'>;
  hub: Pick<BotEventHub, 'open'>;
  tickets: Pick<StreamTickets, 'issue' | 'verify'>;
  /** A ticket whose credential was revoked (signed out, key deleted) opens nothing. */
  credentials: Pick<CredentialService, 'isLive'>;
}

/** What a client refetches after a `reset`: the lists the events would have updated. */
const REFETCH = ['conversations', 'documents', 'deliveries'] as const;

/**
 * The creators' live events of a bot as server-sent events, and the tickets that let a browser's
 * EventSource (which cannot send an Authorization header) open them.
 */
export const eventRoutes: FastifyPluginAsyncZod<EventRoutesOptions> = async (app, { bots, hub, tickets, credentials }) => {
  // Streams never end by themselves: shutdown ends them, or the server would wait for them forever.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  // The credential each stream stands on: the ticket's, or the request's own.
  const streamCredential = new WeakMap<FastifyRequest, string>();

  /**
   * A ticket in the query stands for its creator on its bot only, while the session or key it was
   * asked for with stands; otherwise the usual bearer token or key.
   */
  async function authenticateStream(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { ticket } = request.query as { ticket?: unknown };
    if (ticket === undefined) {
      await app.authenticate(request, reply);
      if (request.credential) streamCredential.set(request, credentialKey(request.credential));
      return;
    }
    const { botId } = request.params as { botId: string };
    const claims = typeof ticket === 'string' ? tickets.verify(ticket, botId) : null;
    if (!claims) throw new UnauthorizedError('Invalid or expired stream ticket; ask for a new one');
    if (!(await credentials.isLive(claims.creatorId, claims.credential))) {
      throw new UnauthorizedError('The session or API key this ticket was issued to has ended; sign in again');
    }
    request.creatorId = claims.creatorId;
    streamCredential.set(request, claims.credential);
  }

  app.post(
    '/bots/:botId/events/ticket',
    {
      onRequest: [app.authenticate],
      schema: {
        tags: ['events'],
        security: [{ bearer: [] }],
        summary: "A short-lived ticket that opens this bot's event stream as `?ticket=` (for EventSource, which cannot send headers)",
        params: eventsParams,
        response: { 201: ticketResponse },
      },
    },
    async (request, reply) => {
      const bot = await bots.get(request.creatorId, request.params.botId);
      // Authenticated just before: the request has its credential.
      const issued = tickets.issue({ creatorId: request.creatorId, botId: bot.id, credential: credentialKey(request.credential!) });
      reply.code(201);
      return { ticket: issued.ticket, expiresAt: issued.expiresAt.toISOString() };
    },
  );

  app.get(
    '/bots/:botId/events',
    {
      onRequest: [authenticateStream],
      schema: {
        tags: ['events'],
        security: [{ bearer: [] }],
        summary:
          "The bot's live events (server-sent events): ready, then message, reply, delivery, document, reembed (a document's switch to a new embedding model) and conversation as they happen; reset when a resumed stream cannot resend what was missed",
        params: eventsParams,
        querystring: eventsQuery,
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const lastEventId = (typeof header === 'string' && header ? header : undefined) ?? request.query.lastEventId;
      // Ownership and the cap before the stream starts: plain 404 and 429 responses.
      const events = await hub.open(request.creatorId, request.params.botId, lastEventId, streamCredential.get(request));
      const stream = openSseStream(reply);
      const send = (event: BotEvent) => {
        const { eventId, type, ...data } = event;
        stream.write(type, data, eventId);
      };
      await new Promise<void>((resolve) => {
        const end = () => {
          open.delete(end);
          events.close();
          stream.end();
          resolve();
        };
        open.add(end);
        stream.signal.addEventListener('abort', end, { once: true });
        if (stream.signal.aborted) return end();
        stream.write('ready', { botId: request.params.botId, resumed: lastEventId !== undefined && events.reset === null });
        if (events.reset) stream.write('reset', { reason: events.reset, refetch: REFETCH });
        for (const event of events.replay) send(event);
        events.listen(send, end);
      });
    },
  );
};
