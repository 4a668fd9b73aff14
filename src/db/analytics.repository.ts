import type pg from 'pg';
import {
  FIGURES_VERSION,
  UnknownTimeZoneError,
  type AnalyticsStore,
  type ComputedDay,
  type DayFigures,
  type DayHabit,
  type DayQuestion,
  type ProgramCohort,
} from '../coaching/analytics.service.js';

/** How many question groups a day keeps per list: the range's lists are merged from them. */
export const DAY_QUESTION_CAP = 50;

const ISO_SQL = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const QUESTION_JSON = `jsonb_build_object('key', key, 'text', text, 'asked', asked, 'uncovered', uncovered, 'lastAskedAt', ${ISO_SQL('last_at')})`;

// $1 bot, $2 time zone, $3..$4 the local dates, $5 the question cap. Every row is bucketed by its
// local date in $2, so a day is 23 or 25 hours long across a DST change. Each part reads one index
// range of the bot: inbound messages by arrival, the ledger by creation and by sending, users' turns.
const DAYS_SQL = `
WITH days AS (
  SELECT $3::date + n AS day, (($3::date + n + 1)::timestamp AT TIME ZONE $2) AS end_at
    FROM generate_series(0, $4::date - $3::date) n
),
bounds AS (
  SELECT ($3::date::timestamp AT TIME ZONE $2) AS start_at, (($4::date + 1)::timestamp AT TIME ZONE $2) AS end_at
),
inbound_pairs AS (
  -- One row per (day, conversation): a conversation is one contact's, so contacts are counted over these.
  SELECT (i.received_at AT TIME ZONE $2)::date AS day, i.conversation_id, i.contact_id, count(*)::int AS messages
    FROM public.inbound_messages i, bounds b
   WHERE i.bot_id = $1 AND i.received_at >= b.start_at AND i.received_at < b.end_at
     AND i.kind NOT IN ('contact_status', 'edited', 'reaction')
   GROUP BY 1, 2, 3
),
inbound AS (
  SELECT day, sum(messages)::int AS messages_in, count(*)::int AS conversations, count(DISTINCT contact_id)::int AS contacts
    FROM inbound_pairs GROUP BY day
),
sent AS (
  -- Sent messages are final: sent_at is set once, with the reply's latency when it answered a user's message.
  SELECT (o.sent_at AT TIME ZONE $2)::date AS day, count(*)::int AS messages_out,
         percentile_disc(0.5) WITHIN GROUP (ORDER BY o.reply_latency_ms) AS p50,
         percentile_disc(0.95) WITHIN GROUP (ORDER BY o.reply_latency_ms) AS p95
    FROM public.outbound_messages o, bounds b
   WHERE o.bot_id = $1 AND o.sent_at >= b.start_at AND o.sent_at < b.end_at AND o.sent_at IS NOT NULL
   GROUP BY 1
),
ledger AS (
  SELECT (o.created_at AT TIME ZONE $2)::date AS day,
         count(*) FILTER (WHERE o.status = 'pending')::int AS pending,
         count(*) FILTER (WHERE o.status = 'sending')::int AS sending,
         count(*) FILTER (WHERE o.status = 'sent')::int AS sent,
         count(*) FILTER (WHERE o.status = 'failed')::int AS failed
    FROM public.outbound_messages o, bounds b
   WHERE o.bot_id = $1 AND o.created_at >= b.start_at AND o.created_at < b.end_at
   GROUP BY 1
),
asked AS (
  SELECT (t.created_at AT TIME ZONE $2)::date AS day, t.created_at, t.uncovered, t.status, t.question_key
    FROM public.turns t, bounds b
   WHERE t.bot_id = $1 AND t.kind = 'message' AND t.created_at >= b.start_at AND t.created_at < b.end_at
),
turn_counts AS (
  SELECT day, count(*) FILTER (WHERE uncovered)::int AS uncovered, count(*) FILTER (WHERE status = 'processing')::int AS processing
    FROM asked GROUP BY day
),
groups AS (
  SELECT day, question_key AS key, count(*)::int AS asked, count(*) FILTER (WHERE uncovered)::int AS uncovered, max(created_at) AS last_at
    FROM asked
   WHERE question_key <> ''
   GROUP BY day, question_key
),
ranked AS (
  SELECT * FROM (
    SELECT g.*, row_number() OVER (PARTITION BY day ORDER BY asked DESC, last_at DESC) AS by_asked,
           row_number() OVER (PARTITION BY day ORDER BY uncovered DESC, last_at DESC) AS by_uncovered
      FROM groups g
  ) r
   WHERE by_asked <= $5 OR (uncovered > 0 AND by_uncovered <= $5)
),
worded AS (
  -- The latest wording of each group kept: the turn asked at the group's last time.
  SELECT r.*, w.text
    FROM ranked r
    CROSS JOIN LATERAL (
      SELECT left(array_to_string(t.texts, ' '), 500) AS text FROM public.turns t
       WHERE t.bot_id = $1 AND t.kind = 'message' AND t.created_at = r.last_at AND t.question_key = r.key
       LIMIT 1
    ) w
),
questions AS (
  SELECT day,
         COALESCE(jsonb_agg(${QUESTION_JSON} ORDER BY by_asked) FILTER (WHERE by_asked <= $5), '[]'::jsonb) AS questions,
         COALESCE(jsonb_agg(${QUESTION_JSON} ORDER BY by_uncovered) FILTER (WHERE uncovered > 0 AND by_uncovered <= $5), '[]'::jsonb) AS uncovered_questions
    FROM worded GROUP BY day
)
SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
       COALESCE(i.conversations, 0) AS conversations, COALESCE(i.contacts, 0) AS contacts, COALESCE(i.messages_in, 0) AS messages_in,
       COALESCE(s.messages_out, 0) AS messages_out, s.p50, s.p95,
       COALESCE(tc.uncovered, 0) AS uncovered,
       COALESCE(l.pending, 0) AS pending, COALESCE(l.sending, 0) AS sending, COALESCE(l.sent, 0) AS sent, COALESCE(l.failed, 0) AS failed,
       COALESCE(q.questions, '[]'::jsonb) AS questions, COALESCE(q.uncovered_questions, '[]'::jsonb) AS uncovered_questions,
       -- Over (past commits of its last moments) with no reply or delivery under way; or over for a
       -- day, since a turn or delivery stuck that long is not coming back.
       (d.end_at < now() - interval '15 minutes'
         AND (COALESCE(l.pending + l.sending, 0) + COALESCE(tc.processing, 0) = 0 OR d.end_at < now() - interval '1 day')) AS settled
  FROM days d
  LEFT JOIN inbound i ON i.day = d.day
  LEFT JOIN sent s ON s.day = d.day
  LEFT JOIN ledger l ON l.day = d.day
  LEFT JOIN turn_counts tc ON tc.day = d.day
  LEFT JOIN questions q ON q.day = d.day
 ORDER BY d.day`;

// The same days' habit check-ins and programs, $1..$4 as above. A query of its own: joined into the
// one above, the planner's choices made a day's aggregation several times slower (measured at 1M
// messages). Each part reads one index range of the bot: habit asks by the local date they ask
// about and check-ins by theirs, program steps by when they went out, enrollments by when they
// started and ended.
const COACHING_SQL = `
WITH days AS (
  SELECT $3::date + n AS day FROM generate_series(0, $4::date - $3::date) n
),
bounds AS (
  SELECT ($3::date::timestamp AT TIME ZONE $2) AS start_at, (($4::date + 1)::timestamp AT TIME ZONE $2) AS end_at
),
asks AS (
  -- Habit asks by the contact's local date they are for (the key ends with it), not by when they went
  -- out: a contact's day is theirs whatever zone the range is read in. Only asks that are over count.
  SELECT right(p.effect_key, 10)::date AS day, split_part(p.effect_key, ':', 2)::uuid AS subscription_id, p.contact_id, p.status
    FROM public.proactive_sends p
   WHERE p.bot_id = $1 AND p.kind = 'habit_ask' AND p.status IN ('sent', 'skipped', 'failed')
     AND right(p.effect_key, 10) >= to_char($3::date, 'YYYY-MM-DD') AND right(p.effect_key, 10) <= to_char($4::date, 'YYYY-MM-DD')
),
answers AS (
  SELECT c.local_date AS day, c.subscription_id, c.status
    FROM public.habit_checkins c
   WHERE c.bot_id = $1 AND c.local_date >= $3::date AND c.local_date <= $4::date
),
habit_days AS (
  -- One row per subscription and local day asked or answered.
  SELECT COALESCE(a.day, c.day) AS day, COALESCE(a.subscription_id, c.subscription_id) AS subscription_id,
         a.status = 'sent' AS asked, a.contact_id, c.status AS answer
    FROM asks a FULL JOIN answers c ON c.subscription_id = a.subscription_id AND c.day = a.day
),
habit_counts AS (
  -- Due, as in a subscriber's own adherence: a day done, or a day asked that is over for the contact
  -- (today, still open, neither counts nor breaks anything). Two days after a UTC date every zone is past it.
  SELECT h.day, s.habit_id,
         count(*) FILTER (WHERE h.asked)::int AS asked,
         count(*) FILTER (WHERE h.answer = 'done')::int AS done,
         count(*) FILTER (WHERE h.answer = 'skipped')::int AS skipped,
         count(*) FILTER (WHERE h.answer = 'done' OR h.day < (now() AT TIME ZONE 'UTC')::date - 1
           OR ((h.day + 1)::timestamp AT TIME ZONE COALESCE((SELECT cc.time_zone FROM public.contact_coaching cc WHERE cc.contact_id = h.contact_id), 'UTC')) <= now())::int AS due
    FROM habit_days h
    JOIN public.habit_subscriptions s ON s.id = h.subscription_id AND s.bot_id = $1
   GROUP BY h.day, s.habit_id
),
check_ins AS (
  SELECT day, sum(asked)::int AS asked, sum(due)::int AS due, sum(done)::int AS done, sum(skipped)::int AS skipped,
         jsonb_agg(jsonb_build_object('habitId', habit_id, 'asked', asked, 'due', due, 'done', done, 'skipped', skipped) ORDER BY habit_id) AS habits
    FROM habit_counts GROUP BY day
),
enrolled AS (
  SELECT (e.enrolled_at AT TIME ZONE $2)::date AS day, count(*)::int AS enrolled
    FROM public.program_enrollments e, bounds b
   WHERE e.bot_id = $1 AND e.enrolled_at >= b.start_at AND e.enrolled_at < b.end_at
   GROUP BY 1
),
ended AS (
  -- An ended enrollment is changed no more: its last change is when it ended.
  SELECT (e.updated_at AT TIME ZONE $2)::date AS day,
         count(*) FILTER (WHERE e.status = 'completed')::int AS completed, count(*) FILTER (WHERE e.status = 'left')::int AS left_count
    FROM public.program_enrollments e, bounds b
   WHERE e.bot_id = $1 AND e.status IN ('completed', 'left') AND e.updated_at >= b.start_at AND e.updated_at < b.end_at
   GROUP BY 1
),
steps AS (
  SELECT (p.settled_at AT TIME ZONE $2)::date AS day, count(*)::int AS steps_sent
    FROM public.proactive_sends p, bounds b
   WHERE p.bot_id = $1 AND p.kind = 'program_step' AND p.settled_at IS NOT NULL AND p.status = 'sent'
     AND p.settled_at >= b.start_at AND p.settled_at < b.end_at
   GROUP BY 1
)
SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
       COALESCE(ci.asked, 0) AS asked, COALESCE(ci.due, 0) AS due, COALESCE(ci.done, 0) AS done, COALESCE(ci.skipped, 0) AS skipped,
       COALESCE(ci.habits, '[]'::jsonb) AS habits,
       COALESCE(en.enrolled, 0) AS enrolled, COALESCE(st.steps_sent, 0) AS steps_sent,
       COALESCE(ed.completed, 0) AS completed, COALESCE(ed.left_count, 0) AS left_count,
       -- A day of check-ins waits until it is over in every zone (UTC-12 ends it at noon UTC the next
       -- day) and an ask quiet hours moved to the next morning has gone out. A later answer drops
       -- the kept day (see the habit repository), so it is aggregated again.
       (ci.day IS NULL OR d.day < (now() AT TIME ZONE 'UTC')::date - 1) AS settled
  FROM days d
  LEFT JOIN check_ins ci ON ci.day = d.day
  LEFT JOIN enrolled en ON en.day = d.day
  LEFT JOIN ended ed ON ed.day = d.day
  LEFT JOIN steps st ON st.day = d.day
 ORDER BY d.day`;

interface DayRow {
  date: string;
  conversations: number;
  contacts: number;
  messages_in: number;
  messages_out: number;
  p50: string | null;
  p95: string | null;
  uncovered: number;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  questions: DayQuestion[];
  uncovered_questions: DayQuestion[];
  settled: boolean;
}

interface CoachingRow {
  date: string;
  asked: number;
  due: number;
  done: number;
  skipped: number;
  habits: DayHabit[];
  enrolled: number;
  steps_sent: number;
  completed: number;
  left_count: number;
  settled: boolean;
}

// $1 bot, $2 time zone, $3..$4 the local dates: enrollments started in the range, as they stand now.
const PROGRAMS_SQL = `
SELECT p.id, p.name, count(e.id)::int AS enrolled,
       count(e.id) FILTER (WHERE e.status = 'completed')::int AS completed, count(e.id) FILTER (WHERE e.status = 'left')::int AS "left"
  FROM public.programs p
  LEFT JOIN public.program_enrollments e
    ON e.program_id = p.id AND e.bot_id = $1
   AND e.enrolled_at >= ($3::date::timestamp AT TIME ZONE $2) AND e.enrolled_at < (($4::date + 1)::timestamp AT TIME ZONE $2)
 WHERE p.bot_id = $1
 GROUP BY p.id
 ORDER BY min(p.created_at), p.id`;

/** The store's error for a zone the database does not know; other errors as they are. */
function zoneError(err: unknown, timeZone: string): unknown {
  // invalid_parameter_value: the server's zone database lacks a zone the runtime knows.
  if ((err as { code?: string }).code === '22023' && /time zone/i.test((err as Error).message)) return new UnknownTimeZoneError(timeZone);
  return err;
}

const latency = (value: string | null) => (value === null ? null : Number(value));

/** Per-day figures of a bot aggregated from its indexed rows, and the kept figures of days that are over. */
export class AnalyticsRepository implements AnalyticsStore {
  constructor(private readonly pool: pg.Pool) {}

  async keptDays(botId: string, timeZone: string, from: string, to: string, snapshotSeconds: number): Promise<DayFigures[]> {
    const { rows } = await this.pool.query<{ figures: DayFigures }>(
      `SELECT figures FROM public.analytics_days
        WHERE bot_id = $1 AND time_zone = $2 AND day BETWEEN $3::date AND $4::date AND version = $6
          AND (settled OR computed_at > now() - $5 * interval '1 second')
        ORDER BY day`,
      [botId, timeZone, from, to, snapshotSeconds, FIGURES_VERSION],
    );
    return rows.map((r) => r.figures);
  }

  async computeDays(botId: string, timeZone: string, from: string, to: string): Promise<ComputedDay[]> {
    let rows: DayRow[];
    let coaching: CoachingRow[];
    try {
      [{ rows }, { rows: coaching }] = await Promise.all([
        this.pool.query<DayRow>(DAYS_SQL, [botId, timeZone, from, to, DAY_QUESTION_CAP]),
        this.pool.query<CoachingRow>(COACHING_SQL, [botId, timeZone, from, to]),
      ]);
    } catch (err) {
      throw zoneError(err, timeZone);
    }
    const byDate = new Map(coaching.map((c) => [c.date, c]));
    return rows.map((r) => {
      const c = byDate.get(r.date) as CoachingRow;
      return {
        settled: r.settled && c.settled,
        figures: {
          date: r.date,
          conversations: r.conversations,
          activeContacts: r.contacts,
          messagesIn: r.messages_in,
          messagesOut: r.messages_out,
          replyLatencyMs: { p50: latency(r.p50), p95: latency(r.p95) },
          uncovered: r.uncovered,
          deliveries: { pending: r.pending, sending: r.sending, sent: r.sent, failed: r.failed },
          checkIns: { asked: c.asked, due: c.due, done: c.done, skipped: c.skipped, adherence: c.due ? c.done / c.due : null },
          programs: { enrolled: c.enrolled, stepsSent: c.steps_sent, completed: c.completed, left: c.left_count },
          habits: c.habits,
          questions: r.questions,
          uncoveredQuestions: r.uncovered_questions,
        },
      };
    });
  }

  async keepDays(botId: string, timeZone: string, days: ComputedDay[]): Promise<void> {
    // A settled day of this shape is never replaced; a snapshot is, by a newer one or the settled
    // figures, and so is a day kept with an older shape.
    await this.pool.query(
      `INSERT INTO public.analytics_days (bot_id, time_zone, day, figures, settled, version)
       SELECT $1, $2, (d->'figures'->>'date')::date, d->'figures', (d->>'settled')::boolean, $4 FROM jsonb_array_elements($3::jsonb) d
       ON CONFLICT (bot_id, time_zone, day) DO UPDATE SET figures = EXCLUDED.figures, settled = EXCLUDED.settled, version = EXCLUDED.version, computed_at = now()
        WHERE NOT public.analytics_days.settled OR public.analytics_days.version <> EXCLUDED.version`,
      [botId, timeZone, JSON.stringify(days), FIGURES_VERSION],
    );
  }

  async coaching(botId: string, timeZone: string, from: string, to: string): Promise<{ habits: Array<{ id: string; name: string }>; programs: ProgramCohort[] }> {
    const habits = await this.pool.query<{ id: string; name: string }>(`SELECT id, name FROM public.habits WHERE bot_id = $1 ORDER BY created_at, id`, [botId]);
    try {
      const programs = await this.pool.query<ProgramCohort>(PROGRAMS_SQL, [botId, timeZone, from, to]);
      return { habits: habits.rows, programs: programs.rows };
    } catch (err) {
      throw zoneError(err, timeZone);
    }
  }
}
