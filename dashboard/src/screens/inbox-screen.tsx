import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, NavLink, Outlet, useOutletContext, useParams } from 'react-router';
import { api } from '../api';
import type { Bot, ConversationSummary, TranscriptItem } from '../types';
import { EmptyState, ErrorMessage, Loading, PageHeading, sourcesLine, When } from '../ui';

const channelNames = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' } as const;
const deliveryWords = { pending: 'waiting to send', sending: 'sending', sent: 'sent', failed: 'not delivered' } as const;

interface Filters {
  q: string;
  channel: '' | 'telegram' | 'whatsapp' | 'web';
}

/** The bot's conversations, newest first, searchable; the chosen one's transcript beside (or instead of, on a phone) the list. */
export function InboxScreen() {
  const bot = useOutletContext<Bot>();
  const { conversationId } = useParams();
  const [filters, setFilters] = useState<Filters>({ q: '', channel: '' });
  const { register, handleSubmit } = useForm<Filters>({ defaultValues: filters });
  const conversations = useInfiniteQuery({
    queryKey: ['conversations', bot.id, filters],
    queryFn: ({ pageParam }) => {
      const params = new URLSearchParams({ limit: '30' });
      if (filters.q) params.set('q', filters.q);
      if (filters.channel) params.set('channel', filters.channel);
      if (pageParam) params.set('before', pageParam);
      return api<{ conversations: ConversationSummary[]; nextCursor: string | null }>(`/v1/bots/${bot.id}/conversations?${params}`);
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 10_000,
  });
  const list = conversations.data?.pages.flatMap((p) => p.conversations) ?? [];
  const filtered = Boolean(filters.q || filters.channel);
  return (
    <>
      <PageHeading title={`Inbox · ${bot.name}`}>Inbox</PageHeading>
      <div className={`inbox${conversationId ? ' has-selection' : ''}`}>
        <section aria-labelledby="conversations" className="inbox-list">
          <h2 id="conversations" className="visually-hidden">
            Conversations
          </h2>
          <form className="inline-form" role="search" onSubmit={handleSubmit((values) => setFilters({ q: values.q.trim(), channel: values.channel }))}>
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
            <button className="button" type="submit">
              Search
            </button>
          </form>
          {conversations.isPending ? <Loading what="conversations" /> : null}
          <ErrorMessage error={conversations.error} />
          {conversations.data && list.length === 0 ? (
            filtered ? (
              <EmptyState title="No conversation matches">Try other words or all channels.</EmptyState>
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
    </>
  );
}

/** One conversation's transcript: user messages, replies with sources and delivery state, notices. */
export function TranscriptPane() {
  const bot = useOutletContext<Bot>();
  const { conversationId } = useParams() as { conversationId: string };
  const transcript = useInfiniteQuery({
    queryKey: ['transcript', bot.id, conversationId],
    queryFn: ({ pageParam }) =>
      api<{ items: TranscriptItem[]; nextCursor: string | null }>(
        `/v1/bots/${bot.id}/conversations/${conversationId}/messages?${new URLSearchParams({ limit: '50', ...(pageParam ? { before: pageParam } : {}) })}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 10_000,
  });
  // Pages come newest first; each page is oldest first within itself.
  const items = [...(transcript.data?.pages ?? [])].reverse().flatMap((p) => p.items);
  return (
    <section aria-labelledby="transcript">
      <p className="back-link">
        <Link to="..">Back to the conversations</Link>
      </p>
      <h2 id="transcript">Transcript</h2>
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
              <span className="who-said">User · <When at={item.at} /></span>
              <p>{item.text ?? (item.attachments.length ? `(${item.attachments.map((a) => a.fileName ?? a.type).join(', ')})` : `(${item.kind})`)}</p>
            </li>
          ) : (
            <li key={item.id} className={`bubble bot${item.type === 'notice' ? ' notice' : ''}`}>
              <span className="who-said">
                {item.type === 'notice' ? 'Notice' : bot.name} · <When at={item.at} /> · {deliveryWords[item.delivery.status]}
              </span>
              <p>{item.text ?? 'Writing…'}</p>
              {item.sources.length ? <p className="sources">{sourcesLine(item.sources)}</p> : null}
              {item.delivery.error ? <p className="field-error">{item.delivery.error}</p> : null}
            </li>
          ),
        )}
      </ol>
    </section>
  );
}
