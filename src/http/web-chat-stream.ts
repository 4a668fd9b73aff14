import type { FastifyBaseLogger } from 'fastify';
import type { VisitorEvent } from '../conversation/visitor-chat.service.js';
import type { WebChatEvent } from '../conversation/web-chat.service.js';
import { AppError } from '../errors/app.errors.js';
import type { SseStream } from './sse-stream.js';

/**
 * Writes a web chat message's events as server-sent events and ends the stream: `accepted` with
 * the message's id (to follow it again after a dropped connection), `token` for each piece of the
 * draft (`offset` 0 again: it starts over), then `done` with the reply and its sources (null for a
 * button press that needed no reply), or `error`.
 */
export async function writeWebChatEvents(stream: SseStream, messageId: string, events: AsyncIterable<WebChatEvent | VisitorEvent>, log: FastifyBaseLogger): Promise<void> {
  stream.write('accepted', { messageId });
  try {
    for await (const event of events) {
      switch (event.type) {
        case 'draft':
          stream.write('token', { text: event.text, offset: event.offset });
          break;
        case 'reply':
          stream.write('done', {
            reply: event.text,
            sources: event.sources.map((s) => ({
              documentId: s.documentId,
              title: s.title,
              ...(s.page === undefined ? {} : { page: s.page }),
              ...(s.location === undefined ? {} : { location: s.location }),
            })),
            ...(event.buttons ? { buttons: event.buttons } : {}),
          });
          break;
        case 'refused':
          stream.write('done', { reply: event.text, sources: [], refused: event.reason });
          break;
        case 'silent':
          stream.write('done', { reply: null, sources: [] });
          break;
        case 'failed':
          stream.write('error', { code: 'REPLY_FAILED', message: 'The reply could not be produced; please send your message again.' });
          break;
      }
    }
  } catch (err) {
    if (err instanceof AppError && err.status < 500) stream.write('error', { code: err.code, message: err.message });
    else {
      log.error({ err }, 'web chat: following the reply failed');
      stream.write('error', { code: 'INTERNAL', message: 'The reply could not be produced; please try again.' });
    }
  } finally {
    stream.end();
  }
}
