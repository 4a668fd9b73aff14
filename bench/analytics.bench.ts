/**
 * Creator analytics at scale on the real PostgreSQL: one bot with 100k contacts and 1M messages over
 * the last 30 days (each answered: 1M turns and 1M ledger rows), a fifth of the contacts following one
 * of 5 daily habits (an ask every day since they joined, most answered) and a tenth enrolled in one of 3
 * five-step programs (a step a day; some leave, most finish); then the analytics of those 30 days in a
 * time zone, next to a plain scan of the same inbound rows, in the same run.
 *
 *   npm run bench:analytics [-- --messages 1000000 --contacts 100000 --runs 50 --tz Europe/Berlin --keep --database NAME]
 *
 * Reported: the seed time; the first request (no day kept yet: every day aggregated from its rows);
 * p50/p95 of repeated requests (days that are over read from their kept figures, today from its
 * snapshot of up to a minute); the same with today aggregated again on every request (what the request
 * that refreshes the snapshot costs; it grows through the day); one whole day aggregated from its rows
 * (that cost just before midnight); all 30 days aggregated from the rows; the first and second request
 * of a new pool and service (a restart: connections and plans made afresh); the plain scan. Last line:
 * `analytics_p95_ms=<v> scan_p95_ms=<v> ratio=<v>`. Writes bench/results/analytics-<timestamp>.json.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { BotService } from '../src/bots/bot.service.js';
import { AnalyticsService } from '../src/coaching/analytics.service.js';
import { AnalyticsRepository } from '../src/db/analytics.repository.js';
import { createPool } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { percentile, saveResults } from './bench-report.js';
import { withPgClient } from '../test/support/test-database.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    contacts: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '50' },
    tz: { type: 'string', default: 'Europe/Berlin' },
    // Leaves the database in place (its name is printed) for EXPLAIN ANALYZE afterwards.
    keep: { type: 'boolean', default: false },
    // Measures a database seeded (and kept) by an earlier run instead of seeding one; it is kept too.
    database: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const CONTACTS = Number(args.contacts);
const RUNS = Number(args.runs);
const TZ = args.tz;
const adminUrl = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const admin = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withPgClient(adminUrl, work);

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await work();
  return [value, performance.now() - start];
}

/**
 * Bulk-loads the bot's month: contacts with skewed activity (a few write a lot), question texts drawn
 * with Zipf-like frequencies over 3,000 phrasings plus 30% one-off messages, 8% uncovered answers,
 * log-normal reply latency around 3 s, 2% failed deliveries. Foreign keys are not checked while loading.
 */
async function seed(pool: pg.Pool, botId: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    await client.query(
      `INSERT INTO public.contacts (bot_id, channel, external_id) SELECT $1, 'telegram', 'c' || g FROM generate_series(1, $2) g`,
      [botId, CONTACTS],
    );
    await client.query(
      `INSERT INTO public.conversations (bot_id, contact_id, channel, external_chat_id)
       SELECT $1, id, 'telegram', external_id FROM public.contacts WHERE bot_id = $1`,
      [botId],
    );
    await client.query(
      `CREATE TEMP TABLE convs AS
       SELECT row_number() OVER (ORDER BY id) AS n, id AS conversation_id, contact_id FROM public.conversations WHERE bot_id = $1`,
      [botId],
    );
    await client.query(
      `CREATE TEMP TABLE seed AS
       SELECT s.g, gen_random_uuid() AS turn_id, c.conversation_id, c.contact_id, s.at,
              CASE WHEN s.r_text < 0.3 THEN 'Message ' || s.g || ' about my day'
                   ELSE (ARRAY['How do I ', 'how do i ', 'What about ', 'Can you explain '])[1 + s.k % 4] || 'topic ' || s.k || (CASE WHEN s.r_mark < 0.5 THEN '?' ELSE '' END)
              END AS text,
              s.r_uncovered < 0.08 AS uncovered,
              CASE WHEN s.r_status < 0.02 THEN 'failed' ELSE 'sent' END AS status,
              (exp(ln(3000) + 0.6 * sqrt(-2 * ln(greatest(s.u1, 1e-12))) * cos(2 * pi() * s.u2)) * interval '1 millisecond') AS latency
         FROM (
           SELECT g, 1 + floor(power(random(), 2) * $1)::int AS n, now() - random() * interval '30 days' AS at,
                  floor(power(random(), 2.5) * 3000)::int AS k, random() AS r_text, random() AS r_mark,
                  random() AS r_uncovered, random() AS r_status, random() AS u1, random() AS u2
             FROM generate_series(1, $2) g
         ) s
         JOIN convs c ON c.n = s.n`,
      [CONTACTS, MESSAGES],
    );
    await client.query(
      `INSERT INTO public.turns (id, bot_id, conversation_id, kind, status, texts, reply, uncovered, created_at, last_message_at, answered_at, updated_at)
       SELECT turn_id, $1, conversation_id, 'message', 'answered', ARRAY[text], 'A reply.', uncovered, at, at, at + latency, at + latency FROM seed`,
      [botId],
    );
    await client.query(
      `INSERT INTO public.inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at, turn_id)
       SELECT $1, 'telegram', 'm' || g, conversation_id, contact_id, 'text', text, '{}', at, turn_id FROM seed`,
      [botId],
    );
    await client.query(
      `INSERT INTO public.outbound_messages (bot_id, conversation_id, turn_id, status, text, attempts, created_at, updated_at, sent_at, reply_latency_ms)
       SELECT $1, conversation_id, turn_id, status, 'A reply.', 1, at, at + latency,
              CASE WHEN status = 'sent' THEN at + latency END, CASE WHEN status = 'sent' THEN round(extract(epoch FROM latency) * 1000)::bigint END
         FROM seed`,
      [botId],
    );
    await seedCoaching(client, botId);
    await client.query(`RESET session_replication_role`);
  } finally {
    client.release();
  }
  await pool.query('VACUUM ANALYZE');
}

/**
 * Habits and programs in proportion to the contacts: 5 daily habits, every fifth contact subscribed to
 * one since a day of the month (in one of four zones), asked at 07:00 local every day since (today's
 * ask still scheduled), 60% of the days done and 15% skipped; 3 programs of 5 daily steps, every tenth
 * contact enrolled at some moment of the month, a step delivered a day, 10% leaving after the second.
 */
async function seedCoaching(client: pg.PoolClient, botId: string): Promise<void> {
  await client.query(`INSERT INTO public.habits (bot_id, name, local_time) SELECT $1, 'Habit ' || g, '07:00' FROM generate_series(1, 5) g`, [botId]);
  await client.query(
    `CREATE TEMP TABLE subs AS
     SELECT gen_random_uuid() AS id, (SELECT array_agg(id ORDER BY name) FROM public.habits WHERE bot_id = $1)[1 + (c.n / 5) % 5] AS habit_id,
            c.contact_id, c.conversation_id, current_date - floor(random() * 30)::int AS started_on,
            (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + (c.n / 25) % 4] AS zone
       FROM convs c WHERE c.n % 5 = 0`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.contact_coaching (contact_id, bot_id, time_zone, time_zone_source) SELECT contact_id, $1, zone, 'user' FROM subs`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.habit_subscriptions (id, habit_id, bot_id, contact_id, conversation_id, started_on)
     SELECT id, habit_id, $1, contact_id, conversation_id, started_on FROM subs`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.proactive_sends (bot_id, contact_id, conversation_id, effect_key, kind, due_at, status, settled_at)
     SELECT $1, s.contact_id, s.conversation_id, 'habit:' || s.id || ':' || to_char(d, 'YYYY-MM-DD'), 'habit_ask', (d + time '07:00') AT TIME ZONE s.zone,
            CASE WHEN d::date < current_date THEN 'sent' ELSE 'scheduled' END,
            CASE WHEN d::date < current_date THEN (d + time '07:00') AT TIME ZONE s.zone END
       FROM subs s, generate_series(s.started_on, current_date, interval '1 day') d`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.habit_checkins (subscription_id, local_date, status, source, bot_id, recorded_at)
     SELECT id, day, CASE WHEN r < 0.6 THEN 'done' ELSE 'skipped' END, 'button', $1, (day + time '07:30') AT TIME ZONE zone
       FROM (SELECT s.id, s.zone, d::date AS day, random() AS r FROM subs s, generate_series(s.started_on, current_date - 1, interval '1 day') d) x
      WHERE r < 0.75`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.programs (bot_id, name, slug, steps)
     SELECT $1, 'Program ' || g, 'program-' || g, (SELECT jsonb_agg(jsonb_build_object('afterDays', 1, 'text', 'Step ' || i)) FROM generate_series(1, 5) i)
       FROM generate_series(1, 3) g`,
    [botId],
  );
  await client.query(
    `CREATE TEMP TABLE enr AS
     SELECT gen_random_uuid() AS id, (SELECT array_agg(id ORDER BY name) FROM public.programs WHERE bot_id = $1)[1 + (c.n / 10) % 3] AS program_id,
            c.contact_id, c.conversation_id, c.at, c.r, least(5, floor(extract(epoch FROM now() - c.at) / 86400)::int + 1) AS due_steps
       FROM (SELECT convs.*, now() - random() * interval '30 days' AS at, random() AS r FROM convs WHERE n % 10 = 3) c`,
    [botId],
  );
  await client.query(`ALTER TABLE enr ADD COLUMN sent int, ADD COLUMN status text`);
  await client.query(
    `UPDATE enr SET sent = CASE WHEN r < 0.1 THEN least(due_steps, 2) ELSE due_steps END,
                    status = CASE WHEN r < 0.1 AND due_steps >= 2 THEN 'left' WHEN due_steps = 5 THEN 'completed' ELSE 'active' END`,
  );
  await client.query(
    `INSERT INTO public.program_enrollments (id, program_id, bot_id, contact_id, conversation_id, status, next_step, enrolled_at, updated_at)
     SELECT id, program_id, $1, contact_id, conversation_id, status, sent, at,
            CASE status WHEN 'left' THEN at + interval '1 day 2 hours' ELSE at + (sent - 1) * interval '1 day' + interval '1 second' END
       FROM enr`,
    [botId],
  );
  await client.query(
    `INSERT INTO public.proactive_sends (bot_id, contact_id, conversation_id, effect_key, kind, due_at, status, settled_at)
     SELECT $1, e.contact_id, e.conversation_id, 'program:' || e.id || ':' || i, 'program_step', e.at + i * interval '1 day', 'sent', e.at + i * interval '1 day'
       FROM enr e, generate_series(0, e.sent - 1) i`,
    [botId],
  );
}

/** The date `days` before today in `tz`. */
function localDate(tz: string, daysBack: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) - daysBack * 86_400_000).toISOString().slice(0, 10);
}

const reused = args.database;
const name = reused ?? `bench_analytics_${randomBytes(4).toString('hex')}`;
if (!reused) await admin((c) => c.query(`CREATE DATABASE ${name}`));
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const pool = createPool(url.toString(), 4);
try {
  await migrate(pool);
  let seedMs = Number.NaN;
  if (!reused) {
    const { rows: creator } = await pool.query<{ id: string }>(
      `INSERT INTO public.creators (email, name, password_hash) VALUES ('bench@example.test', 'Bench', 'x') RETURNING id`,
    );
    await pool.query(`INSERT INTO public.bots (creator_id, name) VALUES ($1, 'Bench coach')`, [creator[0]!.id]);
  }
  const { rows: bot } = await pool.query<{ id: string; creator_id: string }>(`SELECT id, creator_id FROM public.bots WHERE name = 'Bench coach'`);
  const botId = bot[0]!.id;
  const creatorId = bot[0]!.creator_id;

  if (!reused) {
    console.log(`seeding ${MESSAGES} messages from ${CONTACTS} contacts over 30 days (turns and ledger rows alike)…`);
    [, seedMs] = await timed(() => seed(pool, botId));
    console.log(`  seeded in ${(seedMs / 1000).toFixed(1)} s`);
  }

  const repository = new AnalyticsRepository(pool);
  const bots = { get: async (_creator: string, id: string) => ({ id }) } as unknown as Pick<BotService, 'get'>;
  const service = new AnalyticsService({ store: repository, bots });
  const from = localDate(TZ, 29);
  const to = localDate(TZ, 0);
  const query = { from, to, tz: TZ };

  const [first, firstMs] = await timed(() => service.forBot(creatorId, botId, query));
  const messagesIn = first.days.reduce((sum, d) => sum + d.messagesIn, 0);
  const checkIns = first.days.reduce((sum, d) => sum + d.checkIns.done + d.checkIns.skipped, 0);
  const steps = first.days.reduce((sum, d) => sum + d.programs.stepsSent, 0);
  console.log(
    `first request (${from}..${to} ${TZ}; ${reused ? 'on the reused database, days kept before count as kept' : 'every day aggregated from its rows, finished days kept'}): ${firstMs.toFixed(0)} ms, ${messagesIn} messages in, ${checkIns} check-ins, ${steps} program steps`,
  );

  const analytics: number[] = [];
  for (let i = 0; i < RUNS; i++) analytics.push((await timed(() => service.forBot(creatorId, botId, query)))[1]);

  // A restart: a new pool and service, its first request and its second, while today's snapshot still
  // stands (as after the requests above): what connecting and planning afresh cost.
  const restarted = createPool(url.toString(), 4);
  let afterRestart: [number, number];
  try {
    const fresh = new AnalyticsService({ store: new AnalyticsRepository(restarted), bots });
    afterRestart = [(await timed(() => fresh.forBot(creatorId, botId, query)))[1], (await timed(() => fresh.forBot(creatorId, botId, query)))[1]];
  } finally {
    await restarted.end();
  }

  // Every request aggregating today's rows again: what a request costs when today's snapshot has expired.
  const live = new AnalyticsService({ store: repository, bots, snapshotSeconds: 0 });
  const liveToday: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 20); i++) liveToday.push((await timed(() => live.forBot(creatorId, botId, query)))[1]);

  // Today is aggregated live: its cost grows with the hour. A whole day (yesterday's) is what it costs just before midnight.
  const yesterday = localDate(TZ, 1);
  const wholeDay: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) wholeDay.push((await timed(() => repository.computeDays(botId, TZ, yesterday, yesterday)))[1]);

  const uncached: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) uncached.push((await timed(() => repository.computeDays(botId, TZ, from, to)))[1]);

  // The plain scan: the same inbound rows of the range, counted and their contacts told apart.
  const scan: number[] = [];
  const scanSql = `SELECT count(*), count(DISTINCT contact_id) FROM public.inbound_messages
                    WHERE bot_id = $1 AND received_at >= ($2::date::timestamp AT TIME ZONE $4) AND received_at < (($3::date + 1)::timestamp AT TIME ZONE $4)`;
  for (let i = 0; i < Math.min(RUNS, 10); i++) scan.push((await timed(() => pool.query(scanSql, [botId, from, to, TZ])))[1]);

  const figures = {
    benchmark: 'analytics',
    date: new Date().toISOString(),
    messages: MESSAGES,
    contacts: CONTACTS,
    timeZone: TZ,
    range: { from, to },
    seedSeconds: seedMs / 1000,
    firstRequestMs: firstMs,
    analytics: { p50: percentile(analytics, 0.5), p95: percentile(analytics, 0.95), n: analytics.length },
    analyticsTodayRecomputed: { p50: percentile(liveToday, 0.5), p95: percentile(liveToday, 0.95), n: liveToday.length },
    wholeDayFromRows: { p50: percentile(wholeDay, 0.5), p95: percentile(wholeDay, 0.95), n: wholeDay.length },
    aggregateFromRows: { p50: percentile(uncached, 0.5), p95: percentile(uncached, 0.95), n: uncached.length },
    scan: { p50: percentile(scan, 0.5), p95: percentile(scan, 0.95), n: scan.length },
    afterRestartMs: { first: afterRestart[0], second: afterRestart[1] },
    target: 'analytics p95 <= 100 ms',
  };
  console.log(`analytics (kept days + today's snapshot): p50 ${figures.analytics.p50.toFixed(1)} ms, p95 ${figures.analytics.p95.toFixed(1)} ms (n=${RUNS})`);
  console.log(
    `analytics, today aggregated again:     p50 ${figures.analyticsTodayRecomputed.p50.toFixed(1)} ms, p95 ${figures.analyticsTodayRecomputed.p95.toFixed(1)} ms (n=${liveToday.length}; at ${new Date().toISOString().slice(11, 16)} UTC)`,
  );
  console.log(`one whole day aggregated from rows: p50 ${figures.wholeDayFromRows.p50.toFixed(1)} ms, p95 ${figures.wholeDayFromRows.p95.toFixed(1)} ms`);
  console.log(`all 30 days aggregated from rows:   p50 ${figures.aggregateFromRows.p50.toFixed(1)} ms, p95 ${figures.aggregateFromRows.p95.toFixed(1)} ms`);
  console.log(`after a restart (new pool):         first ${afterRestart[0].toFixed(1)} ms, second ${afterRestart[1].toFixed(1)} ms`);
  console.log(`plain scan of the inbound rows:     p50 ${figures.scan.p50.toFixed(1)} ms, p95 ${figures.scan.p95.toFixed(1)} ms`);
  console.log(`saved ${saveResults('analytics', figures)}`);
  console.log(
    `analytics_p95_ms=${figures.analytics.p95.toFixed(1)} scan_p95_ms=${figures.scan.p95.toFixed(1)} ratio=${(figures.analytics.p95 / figures.scan.p95).toFixed(3)} today_recomputed_p95_ms=${figures.analyticsTodayRecomputed.p95.toFixed(1)} whole_day_p95_ms=${figures.wholeDayFromRows.p95.toFixed(1)} seed_s=${Number.isNaN(figures.seedSeconds) ? 'reused' : figures.seedSeconds.toFixed(0)}`,
  );
} finally {
  await pool.end();
  if (args.keep || reused) console.log(`kept database ${name}`);
  else await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
