import { useInfiniteQuery, useMutation, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { api } from '../api';
import { CopyButton } from '../copy-button';
import { useSave } from '../save-mutation';
import type { Bot } from '../types';
import { ConfirmButton, DetailPanel, Field, FormProblems, ListStates, LoadMore, RecordTable, RowActions, When } from '../ui';
import { channelWords, type Enrollment, type EnrollmentStatus, type Program, type Step } from './coaching.types';

/** A step as the form edits it; `options` holds one quick reply a line. */
interface StepRow {
  key: number;
  text: string;
  passage: string;
  wait: string;
  unit: 'days' | 'minutes';
  asks: boolean;
  question: string;
  options: string;
}

let nextRowKey = 0;
const blankRow = (wait: string): StepRow => ({ key: nextRowKey++, text: '', passage: '', wait, unit: 'days', asks: false, question: '', options: '' });

function rowOf(step: Step): StepRow {
  const days = step.afterDays ?? 0;
  const minutes = step.afterMinutes ?? 0;
  // Days alone keep the contact's local time; any minutes make the whole wait a count of minutes.
  const wait = minutes ? { wait: String(days * 1440 + minutes), unit: 'minutes' as const } : { wait: String(days), unit: 'days' as const };
  return {
    ...blankRow('0'),
    ...wait,
    text: step.text ?? '',
    passage: step.passage ?? '',
    asks: !!step.question,
    question: step.question?.text ?? '',
    options: step.question?.options.join('\n') ?? '',
  };
}

const optionsOf = (row: StepRow) =>
  row.options
    .split('\n')
    .map((o) => o.trim())
    .filter(Boolean);

/** What is wrong with the steps, in words, or null. */
function stepsProblem(rows: StepRow[]): string | null {
  for (const [index, row] of rows.entries()) {
    const step = `Step ${index + 1}`;
    if (!row.text.trim() && !row.passage.trim() && !row.asks) return `${step} needs its text, a passage or a question; remove the steps you do not need.`;
    if (!/^\d+$/.test(row.wait.trim())) return `${step}: the wait is a whole number of days or minutes (0 for at once).`;
    if (row.asks) {
      const options = optionsOf(row);
      if (!row.question.trim()) return `${step}: write the question.`;
      if (options.length === 0 || options.length > 10) return `${step}: give the question 1 to 10 quick replies, one a line.`;
      if (options.some((o) => o.length > 100)) return `${step}: a quick reply is at most 100 characters.`;
    }
  }
  return null;
}

function stepOf(row: StepRow): Step {
  return {
    ...(row.unit === 'days' ? { afterDays: Number(row.wait) } : { afterMinutes: Number(row.wait) }),
    ...(row.text.trim() ? { text: row.text.trim() } : {}),
    ...(row.passage.trim() ? { passage: row.passage.trim() } : {}),
    ...(row.asks ? { question: { text: row.question.trim(), options: optionsOf(row) } } : {}),
  };
}

/** Programs: the list with each one's join link, and an editor for a new or an existing program. */
export function ProgramsSection({ bot, programs }: { bot: Bot; programs: UseQueryResult<{ programs: Program[] }> }) {
  const queries = useQueryClient();
  const id = useId();
  const [open, setOpen] = useState<{ programId: string; view: 'edit' | 'contacts' } | null>(null);
  const remove = useMutation({
    mutationFn: (programId: string) => api(`/v1/bots/${bot.id}/programs/${programId}`, { method: 'DELETE' }),
    onSuccess: (_, programId) => {
      if (open?.programId === programId) setOpen(null);
      return queries.invalidateQueries({ queryKey: ['programs', bot.id] });
    },
  });
  const telegram = bot.channels.find((c) => c.channel === 'telegram') as { username?: string } | undefined;
  const list = programs.data?.programs ?? [];
  const opened = list.find((p) => p.id === open?.programId);
  return (
    <section aria-labelledby={`${id}-programs`} className="panel">
      <h2 id={`${id}-programs`}>Programs</h2>
      <ListStates what="the programs" pending={programs.isPending} error={programs.error ?? remove.error} empty={programs.isSuccess && list.length === 0} emptyTitle="No programs yet">
        Create one below; a contact joins it by sending /start and its slug to your Telegram bot.
      </ListStates>
      {list.length > 0 ? (
        <RecordTable caption="The bot's programs" columns={['Name', 'Steps', 'Join with']} actions>
          {list.map((p) => {
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
                <RowActions>
                  <button type="button" className="button secondary small" aria-label={`Edit program ${p.name}`} onClick={() => setOpen({ programId: p.id, view: 'edit' })}>
                    Edit
                  </button>
                  <button type="button" className="button secondary small" aria-label={`Contacts in program ${p.name}`} onClick={() => setOpen({ programId: p.id, view: 'contacts' })}>
                    Contacts
                  </button>
                  <ConfirmButton
                    name={`Delete program ${p.name}`}
                    question={`Delete “${p.name}”? Its contacts get no more of its steps.`}
                    disabled={remove.isPending}
                    onConfirm={() => remove.mutate(p.id)}
                  >
                    Delete
                  </ConfirmButton>
                </RowActions>
              </tr>
            );
          })}
        </RecordTable>
      ) : null}
      {opened && open?.view === 'edit' ? (
        <DetailPanel key={`edit-${opened.id}`} title={`Edit “${opened.name}”`} onClose={() => setOpen(null)}>
          <ProgramForm botId={bot.id} program={opened} onSaved={() => setOpen(null)} />
        </DetailPanel>
      ) : null}
      {opened && open?.view === 'contacts' ? (
        <DetailPanel key={`contacts-${opened.id}`} title={`Contacts in “${opened.name}”`} onClose={() => setOpen(null)}>
          <ProgramEnrollments botId={bot.id} program={opened} />
        </DetailPanel>
      ) : null}
      <h3 className="sub-heading">New program</h3>
      <ProgramForm botId={bot.id} />
    </section>
  );
}

/** The program's name, slug and steps: each step's wait, text, quoted passage and question with quick replies, in an order that can change. */
function ProgramForm({ botId, program, onSaved }: { botId: string; program?: Program; onSaved?: () => void }) {
  const formId = useId();
  const [name, setName] = useState(program?.name ?? '');
  const [slug, setSlug] = useState(program?.slug ?? '');
  const [rows, setRows] = useState<StepRow[]>(() => program?.steps.map(rowOf) ?? [blankRow('0')]);
  const [problem, setProblem] = useState('');
  // A moved step's button keeps the focus, so the keyboard can move it again.
  const [focus, setFocus] = useState<string | null>(null);
  useEffect(() => {
    if (!focus) return;
    document.getElementById(focus)?.focus();
    setFocus(null);
  }, [focus]);
  const save = useSave<{ name: string; slug: string; steps: Step[] }>(`/v1/bots/${botId}/programs`, program?.id, ['programs', botId], () => {
    if (program) return onSaved?.();
    setName('');
    setSlug('');
    setRows([blankRow('0')]);
  });
  // A problem shown is about the steps as they were: any change to them takes it away.
  useEffect(() => setProblem(''), [rows]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || !slug.trim()) return setProblem('Give the program a name and a slug.');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(slug.trim())) return setProblem('The slug takes letters, digits, "_" and "-" only (at most 64).');
    const wrong = stepsProblem(rows);
    if (wrong) return setProblem(wrong);
    setProblem('');
    save.mutate({ name: name.trim(), slug: slug.trim(), steps: rows.map(stepOf) });
  };
  const setRow = (key: number, change: Partial<StepRow>) => setRows(rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...rows];
    const [row] = next.splice(index, 1);
    next.splice(index + by, 0, row!);
    setRows(next);
    // At the top or the bottom the other button is the one left to press.
    const to = index + by;
    setFocus(`${formId}-${to === 0 ? 'down' : to === rows.length - 1 ? 'up' : by < 0 ? 'up' : 'down'}-${row!.key}`);
  };
  const label = program ? `Edit program ${program.name}` : 'New program';
  return (
    <form onSubmit={submit} noValidate aria-label={label}>
      <div className="form-grid">
        <Field label="Program name">{(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />}</Field>
        <Field label="Slug" hint="Letters, digits, _ and -; contacts join with /start and the slug.">
          {(props) => <input {...props} value={slug} onChange={(e) => setSlug(e.target.value)} maxLength={64} autoCapitalize="none" spellCheck={false} />}
        </Field>
      </div>
      {program ? <p className="hint">Changes reach the steps a contact has not been sent yet.</p> : null}
      <ol className="step-rows">
        {rows.map((row, index) => {
          const n = index + 1;
          return (
            <li key={row.key}>
              <fieldset>
                <legend>Step {n}</legend>
                <div className="input-with-button">
                  <Field label={index === 0 ? `Step ${n}: wait after joining` : `Step ${n}: wait after the previous step`}>
                    {(props) => <input {...props} inputMode="numeric" size={5} value={row.wait} onChange={(e) => setRow(row.key, { wait: e.target.value })} />}
                  </Field>
                  <Field label={`Step ${n} wait unit`}>
                    {(props) => (
                      <select {...props} value={row.unit} onChange={(e) => setRow(row.key, { unit: e.target.value as StepRow['unit'] })}>
                        <option value="days">days</option>
                        <option value="minutes">minutes</option>
                      </select>
                    )}
                  </Field>
                </div>
                <Field label={`Step ${n} text`}>{(props) => <textarea {...props} rows={2} maxLength={4000} value={row.text} onChange={(e) => setRow(row.key, { text: e.target.value })} />}</Field>
                <Field label={`Step ${n} quoted passage (optional)`} hint="Words from your material, sent as a quote after the text.">
                  {(props) => <textarea {...props} rows={2} maxLength={4000} value={row.passage} onChange={(e) => setRow(row.key, { passage: e.target.value })} />}
                </Field>
                <div className="checkbox">
                  <input id={`${formId}-asks-${row.key}`} type="checkbox" checked={row.asks} onChange={(e) => setRow(row.key, { asks: e.target.checked })} />
                  <label htmlFor={`${formId}-asks-${row.key}`}>Step {n} asks a question</label>
                </div>
                {row.asks ? (
                  <div className="form-grid">
                    <Field label={`Step ${n} question`}>{(props) => <input {...props} maxLength={1000} value={row.question} onChange={(e) => setRow(row.key, { question: e.target.value })} />}</Field>
                    <Field label={`Step ${n} quick replies`} hint="One a line, up to 10; each becomes a button the contact taps.">
                      {(props) => <textarea {...props} rows={3} value={row.options} onChange={(e) => setRow(row.key, { options: e.target.value })} />}
                    </Field>
                  </div>
                ) : null}
                <div className="button-row step-actions">
                  {index > 0 ? (
                    <button type="button" id={`${formId}-up-${row.key}`} className="button secondary small" onClick={() => move(index, -1)}>
                      Move <span className="visually-hidden">step {n} </span>up
                    </button>
                  ) : null}
                  {index < rows.length - 1 ? (
                    <button type="button" id={`${formId}-down-${row.key}`} className="button secondary small" onClick={() => move(index, 1)}>
                      Move <span className="visually-hidden">step {n} </span>down
                    </button>
                  ) : null}
                  {rows.length > 1 ? (
                    <button type="button" className="button secondary small" aria-label={`Remove step ${n}`} onClick={() => setRows(rows.filter((r) => r.key !== row.key))}>
                      Remove step
                    </button>
                  ) : null}
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div className="button-row">
        <button type="button" className="button secondary" onClick={() => setRows([...rows, blankRow('1')])}>
          Add step
        </button>
        <button type="submit" className="button" disabled={save.isPending}>
          {program ? 'Save program' : 'Create program'}
        </button>
      </div>
      <FormProblems problem={problem} error={save.error} />
    </form>
  );
}

const ENROLLMENTS_PAGE = 20;
const enrollmentWords: Record<EnrollmentStatus, string> = { active: 'Active', paused: 'Paused', left: 'Left', completed: 'Finished' };
const enrollmentBadge: Record<EnrollmentStatus, string> = { active: 'ready', paused: 'queued', left: '', completed: 'ready' };

/** The program's contacts, newest first and paged: where each one is, what they answered, and pause, resume or leave. */
function ProgramEnrollments({ botId, program }: { botId: string; program: Program }) {
  const queries = useQueryClient();
  const enrollments = useInfiniteQuery({
    queryKey: ['enrollments', botId, program.id],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: String(ENROLLMENTS_PAGE), ...(pageParam ? { before: pageParam } : {}) });
      return api<{ enrollments: Enrollment[]; nextCursor: string | null }>(`/v1/bots/${botId}/programs/${program.id}/enrollments?${query}`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const change = useMutation({
    mutationFn: ({ enrollmentId, action }: { enrollmentId: string; action: 'pause' | 'resume' | 'leave' }) =>
      api(`/v1/bots/${botId}/programs/${program.id}/enrollments/${enrollmentId}/${action}`, { method: 'POST' }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['enrollments', botId, program.id] }),
  });
  const rows = enrollments.data?.pages.flatMap((p) => p.enrollments) ?? [];
  const where = (e: Enrollment) =>
    e.status === 'completed' ? `All ${program.steps.length} steps sent` : e.nextStep >= program.steps.length ? 'Past the last step' : `Step ${e.nextStep + 1} of ${program.steps.length} next`;
  return (
    <>
      <ListStates what="the program's contacts" pending={enrollments.isPending} error={enrollments.error ?? change.error} empty={enrollments.isSuccess && rows.length === 0} emptyTitle="Nobody has joined yet">
        Share the join link above; a contact who sends it to your bot starts at step 1.
      </ListStates>
      {rows.length > 0 ? (
        <RecordTable caption={`Contacts in ${program.name}, newest first`} columns={['Contact', 'Where', 'State', 'Joined']} actions>
          {rows.map((e) => (
            <tr key={e.id}>
              <td className="doc-title">
                {e.contact.displayName} <span className="muted small">({channelWords[e.contact.channel] ?? e.contact.channel})</span>
                {e.answers?.length ? <p className="muted small">Answered: {e.answers.map((a) => `step ${a.stepIndex + 1} “${a.answer}”`).join('; ')}</p> : null}
              </td>
              <td data-label="Where">{where(e)}</td>
              <td data-label="State">
                <span className={`badge ${enrollmentBadge[e.status]}`}>{enrollmentWords[e.status]}</span>
              </td>
              <td data-label="Joined">
                <When at={e.enrolledAt} />
              </td>
              <RowActions>
                {e.status === 'active' ? (
                  <button type="button" className="button secondary small" aria-label={`Pause ${e.contact.displayName}`} disabled={change.isPending} onClick={() => change.mutate({ enrollmentId: e.id, action: 'pause' })}>
                    Pause
                  </button>
                ) : null}
                {e.status === 'paused' ? (
                  <button type="button" className="button secondary small" aria-label={`Resume ${e.contact.displayName}`} disabled={change.isPending} onClick={() => change.mutate({ enrollmentId: e.id, action: 'resume' })}>
                    Resume
                  </button>
                ) : null}
                {e.status === 'active' || e.status === 'paused' ? (
                  <ConfirmButton
                    name={`Take out ${e.contact.displayName}`}
                    question={`Take ${e.contact.displayName} out of “${program.name}”? They get no more of its steps.`}
                    disabled={change.isPending}
                    onConfirm={() => change.mutate({ enrollmentId: e.id, action: 'leave' })}
                  >
                    Take out
                  </ConfirmButton>
                ) : null}
              </RowActions>
            </tr>
          ))}
        </RecordTable>
      ) : null}
      <LoadMore pages={enrollments}>Show more contacts</LoadMore>
    </>
  );
}
