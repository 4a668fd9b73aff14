import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useOutletContext } from 'react-router';
import { api } from '../api';
import { LineChart } from '../charts';
import type { Bot } from '../types';
import { EmptyState, ErrorMessage, Loading, PageHeading, When } from '../ui';

interface QuestionGroup {
  question: string;
  count: number;
  uncovered: number;
  lastAskedAt: string;
}

interface Analytics {
  timeZone: string;
  from: string;
  to: string;
  days: Array<{
    date: string;
    conversations: number;
    activeContacts: number;
    messagesIn: number;
    messagesOut: number;
    replyLatencyMs: { p50: number | null; p95: number | null };
    uncovered: number;
    checkIns: { due: number; done: number; adherence: number | null };
    programs: { enrolled: number; stepsSent: number; completed: number; left: number };
  }>;
  topQuestions: QuestionGroup[];
  uncoveredQuestions: QuestionGroup[];
  habits: Array<{ habitId: string; name: string; due: number; done: number; skipped: number; adherence: number | null }>;
  programs: Array<{ programId: string; name: string; enrolled: number; completed: number; left: number; completionRate: number | null }>;
}

const RANGES = [7, 30, 90] as const;

/** YYYY-MM-DD of a date in the zone `tz`. */
function localDate(at: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const percent = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 100)} %`);
const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

/** The bot's activity per day in the creator's time zone, and the questions its material does not answer yet. */
export function AnalyticsScreen() {
  const bot = useOutletContext<Bot>();
  const [range, setRange] = useState<(typeof RANGES)[number]>(30);
  const rangeId = useId();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const today = new Date();
  const to = localDate(today, tz);
  const from = localDate(new Date(today.getTime() - (range - 1) * 86_400_000), tz);
  const analytics = useQuery({
    queryKey: ['analytics', bot.id, from, to, tz],
    queryFn: () => api<Analytics>(`/v1/bots/${bot.id}/analytics?${new URLSearchParams({ from, to, tz })}`),
  });
  const data = analytics.data;
  const days = data?.days.map((d) => d.date) ?? [];
  return (
    <>
      <PageHeading title={`Analytics · ${bot.name}`}>Analytics</PageHeading>
      <div className="inline-form">
        <label htmlFor={rangeId}>Period</label>
        <select id={rangeId} value={range} onChange={(e) => setRange(Number(e.target.value) as (typeof RANGES)[number])}>
          {RANGES.map((r) => (
            <option key={r} value={r}>
              Last {r} days
            </option>
          ))}
        </select>
        {data ? <p className="muted small">Days as in {data.timeZone}.</p> : null}
      </div>
      {analytics.isPending ? <Loading what="analytics" /> : null}
      <ErrorMessage error={analytics.error} />
      {data ? (
        <>
          <section aria-labelledby="uncovered-heading" className="panel">
            <h2 id="uncovered-heading">What to write next</h2>
            {data.uncoveredQuestions.length === 0 ? (
              <EmptyState title="No unanswered questions">
                When users ask something your material does not cover, it is listed here, most asked first, so you know what to add to the knowledge base.
              </EmptyState>
            ) : (
              <>
                <p className="muted">Questions your material did not answer, most asked first. Add a document that answers them to the knowledge base.</p>
                <QuestionList label="Questions without an answer" groups={data.uncoveredQuestions} />
              </>
            )}
          </section>
          <div className="chart-grid">
            <LineChart
              title="Messages"
              summary={`${sum(data.days.map((d) => d.messagesIn))} received and ${sum(data.days.map((d) => d.messagesOut))} sent from ${data.from} to ${data.to}`}
              days={days}
              series={[
                { label: 'From users', values: data.days.map((d) => d.messagesIn), tone: 1 },
                { label: 'From the bot', values: data.days.map((d) => d.messagesOut), tone: 2 },
              ]}
            />
            <LineChart
              title="Conversations"
              summary={`${sum(data.days.map((d) => d.conversations))} conversation-days, up to ${Math.max(0, ...data.days.map((d) => d.activeContacts))} people a day`}
              days={days}
              series={[
                { label: 'Conversations', values: data.days.map((d) => d.conversations), tone: 1 },
                { label: 'People who wrote', values: data.days.map((d) => d.activeContacts), tone: 3 },
              ]}
            />
            <LineChart
              title="Reply time"
              summary={latencySummary(data)}
              days={days}
              format={seconds}
              series={[
                { label: 'Typical (median)', values: data.days.map((d) => d.replyLatencyMs.p50), tone: 1 },
                { label: 'Slowest 5 %', values: data.days.map((d) => d.replyLatencyMs.p95), tone: 2 },
              ]}
            />
            <LineChart
              title="Check-in adherence"
              summary={`${sum(data.days.map((d) => d.checkIns.done))} of ${sum(data.days.map((d) => d.checkIns.due))} check-ins done`}
              days={days}
              max={1}
              format={(n) => `${Math.round(n * 100)} %`}
              series={[{ label: 'Done of due', values: data.days.map((d) => d.checkIns.adherence), tone: 3 }]}
            />
            <LineChart
              title="Programs"
              summary={`${sum(data.days.map((d) => d.programs.enrolled))} enrolled, ${sum(data.days.map((d) => d.programs.completed))} completed`}
              days={days}
              series={[
                { label: 'Enrolled', values: data.days.map((d) => d.programs.enrolled), tone: 1 },
                { label: 'Completed', values: data.days.map((d) => d.programs.completed), tone: 3 },
                { label: 'Left', values: data.days.map((d) => d.programs.left), tone: 2 },
              ]}
            />
          </div>
          <section aria-labelledby="outcomes-heading" className="panel">
            <h2 id="outcomes-heading">Habits and programs</h2>
            {data.habits.length === 0 && data.programs.length === 0 ? (
              <EmptyState title="No habits or programs yet">Create a habit or a program through the API to see which of them your users keep up.</EmptyState>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Results of each habit and program in the period</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Result</th>
                      <th scope="col">Rate</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.habits.map((h) => (
                      <tr key={h.habitId}>
                        <th scope="row">{h.name}</th>
                        <td>Habit</td>
                        <td>
                          {h.done} of {h.due} check-ins done, {h.skipped} skipped
                        </td>
                        <td>{percent(h.adherence)}</td>
                      </tr>
                    ))}
                    {data.programs.map((p) => (
                      <tr key={p.programId}>
                        <th scope="row">{p.name}</th>
                        <td>Program</td>
                        <td>
                          {p.completed} of {p.enrolled} completed, {p.left} left
                        </td>
                        <td>{percent(p.completionRate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="top-heading" className="panel">
            <h2 id="top-heading">Most asked</h2>
            {data.topQuestions.length === 0 ? (
              <EmptyState title="No questions yet">Share the bot under Publish; what people ask shows here.</EmptyState>
            ) : (
              <QuestionList label="Most asked questions" groups={data.topQuestions} />
            )}
          </section>
        </>
      ) : null}
    </>
  );
}

function latencySummary(data: Analytics): string {
  const p50s = data.days.map((d) => d.replyLatencyMs.p50).filter((v): v is number => v !== null);
  if (!p50s.length) return 'no replies in the period';
  return `a typical reply took ${seconds(p50s.sort((a, b) => a - b)[Math.floor(p50s.length / 2)]!)} (the middle of the days with replies)`;
}

function QuestionList({ label, groups }: { label: string; groups: QuestionGroup[] }) {
  return (
    <ol className="questions" aria-label={label}>
      {groups.map((g) => (
        <li key={g.question + g.lastAskedAt}>
          <span className="question">{g.question}</span>{' '}
          <span className="muted small">
            asked {g.count} {g.count === 1 ? 'time' : 'times'}
            {g.uncovered ? `, ${g.uncovered} without an answer` : ''} · last <When at={g.lastAskedAt} />
          </span>
        </li>
      ))}
    </ol>
  );
}
