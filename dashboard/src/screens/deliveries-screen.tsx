import { useInfiniteQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useOutletContext } from 'react-router';
import { api } from '../api';
import type { Bot } from '../types';
import { EmptyState, ErrorMessage, LoadMore, Loading, PageHeading, RecordTable, When } from '../ui';

const STATUSES = ['pending', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;
type Status = (typeof STATUSES)[number];

interface Delivery {
  id: string;
  conversationId: string;
  channel: string;
  contact: { externalId: string; displayName?: string };
  status: Status;
  text: string | null;
  createdAt: string;
  sentAt: string | null;
  error: { code: number | null; title: string; details?: string } | null;
}

const PAGE = 50;
const statusWords: Record<Status, string> = {
  pending: 'Waiting',
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Failed',
};
const channelWords: Record<string, string> = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' };
const badgeClass: Record<Status, string> = { pending: 'queued', sending: 'processing', sent: 'ready', delivered: 'ready', read: 'ready', failed: 'failed' };

/** Every message the bot sent or tried to send, newest first, with its state and why it failed; paged and filtered by state. */
export function DeliveriesScreen() {
  const bot = useOutletContext<Bot>();
  const [status, setStatus] = useState<Status | ''>('');
  const filterId = useId();
  const deliveries = useInfiniteQuery({
    queryKey: ['deliveries', bot.id, status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (status) query.set('status', status);
      if (pageParam) query.set('before', pageParam);
      return api<{ deliveries: Delivery[] }>(`/v1/bots/${bot.id}/deliveries?${query}`);
    },
    getNextPageParam: (last) => (last.deliveries.length === PAGE ? last.deliveries.at(-1)!.createdAt : undefined),
  });
  const rows = deliveries.data?.pages.flatMap((p) => p.deliveries) ?? [];
  return (
    <>
      <PageHeading title={`Deliveries · ${bot.name}`}>Deliveries</PageHeading>
      <p className="lead">Every message the bot sent or tried to send on Telegram, WhatsApp and the web chat, newest first. A failed one says why.</p>
      <div className="inline-form">
        <label htmlFor={filterId}>Show</label>
        <select id={filterId} value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
          <option value="">All messages</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusWords[s]}
            </option>
          ))}
        </select>
      </div>
      {deliveries.isPending ? <Loading what="deliveries" /> : null}
      <ErrorMessage error={deliveries.error} />
      {deliveries.isSuccess && rows.length === 0 ? (
        status ? (
          <EmptyState title={`No ${statusWords[status].toLowerCase()} messages`}>Choose “All messages” to see the others.</EmptyState>
        ) : (
          <EmptyState title="Nothing sent yet">Messages appear here once the bot answers someone: connect a channel under Publish, or try it in the web chat.</EmptyState>
        )
      ) : null}
      {rows.length > 0 ? (
        <RecordTable caption="Messages the bot sent" columns={['When', 'To', 'Message', 'State']}>
          {rows.map((d) => (
            <tr key={d.id}>
              <td data-label="When">
                <When at={d.createdAt} />
              </td>
              <td data-label="To">
                {d.contact.displayName ?? d.contact.externalId}
                <br />
                <span className="muted small">{channelWords[d.channel] ?? d.channel}</span>
              </td>
              <td className="message-cell">{d.text ?? <span className="muted">(not text)</span>}</td>
              <td data-label="State">
                <span className={`badge ${badgeClass[d.status]}`}>{statusWords[d.status]}</span>
                {d.error ? (
                  <p className="field-error">
                    {d.error.title}
                    {d.error.details ? `: ${d.error.details}` : ''}
                  </p>
                ) : null}
              </td>
            </tr>
          ))}
        </RecordTable>
      ) : null}
      <LoadMore pages={deliveries}>Show older messages</LoadMore>
    </>
  );
}
