import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import { botEventsUrl } from '../api';

// Events that change what the inbox shows; each names the conversation it concerns.
const INBOX_EVENTS = ['message', 'reply', 'delivery', 'conversation'] as const;
// Several events usually arrive together (a message, its reply, the reply's delivery): one refetch for the lot.
const DEBOUNCE_MS = 250;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** Whether the inbox hears the bot's events as they happen (so it need not poll). */
export const InboxLive = createContext(false);

/** True while the inbox's event stream is open. */
export function useInboxLive(): boolean {
  return useContext(InboxLive);
}

/**
 * Follows the bot's live events named in `names` while the calling screen is open: `onChange` gets
 * the ids the events concern (`null`: refetch everything, after a `reset` or a stream that could not
 * resume), batched over DEBOUNCE_MS. A dropped stream is opened again with a new ticket, resuming
 * after the last event seen. Returns whether the stream is up.
 */
export function useBotEvents(botId: string, names: readonly string[], idOf: (data: Record<string, unknown>) => string | undefined, onChange: (ids: Set<string> | null) => void): boolean {
  const [live, setLive] = useState(false);
  // The latest callbacks, without reopening the stream when a screen re-renders.
  const handlers = useRef({ idOf, onChange });
  handlers.current = { idOf, onChange };
  const eventNames = names.join(',');

  useEffect(() => {
    let source: EventSource | null = null;
    let stopped = false;
    let retryMs = RETRY_FIRST_MS;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let lastEventId: string | undefined;
    const stale = new Set<string>();
    let everything = false;

    const flush = () => {
      flushTimer = undefined;
      handlers.current.onChange(everything ? null : new Set(stale));
      everything = false;
      stale.clear();
    };
    const refetchSoon = (id: string | null) => {
      if (id) stale.add(id);
      else everything = true;
      flushTimer ??= setTimeout(flush, DEBOUNCE_MS);
    };

    const connect = async () => {
      let url: string;
      try {
        url = await botEventsUrl(botId, lastEventId);
      } catch {
        return retry();
      }
      if (stopped) return;
      const stream = new EventSource(url);
      source = stream;
      stream.addEventListener('ready', (e) => {
        retryMs = RETRY_FIRST_MS;
        setLive(true);
        // A stream that did not resume may have missed what happened before it opened.
        const { resumed } = JSON.parse((e as MessageEvent<string>).data) as { resumed?: boolean };
        if (!resumed) refetchSoon(null);
      });
      stream.addEventListener('reset', () => refetchSoon(null));
      for (const name of eventNames.split(',')) {
        stream.addEventListener(name, (e) => {
          const event = e as MessageEvent<string>;
          if (event.lastEventId) lastEventId = event.lastEventId;
          refetchSoon(handlers.current.idOf(JSON.parse(event.data) as Record<string, unknown>) ?? null);
        });
      }
      // EventSource would retry with the same (soon expired) ticket: close it and start over with a new one.
      stream.onerror = () => {
        stream.close();
        if (source === stream) source = null;
        setLive(false);
        retry();
      };
    };
    const retry = () => {
      if (stopped) return;
      retryTimer = setTimeout(() => void connect(), retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    };

    void connect();
    return () => {
      stopped = true;
      source?.close();
      clearTimeout(retryTimer);
      clearTimeout(flushTimer);
      setLive(false);
    };
  }, [botId, eventNames]);

  return live;
}

const conversationOf = (data: Record<string, unknown>) => (typeof data.conversationId === 'string' ? data.conversationId : undefined);

/**
 * Follows the bot's live events while the inbox is open and refetches the conversation list and
 * the transcripts they concern; when the server cannot resend what was missed, everything the inbox
 * shows is refetched. Returns whether the stream is up.
 */
export function useInboxLiveUpdates(botId: string): boolean {
  const queries = useQueryClient();
  return useBotEvents(botId, INBOX_EVENTS, conversationOf, (conversations) => {
    if (!conversations) {
      void queries.invalidateQueries({ queryKey: ['conversations', botId] });
      void queries.invalidateQueries({ queryKey: ['transcript', botId] });
      return;
    }
    if (conversations.size) void queries.invalidateQueries({ queryKey: ['conversations', botId] });
    for (const conversationId of conversations) void queries.invalidateQueries({ queryKey: ['transcript', botId, conversationId] });
  });
}
