import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api';
import { ConfirmButton, DetailPanel, Field, FormProblems, ListStates, LoadMore, RecordTable, RowActions, When } from '../ui';
import { channelWords, type Broadcast, type BroadcastStatus, type Habit, type Program, type Recipient, type RecipientStatus, type SegmentType } from './coaching.types';

const BROADCASTS_PAGE = 10;
const RECIPIENTS_PAGE = 25;
const statusWords: Record<BroadcastStatus, string> = { scheduled: 'Scheduled', sending: 'Sending', done: 'Done', cancelled: 'Cancelled' };
const badgeClass: Record<BroadcastStatus, string> = { scheduled: 'queued', sending: 'processing', done: 'ready', cancelled: 'failed' };
const recipientWords: Record<RecipientStatus, string> = { scheduled: 'Waiting', sent: 'Sent', skipped: 'Skipped', failed: 'Failed', cancelled: 'Cancelled' };
const recipientBadge: Record<RecipientStatus, string> = { scheduled: 'queued', sent: 'ready', skipped: 'queued', failed: 'failed', cancelled: 'failed' };

function totalsWords(b: Broadcast): string {
  if (b.status === 'scheduled' && b.total === 0) return 'Recipients are chosen at the send time.';
  if (b.status === 'cancelled' && b.total === 0) return 'Cancelled before it was sent.';
  if (b.total === 0) return 'No contacts were in this group, so no one received it.';
  const parts = [`${b.sent} sent`, `${b.failed} failed`, `${b.skipped} skipped`];
  if (b.cancelled) parts.push(`${b.cancelled} cancelled`);
  if (b.pending) parts.push(`${b.pending} waiting`);
  return `${parts.join(', ')} of ${b.total}`;
}

const shortText = (b: Broadcast) => (b.text.length > 40 ? `${b.text.slice(0, 40)}…` : b.text);

/** Broadcasts: a form to send or schedule one, and the sent and scheduled ones, newest first and paged, each with its recipients. */
export function BroadcastsSection({ botId, programs, habits }: { botId: string; programs: Program[]; habits: Habit[] }) {
  const queries = useQueryClient();
  const id = useId();
  const [opened, setOpened] = useState<string | null>(null);
  const broadcasts = useInfiniteQuery({
    queryKey: ['broadcasts', botId],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: String(BROADCASTS_PAGE), ...(pageParam ? { before: pageParam } : {}) });
      return api<{ broadcasts: Broadcast[] }>(`/v1/bots/${botId}/broadcasts?${query}`);
    },
    getNextPageParam: (last) => (last.broadcasts.length === BROADCASTS_PAGE ? last.broadcasts.at(-1)!.id : undefined),
    // Totals move while a broadcast is sent.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.broadcasts.some((b) => b.status === 'sending' || (b.status === 'scheduled' && Date.parse(b.sendAt) <= Date.now()))) ? 2_000 : false,
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['broadcasts', botId] });
  const cancel = useMutation({ mutationFn: (broadcastId: string) => api(`/v1/bots/${botId}/broadcasts/${broadcastId}/cancel`, { method: 'POST' }), onSuccess: refresh });
  const segmentName = (s: Broadcast['segment']): string => {
    if (s.type === 'all') return 'Everyone';
    if (s.type === 'program') return `Program: ${programs.find((p) => p.id === s.value)?.name ?? 'deleted'}`;
    if (s.type === 'habit') return `Habit: ${habits.find((h) => h.id === s.value)?.name ?? 'deleted'}`;
    if (s.type === 'tag') return `Tag: ${s.value ?? ''}`;
    return `Channel: ${channelWords[s.value ?? ''] ?? s.value ?? ''}`;
  };
  const rows = broadcasts.data?.pages.flatMap((p) => p.broadcasts) ?? [];
  const shown = rows.find((b) => b.id === opened);
  return (
    <section aria-labelledby={`${id}-broadcasts`} className="panel">
      <h2 id={`${id}-broadcasts`}>Broadcasts</h2>
      <BroadcastForm botId={botId} programs={programs} habits={habits} onSent={refresh} />
      <h3 className="sub-heading">Sent and scheduled</h3>
      <ListStates what="the broadcasts" pending={broadcasts.isPending} error={broadcasts.error ?? cancel.error} empty={broadcasts.isSuccess && rows.length === 0} emptyTitle="No broadcasts yet">
        Write a message above and choose who receives it.
      </ListStates>
      {rows.length > 0 ? (
        <RecordTable caption="The bot's broadcasts, newest first" columns={['Message', 'To', 'When', 'Status', 'Totals']} actions>
          {rows.map((b) => (
            <tr key={b.id}>
              <td className="message-cell">{b.text}</td>
              <td data-label="To">{segmentName(b.segment)}</td>
              <td data-label="When">
                <When at={b.sendAt} />
              </td>
              <td data-label="Status">
                <span className={`badge ${badgeClass[b.status]}`}>{statusWords[b.status]}</span>
              </td>
              <td data-label="Totals">{totalsWords(b)}</td>
              <RowActions>
                {b.total > 0 ? (
                  <button type="button" className="button secondary small" aria-label={`Recipients of the broadcast “${shortText(b)}”`} onClick={() => setOpened(b.id)}>
                    Recipients
                  </button>
                ) : null}
                {b.status === 'scheduled' || b.status === 'sending' ? (
                  <ConfirmButton
                    name={`Cancel the broadcast “${shortText(b)}”`}
                    question="Cancel this broadcast? Messages not yet sent are not sent."
                    disabled={cancel.isPending}
                    onConfirm={() => cancel.mutate(b.id)}
                  >
                    Cancel
                  </ConfirmButton>
                ) : null}
              </RowActions>
            </tr>
          ))}
        </RecordTable>
      ) : null}
      <LoadMore pages={broadcasts}>Show older broadcasts</LoadMore>
      {shown ? (
        <DetailPanel key={shown.id} title={`Recipients of “${shortText(shown)}”`} onClose={() => setOpened(null)}>
          <p>{totalsWords(shown)}</p>
          <BroadcastRecipients botId={botId} broadcast={shown} />
        </DetailPanel>
      ) : null}
    </section>
  );
}

/** Each recipient's fate, newest first and paged, filtered by status; a skipped or failed one says why. */
function BroadcastRecipients({ botId, broadcast }: { botId: string; broadcast: Broadcast }) {
  const filterId = useId();
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  const recipients = useInfiniteQuery({
    queryKey: ['broadcast-recipients', botId, broadcast.id, status],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: String(RECIPIENTS_PAGE), ...(status ? { status } : {}), ...(pageParam ? { before: pageParam } : {}) });
      return api<{ recipients: Recipient[] }>(`/v1/bots/${botId}/broadcasts/${broadcast.id}/recipients?${query}`);
    },
    getNextPageParam: (last) => (last.recipients.length === RECIPIENTS_PAGE ? last.recipients.at(-1)!.sendId : undefined),
  });
  const rows = recipients.data?.pages.flatMap((p) => p.recipients) ?? [];
  return (
    <>
      <div className="inline-form">
        <label htmlFor={filterId}>Show</label>
        <select id={filterId} value={status} onChange={(e) => setStatus(e.target.value as RecipientStatus | '')}>
          <option value="">Every recipient</option>
          {Object.entries(recipientWords).map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
      </div>
      <ListStates
        what="the recipients"
        pending={recipients.isPending}
        error={recipients.error}
        empty={recipients.isSuccess && rows.length === 0}
        emptyTitle={status ? `No recipients ${recipientWords[status].toLowerCase()}` : 'No recipients'}
      >
        Choose “Every recipient” to see the others.
      </ListStates>
      {rows.length > 0 ? (
        <RecordTable caption="Recipients of the broadcast" columns={['Contact', 'Status', 'Settled']}>
          {rows.map((r) => (
            <tr key={r.sendId}>
              <td className="doc-title">
                {r.displayName} <span className="muted small">({channelWords[r.channel] ?? r.channel})</span>
              </td>
              <td data-label="Status">
                <span className={`badge ${recipientBadge[r.status]}`}>{recipientWords[r.status]}</span>
                {r.reason ? <p className="muted small">{r.reason}</p> : null}
              </td>
              <td data-label="Settled">{r.settledAt ? <When at={r.settledAt} /> : '—'}</td>
            </tr>
          ))}
        </RecordTable>
      ) : null}
      <LoadMore pages={recipients}>Show more recipients</LoadMore>
    </>
  );
}

/** The message, who receives it (everyone, a program, a habit, a tag or a channel) and when. */
function BroadcastForm({ botId, programs, habits, onSent }: { botId: string; programs: Program[]; habits: Habit[]; onSent: () => Promise<unknown> }) {
  const [text, setText] = useState('');
  const [type, setType] = useState<SegmentType>('all');
  const [value, setValue] = useState('');
  const [sendAt, setSendAt] = useState('');
  const [problem, setProblem] = useState('');
  const create = useMutation({
    mutationFn: (body: { text: string; segment: { type: SegmentType; value?: string }; sendAt?: string }) => api(`/v1/bots/${botId}/broadcasts`, { method: 'POST', body }),
    onSuccess: async () => {
      setText('');
      setSendAt('');
      await onSent();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return setProblem('Write the message to send.');
    if (type !== 'all' && !value.trim()) return setProblem(type === 'tag' ? 'Type the tag to send to.' : `Choose the ${type} to send to.`);
    const when = sendAt ? new Date(sendAt) : null;
    if (when && Number.isNaN(when.getTime())) return setProblem('The send time is not a date and time.');
    setProblem('');
    create.mutate({ text: text.trim(), segment: type === 'all' ? { type } : { type, value: value.trim() }, ...(when ? { sendAt: when.toISOString() } : {}) });
  };
  const choices = type === 'program' ? programs.map((p) => [p.id, p.name]) : type === 'habit' ? habits.map((h) => [h.id, h.name]) : type === 'channel' ? Object.entries(channelWords) : [];
  return (
    <form onSubmit={submit} noValidate aria-label="New broadcast">
      <Field label="Message">{(props) => <textarea {...props} rows={3} maxLength={4000} value={text} onChange={(e) => setText(e.target.value)} />}</Field>
      <div className="form-grid">
        <Field label="Send to">
          {(props) => (
            <select
              {...props}
              value={type}
              onChange={(e) => {
                setType(e.target.value as SegmentType);
                setValue('');
              }}
            >
              <option value="all">Every contact</option>
              <option value="program">A program's contacts</option>
              <option value="habit">A habit's subscribers</option>
              <option value="tag">Contacts with a tag</option>
              <option value="channel">One channel's contacts</option>
            </select>
          )}
        </Field>
        {type === 'tag' ? <Field label="Tag">{(props) => <input {...props} value={value} maxLength={200} onChange={(e) => setValue(e.target.value)} />}</Field> : null}
        {type === 'program' || type === 'habit' || type === 'channel' ? (
          <Field label={type === 'program' ? 'Program' : type === 'habit' ? 'Habit' : 'Channel'} {...(choices.length === 0 ? { hint: `There is no ${type} yet: create one above first.` } : {})}>
            {(props) => (
              <select {...props} value={value} onChange={(e) => setValue(e.target.value)}>
                <option value="">Choose…</option>
                {choices.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <Field label="Send at (optional)" hint="Your local time; empty sends now.">
          {(props) => <input {...props} type="datetime-local" value={sendAt} onChange={(e) => setSendAt(e.target.value)} />}
        </Field>
      </div>
      <button type="submit" className="button" disabled={create.isPending}>
        {sendAt ? 'Schedule broadcast' : 'Send broadcast'}
      </button>
      <FormProblems problem={problem} error={create.error} />
    </form>
  );
}
