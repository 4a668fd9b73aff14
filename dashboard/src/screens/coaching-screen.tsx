import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useOutletContext } from 'react-router';
import { api } from '../api';
import { CopyButton } from '../copy-button';
import type { Bot } from '../types';
import { EmptyState, ErrorMessage, Field, Loading, PageHeading, When } from '../ui';

interface Step {
  afterDays?: number;
  afterMinutes?: number;
  text?: string;
  passage?: string;
  question?: { text: string; options: string[] };
}
interface Program {
  id: string;
  name: string;
  slug: string;
  steps: Step[];
}
interface Habit {
  id: string;
  name: string;
  localTime: string;
  daysOfWeek: number[];
  timesPerWeek: number | null;
}
type SegmentType = 'all' | 'program' | 'habit' | 'tag' | 'channel';
interface Broadcast {
  id: string;
  text: string;
  segment: { type: SegmentType; value?: string };
  sendAt: string;
  status: 'scheduled' | 'sending' | 'done' | 'cancelled';
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  cancelled: number;
  pending: number;
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const statusWords: Record<Broadcast['status'], string> = { scheduled: 'Scheduled', sending: 'Sending', done: 'Done', cancelled: 'Cancelled' };
const badgeClass: Record<Broadcast['status'], string> = { scheduled: 'queued', sending: 'processing', done: 'ready', cancelled: 'failed' };
const channelWords: Record<string, string> = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' };

/** Programs of timed steps, daily or weekly habits and broadcasts to a segment of the bot's contacts. */
export function CoachingScreen() {
  const bot = useOutletContext<Bot>();
  const programs = useQuery({ queryKey: ['programs', bot.id], queryFn: () => api<{ programs: Program[] }>(`/v1/bots/${bot.id}/programs`) });
  const habits = useQuery({ queryKey: ['habits', bot.id], queryFn: () => api<{ habits: Habit[] }>(`/v1/bots/${bot.id}/habits`) });
  return (
    <>
      <PageHeading title="Coaching">Coaching</PageHeading>
      <p className="lead">Programs send their steps over days; habits ask each subscriber at their own local time; broadcasts send one message to a group of contacts.</p>
      <ProgramsSection bot={bot} programs={programs} />
      <HabitsSection botId={bot.id} habits={habits} />
      <BroadcastsSection bot={bot} programs={programs.data?.programs ?? []} habits={habits.data?.habits ?? []} />
    </>
  );
}

interface StepRow {
  key: number;
  text: string;
  wait: string;
  unit: 'days' | 'minutes';
}

function ProgramsSection({ bot, programs }: { bot: Bot; programs: ReturnType<typeof useQuery<{ programs: Program[] }>> }) {
  const queries = useQueryClient();
  const formId = useId();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [rows, setRows] = useState<StepRow[]>([{ key: 0, text: '', wait: '0', unit: 'days' }]);
  const [nextKey, setNextKey] = useState(1);
  const [problem, setProblem] = useState('');
  const refresh = () => queries.invalidateQueries({ queryKey: ['programs', bot.id] });
  const telegram = bot.channels.find((c) => c.channel === 'telegram') as { username?: string } | undefined;
  const create = useMutation({
    mutationFn: (body: { name: string; slug: string; steps: Step[] }) => api<Program>(`/v1/bots/${bot.id}/programs`, { method: 'POST', body }),
    onSuccess: async () => {
      setName('');
      setSlug('');
      setRows([{ key: nextKey, text: '', wait: '0', unit: 'days' }]);
      setNextKey(nextKey + 1);
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => api(`/v1/bots/${bot.id}/programs/${id}`, { method: 'DELETE' }), onSuccess: refresh });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || !slug.trim()) return setProblem('Give the program a name and a slug.');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(slug.trim())) return setProblem('The slug takes letters, digits, "_" and "-" only (at most 64).');
    if (rows.some((r) => !r.text.trim())) return setProblem('Every step needs its text; remove the steps you do not need.');
    if (rows.some((r) => !/^\d+$/.test(r.wait.trim()))) return setProblem('Each wait is a whole number of days or minutes (0 for at once).');
    setProblem('');
    const steps = rows.map((r) => ({ text: r.text.trim(), ...(r.unit === 'days' ? { afterDays: Number(r.wait) } : { afterMinutes: Number(r.wait) }) }));
    create.mutate({ name: name.trim(), slug: slug.trim(), steps });
  };
  const setRow = (key: number, change: Partial<StepRow>) => setRows(rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  return (
    <section aria-labelledby={`${formId}-programs`} className="panel">
      <h2 id={`${formId}-programs`}>Programs</h2>
      {programs.isPending ? <Loading what="the programs" /> : null}
      <ErrorMessage error={programs.error ?? remove.error} />
      {programs.data && programs.data.programs.length === 0 ? (
        <EmptyState title="No programs yet">Create one below; a contact joins it by sending /start and its slug to your Telegram bot.</EmptyState>
      ) : null}
      {programs.data && programs.data.programs.length > 0 ? (
        <div className="table-wrap">
          <table className="stack-on-phone">
            <caption className="visually-hidden">The bot's programs</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Steps</th>
                <th scope="col">Join with</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {programs.data.programs.map((p) => {
                const link = telegram?.username ? `https://t.me/${telegram.username}?start=${p.slug}` : `/start ${p.slug}`;
                return (
                  <tr key={p.id}>
                    <td className="doc-title">
                      {p.name} <span className="muted small">({p.slug})</span>
                    </td>
                    <td data-label="Steps">{p.steps.length}</td>
                    <td data-label="Join with" className="join-link">
                      <code className="copy-value">{link}</code> <CopyButton text={link} what="Link" label={`Copy the link to ${p.name}`} />
                    </td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="button danger small"
                        aria-label={`Delete program ${p.name}`}
                        disabled={remove.isPending}
                        onClick={() => {
                          if (window.confirm(`Delete “${p.name}”? Its contacts get no more of its steps.`)) remove.mutate(p.id);
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <h3 className="sub-heading">New program</h3>
      <form onSubmit={submit} noValidate aria-label="New program">
        <div className="form-grid">
          <Field label="Program name">{(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />}</Field>
          <Field label="Slug" hint="Letters, digits, _ and -; contacts join with /start and the slug.">
            {(props) => <input {...props} value={slug} onChange={(e) => setSlug(e.target.value)} maxLength={64} autoCapitalize="none" spellCheck={false} />}
          </Field>
        </div>
        <ol className="step-rows">
          {rows.map((row, index) => (
            <li key={row.key}>
              <fieldset>
                <legend>Step {index + 1}</legend>
                <Field label={`Step ${index + 1} text`}>{(props) => <textarea {...props} rows={2} value={row.text} onChange={(e) => setRow(row.key, { text: e.target.value })} />}</Field>
                <div className="input-with-button">
                  <Field label={index === 0 ? `Step ${index + 1}: wait after joining` : `Step ${index + 1}: wait after the previous step`}>
                    {(props) => <input {...props} inputMode="numeric" size={5} value={row.wait} onChange={(e) => setRow(row.key, { wait: e.target.value })} />}
                  </Field>
                  <Field label={`Step ${index + 1} wait unit`}>
                    {(props) => (
                      <select {...props} value={row.unit} onChange={(e) => setRow(row.key, { unit: e.target.value as StepRow['unit'] })}>
                        <option value="days">days</option>
                        <option value="minutes">minutes</option>
                      </select>
                    )}
                  </Field>
                </div>
                {rows.length > 1 ? (
                  <button type="button" className="button small" aria-label={`Remove step ${index + 1}`} onClick={() => setRows(rows.filter((r) => r.key !== row.key))}>
                    Remove step
                  </button>
                ) : null}
              </fieldset>
            </li>
          ))}
        </ol>
        <div className="button-row">
          <button
            type="button"
            className="button"
            onClick={() => {
              setRows([...rows, { key: nextKey, text: '', wait: '1', unit: 'days' }]);
              setNextKey(nextKey + 1);
            }}
          >
            Add step
          </button>
          <button type="submit" className="button" disabled={create.isPending}>
            Create program
          </button>
        </div>
        {problem ? <p className="field-error" role="alert">{problem}</p> : null}
        <ErrorMessage error={create.error} />
      </form>
    </section>
  );
}

function habitWhen(h: Habit): string {
  const days = h.daysOfWeek.length === 0 || h.daysOfWeek.length === 7 ? 'every day' : h.daysOfWeek.map((d) => DAYS[d - 1]!.slice(0, 3)).join(', ');
  return `${h.localTime}, ${days}${h.timesPerWeek ? `; target ${h.timesPerWeek} a week` : ''}`;
}

function HabitsSection({ botId, habits }: { botId: string; habits: ReturnType<typeof useQuery<{ habits: Habit[] }>> }) {
  const queries = useQueryClient();
  const id = useId();
  const [name, setName] = useState('');
  const [time, setTime] = useState('08:00');
  const [days, setDays] = useState<number[]>([]);
  const [perWeek, setPerWeek] = useState('');
  const [problem, setProblem] = useState('');
  const refresh = () => queries.invalidateQueries({ queryKey: ['habits', botId] });
  const create = useMutation({
    mutationFn: (body: { name: string; localTime: string; daysOfWeek?: number[]; timesPerWeek?: number }) => api<Habit>(`/v1/bots/${botId}/habits`, { method: 'POST', body }),
    onSuccess: async () => {
      setName('');
      setDays([]);
      setPerWeek('');
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (habitId: string) => api(`/v1/bots/${botId}/habits/${habitId}`, { method: 'DELETE' }), onSuccess: refresh });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setProblem('Name the habit.');
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) return setProblem('The time is a 24-hour HH:MM, e.g. 08:30.');
    if (perWeek && !/^[1-7]$/.test(perWeek)) return setProblem('Times a week is a number from 1 to 7.');
    setProblem('');
    create.mutate({ name: name.trim(), localTime: time, ...(days.length ? { daysOfWeek: [...days].sort() } : {}), ...(perWeek ? { timesPerWeek: Number(perWeek) } : {}) });
  };
  return (
    <section aria-labelledby={`${id}-habits`} className="panel">
      <h2 id={`${id}-habits`}>Habits</h2>
      {habits.isPending ? <Loading what="the habits" /> : null}
      <ErrorMessage error={habits.error ?? remove.error} />
      {habits.data && habits.data.habits.length === 0 ? <EmptyState title="No habits yet">Create one below; each subscriber is asked at its time, in their own time zone, whether they did it.</EmptyState> : null}
      {habits.data && habits.data.habits.length > 0 ? (
        <ul className="cards">
          {habits.data.habits.map((h) => (
            <li key={h.id} className="card toolbar">
              <span>
                <span className="card-title">{h.name}</span>
                <br />
                <span className="muted">{habitWhen(h)}</span>
              </span>
              <button
                type="button"
                className="button danger small"
                aria-label={`Delete habit ${h.name}`}
                disabled={remove.isPending}
                onClick={() => {
                  if (window.confirm(`Delete “${h.name}” and its check-ins? Its subscribers are asked no more.`)) remove.mutate(h.id);
                }}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <h3 className="sub-heading">New habit</h3>
      <form onSubmit={submit} noValidate aria-label="New habit">
        <div className="form-grid">
          <Field label="Habit name">{(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />}</Field>
          <Field label="Asked at (their local time)">{(props) => <input {...props} type="time" value={time} onChange={(e) => setTime(e.target.value)} />}</Field>
          <Field label="Times a week (optional)" hint="A weekly target from 1 to 7; leave empty for a daily habit.">
            {(props) => <input {...props} inputMode="numeric" value={perWeek} onChange={(e) => setPerWeek(e.target.value)} />}
          </Field>
        </div>
        <fieldset>
          <legend>Days asked (none ticked: every day)</legend>
          <div className="day-boxes">
            {DAYS.map((day, index) => (
              <div className="checkbox" key={day}>
                <input
                  id={`${id}-day-${index + 1}`}
                  type="checkbox"
                  checked={days.includes(index + 1)}
                  onChange={(e) => setDays(e.target.checked ? [...days, index + 1] : days.filter((d) => d !== index + 1))}
                />
                <label htmlFor={`${id}-day-${index + 1}`}>{day}</label>
              </div>
            ))}
          </div>
        </fieldset>
        <button type="submit" className="button" disabled={create.isPending}>
          Create habit
        </button>
        {problem ? <p className="field-error" role="alert">{problem}</p> : null}
        <ErrorMessage error={create.error} />
      </form>
    </section>
  );
}

function totalsWords(b: Broadcast): string {
  if (b.status === 'scheduled' && b.total === 0) return 'Recipients are chosen at the send time.';
  if (b.status === 'cancelled' && b.total === 0) return 'Cancelled before it was sent.';
  if (b.total === 0) return 'No contacts were in this group, so no one received it.';
  const parts = [`${b.sent} sent`, `${b.failed} failed`, `${b.skipped} skipped`];
  if (b.cancelled) parts.push(`${b.cancelled} cancelled`);
  if (b.pending) parts.push(`${b.pending} waiting`);
  return `${parts.join(', ')} of ${b.total}`;
}

function BroadcastsSection({ bot, programs, habits }: { bot: Bot; programs: Program[]; habits: Habit[] }) {
  const queries = useQueryClient();
  const id = useId();
  const [text, setText] = useState('');
  const [type, setType] = useState<SegmentType>('all');
  const [value, setValue] = useState('');
  const [sendAt, setSendAt] = useState('');
  const [problem, setProblem] = useState('');
  const broadcasts = useQuery({
    queryKey: ['broadcasts', bot.id],
    queryFn: () => api<{ broadcasts: Broadcast[] }>(`/v1/bots/${bot.id}/broadcasts`),
    // Totals move while a broadcast is sent.
    refetchInterval: (query) => (query.state.data?.broadcasts.some((b) => b.status === 'sending' || (b.status === 'scheduled' && Date.parse(b.sendAt) <= Date.now())) ? 2_000 : false),
  });
  const refresh = () => queries.invalidateQueries({ queryKey: ['broadcasts', bot.id] });
  const create = useMutation({
    mutationFn: (body: { text: string; segment: { type: SegmentType; value?: string }; sendAt?: string }) => api(`/v1/bots/${bot.id}/broadcasts`, { method: 'POST', body }),
    onSuccess: async () => {
      setText('');
      setSendAt('');
      await refresh();
    },
  });
  const cancel = useMutation({ mutationFn: (broadcastId: string) => api(`/v1/bots/${bot.id}/broadcasts/${broadcastId}/cancel`, { method: 'POST' }), onSuccess: refresh });
  const segmentName = (s: Broadcast['segment']): string => {
    if (s.type === 'all') return 'Everyone';
    if (s.type === 'program') return `Program: ${programs.find((p) => p.id === s.value)?.name ?? 'deleted'}`;
    if (s.type === 'habit') return `Habit: ${habits.find((h) => h.id === s.value)?.name ?? 'deleted'}`;
    if (s.type === 'tag') return `Tag: ${s.value ?? ''}`;
    return `Channel: ${channelWords[s.value ?? ''] ?? s.value ?? ''}`;
  };
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
    <section aria-labelledby={`${id}-broadcasts`} className="panel">
      <h2 id={`${id}-broadcasts`}>Broadcasts</h2>
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
        {problem ? <p className="field-error" role="alert">{problem}</p> : null}
        <ErrorMessage error={create.error} />
      </form>
      <h3 className="sub-heading">Sent and scheduled</h3>
      {broadcasts.isPending ? <Loading what="the broadcasts" /> : null}
      <ErrorMessage error={broadcasts.error ?? cancel.error} />
      {broadcasts.data && broadcasts.data.broadcasts.length === 0 ? <EmptyState title="No broadcasts yet">Write a message above and choose who receives it.</EmptyState> : null}
      {broadcasts.data && broadcasts.data.broadcasts.length > 0 ? (
        <div className="table-wrap">
          <table className="stack-on-phone">
            <caption className="visually-hidden">The bot's broadcasts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">To</th>
                <th scope="col">When</th>
                <th scope="col">Status</th>
                <th scope="col">Totals</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {broadcasts.data.broadcasts.map((b) => (
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
                  <td className="row-actions">
                    {b.status === 'scheduled' || b.status === 'sending' ? (
                      <button
                        type="button"
                        className="button danger small"
                        aria-label={`Cancel the broadcast “${b.text.slice(0, 40)}”`}
                        disabled={cancel.isPending}
                        onClick={() => {
                          if (window.confirm('Cancel this broadcast? Messages not yet sent are not sent.')) cancel.mutate(b.id);
                        }}
                      >
                        Cancel
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
