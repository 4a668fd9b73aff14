import type { SseEvent } from './sse.js';

/** A server-sent-event response read as it arrives over a real connection. */
export interface LiveSse {
  status: number;
  headers: Headers;
  /** Every event so far, in order. */
  readonly events: SseEvent[];
  /** Resolves with the first event (seen or still to come) that matches; rejects if the stream ends first. */
  waitFor(match: (event: SseEvent) => boolean, what?: string): Promise<SseEvent>;
  /** Resolves once the server ended the stream (or it broke). */
  readonly ended: Promise<void>;
  /** Drops the connection, as a browser losing its network does. */
  drop(): void;
}

/** Sends `init` to `url` and reads the event stream as it comes. */
export async function openSse(url: string, init: RequestInit = {}): Promise<LiveSse> {
  const abort = new AbortController();
  const response = await fetch(url, { ...init, signal: abort.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let done = false;
  const notify = () => {
    for (const waiter of waiters) waiter();
  };
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          // Comments (heartbeats) carry no event.
          if (!event) continue;
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
          events.push({ event, data: JSON.parse(data) as Record<string, unknown>, ...(id === undefined ? {} : { id }) });
          notify();
        }
      }
    } catch {
      // Dropped: what arrived is in `events`.
    } finally {
      done = true;
      notify();
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    ended,
    drop: () => abort.abort(),
    waitFor(match, what = 'an event') {
      return new Promise<SseEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`the stream ended without ${what}: ${JSON.stringify(events)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}
