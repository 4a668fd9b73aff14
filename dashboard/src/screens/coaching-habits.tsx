import { useMutation, useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api';
import { useSave } from '../save-mutation';
import { ConfirmButton, DetailPanel, ErrorMessage, Field, FormProblems, ListStates } from '../ui';
import { DAYS, type Habit, type HabitSubscription } from './coaching.types';

function habitWhen(h: Habit): string {
  const days = h.daysOfWeek.length === 0 || h.daysOfWeek.length === 7 ? 'every day' : h.daysOfWeek.map((d) => DAYS[d - 1]!.slice(0, 3)).join(', ');
  return `${h.localTime}, ${days}${h.timesPerWeek ? `; target ${h.timesPerWeek} a week` : ''}`;
}

/** Habits: each with its time, days and how its subscribers keep it; an editor for a new or an existing habit. */
export function HabitsSection({ botId, habits }: { botId: string; habits: UseQueryResult<{ habits: Habit[] }> }) {
  const queries = useQueryClient();
  const id = useId();
  const [editing, setEditing] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (habitId: string) => api(`/v1/bots/${botId}/habits/${habitId}`, { method: 'DELETE' }),
    onSuccess: (_, habitId) => {
      if (editing === habitId) setEditing(null);
      return queries.invalidateQueries({ queryKey: ['habits', botId] });
    },
  });
  const list = habits.data?.habits ?? [];
  const edited = list.find((h) => h.id === editing);
  return (
    <section aria-labelledby={`${id}-habits`} className="panel">
      <h2 id={`${id}-habits`}>Habits</h2>
      <ListStates what="the habits" pending={habits.isPending} error={habits.error ?? remove.error} empty={habits.isSuccess && list.length === 0} emptyTitle="No habits yet">
        Create one below; each subscriber is asked at its time, in their own time zone, whether they did it.
      </ListStates>
      {list.length > 0 ? (
        <ul className="cards">
          {list.map((h) => (
            <li key={h.id} className="card toolbar">
              <span>
                <span className="card-title">{h.name}</span>
                <br />
                <span className="muted">{habitWhen(h)}</span>
                <br />
                <HabitAdherence botId={botId} habitId={h.id} />
              </span>
              <span className="row-actions">
                <button type="button" className="button secondary small" aria-label={`Edit habit ${h.name}`} onClick={() => setEditing(h.id)}>
                  Edit
                </button>
                <ConfirmButton
                  name={`Delete habit ${h.name}`}
                  question={`Delete “${h.name}” and its check-ins? Its subscribers are asked no more.`}
                  disabled={remove.isPending}
                  onConfirm={() => remove.mutate(h.id)}
                >
                  Delete
                </ConfirmButton>
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      {edited ? (
        <DetailPanel key={edited.id} title={`Edit “${edited.name}”`} onClose={() => setEditing(null)}>
          <HabitForm botId={botId} habit={edited} onSaved={() => setEditing(null)} />
        </DetailPanel>
      ) : null}
      <h3 className="sub-heading">New habit</h3>
      <HabitForm botId={botId} />
    </section>
  );
}

/** "3 subscribed · done 12 of 20 due days in the last 30 (60%)", from each subscriber's own local days. */
function HabitAdherence({ botId, habitId }: { botId: string; habitId: string }) {
  const subscriptions = useQuery({
    queryKey: ['habit-subscriptions', botId, habitId],
    queryFn: () => api<{ subscriptions: HabitSubscription[] }>(`/v1/bots/${botId}/habits/${habitId}/subscriptions`),
  });
  if (subscriptions.error) return <ErrorMessage error={subscriptions.error} />;
  if (!subscriptions.data) return null;
  const active = subscriptions.data.subscriptions.filter((s) => s.status === 'active');
  if (active.length === 0) return <span className="muted small">Nobody subscribed yet: contacts opt in from the bot's habit button or command.</span>;
  const done = active.reduce((sum, s) => sum + (s.stats?.last30.done ?? 0), 0);
  const due = active.reduce((sum, s) => sum + (s.stats?.last30.due ?? 0), 0);
  const unit = active[0]?.stats?.streakUnit === 'weeks' ? 'weeks' : 'days';
  return (
    <span className="small">
      {active.length} subscribed · {due ? `done ${done} of ${due} due ${unit} in the last 30 days (${Math.round((done / due) * 100)}%)` : 'no check-in due yet'}
    </span>
  );
}

/** A habit's name, local time, weekdays and weekly target; a new one, or changes to `habit`. */
function HabitForm({ botId, habit, onSaved }: { botId: string; habit?: Habit; onSaved?: () => void }) {
  const id = useId();
  const [name, setName] = useState(habit?.name ?? '');
  const [time, setTime] = useState(habit?.localTime ?? '08:00');
  const [days, setDays] = useState<number[]>(habit && habit.daysOfWeek.length < 7 ? habit.daysOfWeek : []);
  const [perWeek, setPerWeek] = useState(habit?.timesPerWeek ? String(habit.timesPerWeek) : '');
  const [problem, setProblem] = useState('');
  const save = useSave<{ name: string; localTime: string; daysOfWeek?: number[]; timesPerWeek?: number | null }>(`/v1/bots/${botId}/habits`, habit?.id, ['habits', botId], () => {
    if (habit) return onSaved?.();
    setName('');
    setDays([]);
    setPerWeek('');
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return setProblem('Name the habit.');
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) return setProblem('The time is a 24-hour HH:MM, e.g. 08:30.');
    if (perWeek && !/^[1-7]$/.test(perWeek)) return setProblem('Times a week is a number from 1 to 7.');
    if (perWeek && days.length && Number(perWeek) > days.length) return setProblem('Times a week cannot be more than the days ticked.');
    setProblem('');
    // No day ticked means every day; a change says so with all seven, since the API keeps absent fields.
    const daysOfWeek = days.length ? [...days].sort() : habit ? [1, 2, 3, 4, 5, 6, 7] : undefined;
    const timesPerWeek = perWeek ? Number(perWeek) : habit ? null : undefined;
    save.mutate({ name: name.trim(), localTime: time, ...(daysOfWeek ? { daysOfWeek } : {}), ...(timesPerWeek !== undefined ? { timesPerWeek } : {}) });
  };
  return (
    <form onSubmit={submit} noValidate aria-label={habit ? `Edit habit ${habit.name}` : 'New habit'}>
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
      <button type="submit" className="button" disabled={save.isPending}>
        {habit ? 'Save habit' : 'Create habit'}
      </button>
      <FormProblems problem={problem} error={save.error} />
    </form>
  );
}
