import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VISITOR_SESSION_DAYS, type VisitorChatService } from '../../conversation/visitor-chat.service.js';
import type { PublishedBot, WebPublicationService } from '../../conversation/web-publication.service.js';
import { randomUUID } from 'node:crypto';
import { ForbiddenError, NotFoundError } from '../../errors/app.errors.js';
import { sendHtmlPage } from '../html-page.js';
import { oneOfTextOrButton, oneOfTextOrButtonMessage, webMessageBody, webMessageIdSchema } from '../schemas/web-chat.js';
import { openSseStream } from '../sse-stream.js';
import { writeWebChatEvents } from '../web-chat-stream.js';
import { renderChatNotFoundPage, renderChatPage } from '../static/chat-page.js';
import { WIDGET_SCRIPT } from '../static/widget-script.js';

// Anything that is not a bot id still gets the HTML 404 page, never a reflected value.
const pageParams = z.object({ botId: z.string().max(100) });
// Any other value is simply the full page, never an error page of a different kind.
const pageQuery = z.object({ embed: z.string().max(10).optional() });
const publicParams = z.object({ botId: z.uuid() });
const messageParams = publicParams.extend({ messageId: webMessageIdSchema });
const messageBody = webMessageBody.extend({
  // The configured cap (WEB_CHAT_MAX_CHARS) is answered in the chat; this only bounds the request.
  text: z.string().trim().min(1).max(20_000).optional(),
}).refine(oneOfTextOrButton, oneOfTextOrButtonMessage);

const COOKIE = 'coach_visitor';
const COOKIE_MAX_AGE_S = VISITOR_SESSION_DAYS * 24 * 3600;

/** The visitor's session token from the Cookie header, if any. */
function visitorToken(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * The session cookie: unreadable by scripts and sent only to this bot's endpoints. Over https it is
 * SameSite=None; Secure; Partitioned, because the widget shows the chat in an iframe on the
 * creator's site, where a Lax cookie is never sent; Partitioned (CHIPS) keeps one jar per embedding
 * site, so browsers that block third-party cookies still keep it and no site can follow a visitor
 * to another. Cross-site requests are no risk: the endpoints refuse every Origin but the platform's
 * and the allowed sites'. Plain http cannot carry SameSite=None (browsers drop it), so it stays Lax,
 * which is enough for local development, where pages on other ports of the same host are same-site.
 */
function sessionCookie(request: FastifyRequest, botId: string, token: string): string {
  const scope = request.protocol === 'https' ? 'SameSite=None; Secure; Partitioned' : 'SameSite=Lax';
  return `${COOKIE}=${token}; Path=/public/bots/${botId}; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; ${scope}`;
}

// One script for every bot and site; an hour's caching spares the platform a request per page view.
const WIDGET_CACHE = 'public, max-age=3600';

/** The site a request says it came from: only browsers send Origin, and they cannot forge it. */
function requestOrigin(request: FastifyRequest): string | undefined {
  // A sandboxed or file page sends "null", which is no allowed site either.
  return request.headers.origin || undefined;
}

/**
 * The public web chat: the page anyone can open at a published bot's chat address, and the
 * key-less endpoints its visitors use with their session cookie.
 */
export const publicChatRoutes: FastifyPluginAsyncZod<{
  publications: Pick<WebPublicationService, 'find' | 'ownOrigin'>;
  visitors: Pick<VisitorChatService, 'history' | 'open' | 'send' | 'session' | 'resume' | 'watch'>;
  maxChars: number;
}> = async (app, { publications, visitors, maxChars }) => {
  // Visitors' streams never end by themselves: shutdown ends them, or the server would wait for them forever.
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...openStreams]) end();
  });

  app.get('/c/:botId', { schema: { hide: true, params: pageParams, querystring: pageQuery } }, async (request, reply) => {
    const bot = await publications.find(request.params.botId);
    if (!bot) {
      reply.status(404);
      return sendHtmlPage(reply, renderChatNotFoundPage, { formAction: 'none' });
    }
    return sendHtmlPage(
      reply,
      (nonce) => renderChatPage(bot.botId, nonce, {
          kind: 'public',
          title: bot.title ?? bot.name,
          accentColor: bot.accentColor,
          welcome: bot.welcome,
          maxChars,
          embedded: request.query.embed === '1',
        }),
      // The widget shows this page in an iframe on the creator's allowed sites, and nowhere else.
      { formAction: 'none', frameAncestors: bot.allowedOrigins },
    );
  });

  app.get('/widget.js', { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', WIDGET_CACHE)
      .header('x-content-type-options', 'nosniff')
      // Loaded by a <script> tag on other sites.
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(WIDGET_SCRIPT);
  });

  /**
   * Only the platform's own pages and the sites the creator allowed may call the visitor endpoints
   * from a browser; those get CORS with credentials, everyone else a 403.
   */
  async function checkOrigin(botId: string, request: FastifyRequest, reply: FastifyReply): Promise<PublishedBot> {
    const bot = await publications.find(botId);
    if (!bot) throw new NotFoundError('Bot');
    const origin = requestOrigin(request);
    if (origin === undefined) return bot;
    const own = origin === publications.ownOrigin || origin === `${request.protocol}://${request.host}`;
    if (own) return bot;
    if (!bot.allowedOrigins.includes(origin)) {
      request.log.info({ botId: bot.botId, origin }, 'web chat: request from an origin the bot does not allow refused');
      throw new ForbiddenError('This site may not use this chat');
    }
    reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
    return bot;
  }

  app.options('/public/bots/:botId/*', { schema: { hide: true, params: z.object({ botId: z.uuid(), '*': z.string() }) } }, async (request, reply) => {
    await checkOrigin(request.params.botId, request, reply);
    return reply
      .header('access-control-allow-methods', 'GET, POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '600')
      .status(204)
      .send();
  });

  app.get(
    '/public/bots/:botId/widget',
    {
      schema: {
        tags: ['web chat'],
        summary: "What the embeddable widget shows on an allowed site: the chat's title and colour (other sites are refused)",
        params: publicParams,
      },
    },
    async (request, reply) => {
      const bot = await checkOrigin(request.params.botId, request, reply);
      // Which sites are allowed can change at any time.
      reply.header('cache-control', 'no-store');
      return { title: bot.title ?? bot.name, accentColor: bot.accentColor };
    },
  );

  app.get(
    '/public/bots/:botId/history',
    {
      schema: {
        tags: ['web chat'],
        summary: "The visitor's conversation with a published bot so far (needs the session cookie; empty without)",
        params: publicParams,
      },
    },
    async (request, reply) => {
      await checkOrigin(request.params.botId, request, reply);
      reply.header('cache-control', 'no-store');
      return { exchanges: await visitors.history(request.params.botId, visitorToken(request)) };
    },
  );

  app.post(
    '/public/bots/:botId/messages',
    {
      config: { cleansText: true },
      schema: {
        tags: ['web chat'],
        summary:
          'A visitor writes to a published bot (server-sent events: accepted, token…, then done or error); opens a session cookie when there is none. Sending the same messageId again stores nothing new and follows the same reply.',
        params: publicParams,
        body: messageBody,
      },
    },
    async (request, reply) => {
      await checkOrigin(request.params.botId, request, reply);
      const { bot, session, newToken } = await visitors.open(request.params.botId, visitorToken(request));
      const { text, button } = request.body;
      const messageId = request.body.messageId ?? randomUUID();
      // Unknown bots and refused origins were answered above as plain JSON; from here on it is a stream.
      const stream = openSseStream(reply, newToken ? { 'set-cookie': sessionCookie(request, bot.botId, newToken) } : {});
      const events = visitors.send(bot, session, { message: { messageId, text, button }, clientKey: request.ip }, stream.signal);
      await writeWebChatEvents(stream, messageId, events, request.log);
    },
  );

  app.get(
    '/public/bots/:botId/messages/:messageId/reply',
    {
      schema: {
        tags: ['web chat'],
        summary: "Follows the reply to a message the visitor sent before, after a dropped connection or a reload (server-sent events as for sending; the draft's offset says where it stands)",
        params: messageParams,
      },
    },
    async (request, reply) => {
      const bot = await checkOrigin(request.params.botId, request, reply);
      const session = await visitors.session(bot.botId, visitorToken(request));
      if (!session) throw new NotFoundError('Message');
      const stream = openSseStream(reply);
      await writeWebChatEvents(stream, request.params.messageId, visitors.resume(bot, session, request.params.messageId, stream.signal), request.log);
    },
  );

  app.get(
    '/public/bots/:botId/stream',
    {
      schema: {
        tags: ['web chat'],
        summary:
          "Messages to the visitor that answer none of theirs, as they are sent (server-sent events: ready, then message {id, text, at, from: coach | person}); the creator's own while they have the conversation, notices and proactive messages. Needs the session cookie; what was sent while the stream was closed is in the history",
        params: publicParams,
      },
    },
    async (request, reply) => {
      const bot = await checkOrigin(request.params.botId, request, reply);
      const session = await visitors.session(bot.botId, visitorToken(request));
      if (!session) throw new NotFoundError('Conversation');
      reply.header('cache-control', 'no-store');
      const stream = openSseStream(reply);
      // Listening before `ready`: a page that fetches its history on `ready` misses nothing in between.
      const unsubscribe = await visitors.watch(bot, session, (message) => stream.write('message', message, message.id));
      await new Promise<void>((resolve) => {
        const end = () => {
          openStreams.delete(end);
          stream.end();
          resolve();
        };
        openStreams.add(end);
        stream.signal.addEventListener('abort', end, { once: true });
        if (stream.signal.aborted) return end();
        stream.write('ready', {});
      }).finally(() => unsubscribe().catch((err: unknown) => request.log.warn({ err }, 'web chat: a visitor stream did not unsubscribe')));
    },
  );
};
