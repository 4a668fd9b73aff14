import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, NavLink, Outlet, useOutletContext, useParams } from 'react-router';
import { api } from '../api';
import type { Bot, ConversationSummary, TranscriptItem } from '../types';
import { EmptyState, ErrorMessage, Loading, PageHeading, sourcesLine, When } from '../ui';
import { InboxLive, useInboxLive, useInboxLiveUpdates } from './live-events';
import { Composer, TakeoverBar, type TakeoverView } from './inbox-takeover';
import './inbox.css';

const channelNames = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' } as const;
const deliveryWords = { pending: 'waiting to send', sending: 'sending', sent: 'sent', failed: 'not delivered' } as const;

const eventWords = {
  takeover: { creator: 'You took the conversation over: the bot stays silent' },
  release: { creator: 'You handed the conversation back to the bot', idle: 'Handed back to the bot: no one had written for a while' },
  human_requested: { contact: 'Asked to talk to a person' },
} as const;

interface Filters {
  q: string;
  channel: '' | 'telegram' | 'whatsapp' | 'web';
  status: '' | 'wants_human' | 'taken_over' | 'unanswered' | 'unknown';
}

// Polling stands in for the live events only while their stream is down.
const POLL_MS = 10_000;

/** The bot's conversations, newest first, searchable; the chosen one's transcript beside (or instead of, on a phone) the list. */
export function InboxScreen() {
  const bot = useOutletContext<Bot>();
  const { conversationId } = useParams();
  const [filters, setFilters] = useState<Filters>({ q: '', channel: '', status: '' });
  const live = useInboxLiveUpdates(bot.id);
  const { register, handleSubmit } = useForm<Filters>({ defaultValues: filters });
  const conversations = useInfiniteQuery({
    queryKey: ['conversations', bot.id, filters],
    queryFn: ({ pageParam }) => {
      const params = new URLSearchParams({ limit: '30' });
      if (filters.q) params.set('q', filters.q);
      if (filters.channel) params.set('channel', filters.channel);
      if (filters.status) params.set('status', filters.status);
      if (pageParam) params.set('before', pageParam);
      return api<{ conversations: ConversationSummary[]; nextCursor: string | null }>(`/v1/bots/${bot.id}/conversations?${params}`);
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: live ? false : POLL_MS,
  });
  const list = conversations.data?.pages.flatMap((p) => p.conversations) ?? [];
  const filtered = Boolean(filters.q || filters.channel || filters.status);
  return (
    <InboxLive.Provider value={live}>
      <PageHeading title={`Inbox · ${bot.name}`}>Inbox</PageHeading>
      <div className={`inbox${conversationId ? ' has-selection' : ''}`}>
        <section aria-labelledby="conversations" className="inbox-list">
          <h2 id="conversations" className="visually-hidden">
            Conversations
          </h2>
          <form className="inline-form" role="search" onSubmit={handleSubmit((values) => setFilters({ q: values.q.trim(), channel: values.channel, status: values.status }))}>
            <label htmlFor="inbox-q" className="visually-hidden">
              Search conversations
            </label>
            <input id="inbox-q" type="search" placeholder="Search messages" {...register('q')} />
            <label htmlFor="inbox-channel" className="visually-hidden">
              Channel
            </label>
            <select id="inbox-channel" {...register('channel')}>
              <option value="">All channels</option>
              <option value="telegram">Telegram</option>
              <option value="whatsapp">WhatsApp</option>
              <option value="web">Web chat</option>
            </select>
            <label htmlFor="inbox-status" className="visually-hidden">
              Show
            </label>
            <select id="inbox-status" {...register('status')}>
              <option value="">Every conversation</option>
              <option value="wants_human">Wants a person</option>
              <option value="taken_over">Taken over</option>
              <option value="unanswered">Unanswered</option>
              <option value="unknown">Didn’t know</option>
            </select>
            <button className="button" type="submit">
              Search
            </button>
          </form>
          {conversations.isPending ? <Loading what="conversations" /> : null}
          <ErrorMessage error={conversations.error} />
          {conversations.data && list.length === 0 ? (
            filtered ? (
              <EmptyState title="No conversation matches">Try other words, all channels or every conversation.</EmptyState>
            ) : (
              <EmptyState title="No conversations yet">
                When people write to the bot, their conversations appear here. Publish it under <Link to="../channels">Publish</Link>, or try it yourself under{' '}
                <Link to="../try">Try it</Link>.
              </EmptyState>
            )
          ) : null}
          {list.length ? (
            <ul className="conversation-list">
              {list.map((c) => (
                <li key={c.id}>
                  <NavLink to={c.id} className="conversation">
                    <span className="conversation-head">
                      <span className="contact">{c.contact.displayName}</span>
                      <span className="muted small">
                        <When at={c.lastMessageAt} />
                      </span>
                    </span>
                    <span className="conversation-snippet">{c.lastMessage?.text ?? '(no text)'}</span>
                    <span className="tags">
                      <span className="tag">{channelNames[c.channel]}</span>
                      {c.wantsHuman ? <span className="tag alert">Wants a person</span> : null}
                      {c.takenOver ? <span className="tag human">Taken over</span> : null}
                      {c.unanswered ? <span className="tag warn">Unanswered</span> : null}
                      {c.unknown ? <span className="tag warn">Didn’t know</span> : null}
                    </span>
                  </NavLink>
                </li>
              ))}
            </ul>
          ) : null}
          {conversations.hasNextPage ? (
            <button type="button" className="button secondary" disabled={conversations.isFetchingNextPage} onClick={() => void conversations.fetchNextPage()}>
              {conversations.isFetchingNextPage ? 'Loading…' : 'Show older conversations'}
            </button>
          ) : null}
        </section>
        <div className="inbox-transcript">
          {conversationId ? <Outlet context={bot} /> : <p className="muted select-hint">Choose a conversation to read it.</p>}
        </div>
      </div>
    </InboxLive.Provider>
  );
}

/**
 * Who has the conversation: the newest takeover or release in the transcript, else what the list
 * says (a long takeover may have pushed its event past the first page).
 */
function takeoverView(items: TranscriptItem[], listed: ConversationSummary | undefined): TakeoverView {
  const newest = items.findLast((i) => i.type === 'event' && i.event !== 'human_requested');
  const takenOver = newest ? newest.type === 'event' && newest.event === 'takeover' : (listed?.takenOver ?? false);
  const asked = items.findLast((i) => i.type === 'event' && i.event === 'human_requested');
  const wantsHuman = !takenOver && (asked ? !newest || asked.at >= newest.at : (listed?.wantsHuman ?? false));
  return { takenOver, wantsHuman };
}

/** The conversation as the cached lists have it, if one does. */
function listedConversation(queries: ReturnType<typeof useQueryClient>, botId: string, conversationId: string): ConversationSummary | undefined {
  for (const [, data] of queries.getQueriesData<InfiniteData<{ conversations: ConversationSummary[] }>>({ queryKey: ['conversations', botId] })) {
    const found = data?.pages.flatMap((p) => p.conversations).find((c) => c.id === conversationId);
    if (found) return found;
  }
  return undefined;
}

/** One conversation's transcript: user messages, replies with sources and delivery state, notices, the creator's messages and takeovers; the takeover controls. */
export function TranscriptPane() {
  const bot = useOutletContext<Bot>();
  const { conversationId } = useParams() as { conversationId: string };
  const live = useInboxLive();
  const queries = useQueryClient();
  const transcript = useInfiniteQuery({
    queryKey: ['transcript', bot.id, conversationId],
    queryFn: ({ pageParam }) =>
      api<{ items: TranscriptItem[]; nextCursor: string | null }>(
        `/v1/bots/${bot.id}/conversations/${conversationId}/messages?${new URLSearchParams({ limit: '50', ...(pageParam ? { before: pageParam } : {}) })}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: live ? false : POLL_MS,
  });
  // Pages come newest first; each page is oldest first within itself.
  const items = [...(transcript.data?.pages ?? [])].reverse().flatMap((p) => p.items);
  const listed = listedConversation(queries, bot.id, conversationId);
  const view = takeoverView(items, listed);
  return (
    <section aria-labelledby="transcript" className="transcript-pane">
      <p className="back-link">
        <Link to="..">Back to the conversations</Link>
      </p>
      <h2 id="transcript">{listed ? `Conversation with ${listed.contact.displayName}` : 'Transcript'}</h2>
      {transcript.data ? <TakeoverBar botId={bot.id} conversationId={conversationId} view={view} /> : null}
      {transcript.isPending ? <Loading what="the transcript" /> : null}
      <ErrorMessage error={transcript.error} />
      {transcript.hasNextPage ? (
        <button type="button" className="button secondary small" disabled={transcript.isFetchingNextPage} onClick={() => void transcript.fetchNextPage()}>
          Show earlier messages
        </button>
      ) : null}
      {transcript.data && items.length === 0 ? <EmptyState title="No messages">This conversation has no messages yet.</EmptyState> : null}
      <ol className="transcript">
        {items.map((item) =>
          item.type === 'user' ? (
            <li key={item.id} className="bubble user">
              <span className="who-said">
                User · <When at={item.at} />
                {item.held ? ' · not answered by the bot' : ''}
              </span>
              <p>{item.text ?? (item.attachments.length ? `(${item.attachments.map((a) => a.fileName ?? a.type).join(', ')})` : `(${item.kind})`)}</p>
            </li>
          ) : item.type === 'event' ? (
            <li key={item.id} className="transcript-event">
              <p>
                {(eventWords[item.event] as Partial<Record<string, string>>)[item.by] ?? item.event} · <When at={item.at} />
              </p>
            </li>
          ) : (
            <li key={item.id} className={`bubble bot${item.type === 'notice' ? ' notice' : ''}${item.type === 'creator' ? ' creator' : ''}`}>
              <span className="who-said">
                {item.type === 'notice' ? 'Notice' : item.type === 'creator' ? 'You' : bot.name} · <When at={item.at} /> · {deliveryWords[item.delivery.status]}
              </span>
              <p>{item.text ?? 'Writing…'}</p>
              {item.sources.length ? <p className="sources">{sourcesLine(item.sources)}</p> : null}
              {item.delivery.error ? <p className="field-error">{item.delivery.error}</p> : null}
            </li>
          ),
        )}
      </ol>
      {transcript.data ? <Composer botId={bot.id} conversationId={conversationId} view={view} /> : null}
    </section>
  );
}
