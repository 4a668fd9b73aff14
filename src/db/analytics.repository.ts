import type pg from 'pg';
import { UnknownTimeZoneError, type AnalyticsStore, type ComputedDay, type DayFigures, type DayQuestion } from '../coaching/analytics.service.js';

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

const latency = (value: string | null) => (value === null ? null : Number(value));

/** Per-day figures of a bot aggregated from its indexed rows, and the kept figures of days that are over. */
export class AnalyticsRepository implements AnalyticsStore {
  constructor(private readonly pool: pg.Pool) {}

  async keptDays(botId: string, timeZone: string, from: string, to: string, snapshotSeconds: number): Promise<DayFigures[]> {
    const { rows } = await this.pool.query<{ figures: DayFigures }>(
      `SELECT figures FROM public.analytics_days
        WHERE bot_id = $1 AND time_zone = $2 AND day BETWEEN $3::date AND $4::date
          AND (settled OR computed_at > now() - $5 * interval '1 second')
        ORDER BY day`,
      [botId, timeZone, from, to, snapshotSeconds],
    );
    return rows.map((r) => r.figures);
  }

  async computeDays(botId: string, timeZone: string, from: string, to: string): Promise<ComputedDay[]> {
    let rows: DayRow[];
    try {
      ({ rows } = await this.pool.query<DayRow>(DAYS_SQL, [botId, timeZone, from, to, DAY_QUESTION_CAP]));
    } catch (err) {
      // invalid_parameter_value: the server's zone database lacks a zone the runtime knows.
      if ((err as { code?: string }).code === '22023' && /time zone/i.test((err as Error).message)) throw new UnknownTimeZoneError(timeZone);
      throw err;
    }
    return rows.map((r) => ({
      settled: r.settled,
      figures: {
        date: r.date,
        conversations: r.conversations,
        activeContacts: r.contacts,
        messagesIn: r.messages_in,
        messagesOut: r.messages_out,
        replyLatencyMs: { p50: latency(r.p50), p95: latency(r.p95) },
        uncovered: r.uncovered,
        deliveries: { pending: r.pending, sending: r.sending, sent: r.sent, failed: r.failed },
        questions: r.questions,
        uncoveredQuestions: r.uncovered_questions,
      },
    }));
  }

  async keepDays(botId: string, timeZone: string, days: ComputedDay[]): Promise<void> {
    // A settled day is never replaced; a snapshot is, by a newer one or the settled figures.
    await this.pool.query(
      `INSERT INTO public.analytics_days (bot_id, time_zone, day, figures, settled)
       SELECT $1, $2, (d->'figures'->>'date')::date, d->'figures', (d->>'settled')::boolean FROM jsonb_array_elements($3::jsonb) d
       ON CONFLICT (bot_id, time_zone, day) DO UPDATE SET figures = EXCLUDED.figures, settled = EXCLUDED.settled, computed_at = now()
        WHERE NOT public.analytics_days.settled`,
      [botId, timeZone, JSON.stringify(days)],
    );
  }
}
