import type { FastifyReply } from 'fastify';

const HEARTBEAT_MS = 15_000;

/** A server-sent-event response the handler writes to until `end()`. */
export interface SseStream {
  /**
   * Writes one event; `data` is always a single line of JSON. `id` becomes the stream's last event id
   * (a reconnecting EventSource sends it back as `Last-Event-ID`). Ignored once the client has gone.
   */
  write(event: string, data: unknown, id?: string): void;
  /** Aborted when the client goes away before the end. */
  signal: AbortSignal;
  end(): void;
}

/** Takes over the response and starts an event stream, with `headers` added (e.g. a cookie). */
export function openSseStream(reply: FastifyReply, headers: Record<string, string | string[]> = {}): SseStream {
  // Headers Fastify was asked to add (CORS) would be lost once the reply is hijacked.
  const pending = Object.fromEntries(Object.entries(reply.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined));
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...pending,
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const abort = new AbortController();
  // A comment now and then keeps proxies from closing a stream that waits long for its first event
  // (a turn queued behind others, a slow model).
  const heartbeat = setInterval(() => {
    if (!raw.writableEnded && !raw.destroyed) raw.write(':\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  raw.on('close', () => {
    clearInterval(heartbeat);
    if (!raw.writableEnded) abort.abort();
  });
  return {
    write(event, data, id) {
      // An id never holds a line break: it would end the field early.
      const idLine = id === undefined ? '' : `id: ${id.replace(/[\r\n]/g, '')}\n`;
      if (!raw.writableEnded && !raw.destroyed) raw.write(`${idLine}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    signal: abort.signal,
    end: () => {
      clearInterval(heartbeat);
      raw.end();
    },
  };
}
