import type { BotService } from '../bots/bot.service.js';
import { ValidationError } from '../errors/app.errors.js';

/** The longest range one request may ask for, in days (both ends included). */
export const MAX_RANGE_DAYS = 366;
/** The range when none is given: this many days up to today. */
export const DEFAULT_RANGE_DAYS = 30;
/**
 * How long the figures of a day still under way (today) stand before they are aggregated again:
 * a dashboard refreshing often costs one aggregation of today's rows per bot and zone this often.
 */
export const SNAPSHOT_SECONDS = 60;
/** How many grouped questions each list returns. */
export const TOP_QUESTIONS = 10;
export const UNCOVERED_QUESTIONS = 20;
/**
 * The shape of the day figures below. Kept days computed with another shape (before check-ins and
 * programs were counted) are not served: they are computed again and replaced.
 */
export const FIGURES_VERSION = 2;

/** Outgoing messages by ledger state, counted on the day they were created. */
export interface DeliveryCounts {
  pending: number;
  sending: number;
  sent: number;
  failed: number;
}

/**
 * Habit check-ins of one local day. Every figure follows the contact's own local date (the date the
 * ask was for, the date the check-in is kept under), whatever zone the range is read in: a DST change
 * or a contact across the date line never moves a check-in to another day.
 */
export interface CheckInCounts {
  /** Asks that went out for the day. */
  asked: number;
  /**
   * Subscription days that were due: asked (or owed an ask that could not go out) or answered "done".
   * An unanswered day counts once it is over for the contact, as in a subscriber's own adherence.
   */
  due: number;
  done: number;
  skipped: number;
  /** done / due; null when nothing was due. */
  adherence: number | null;
}

/** Programs on one local day of the requested zone. */
export interface ProgramCounts {
  /** Enrollments started. */
  enrolled: number;
  /** Program steps delivered. */
  stepsSent: number;
  /** Enrollments that finished their last step. */
  completed: number;
  /** Enrollments the contact (or the creator) ended. */
  left: number;
}

/** One habit's check-ins of a day, summed over the range into its summary. */
export interface DayHabit {
  habitId: string;
  asked: number;
  due: number;
  done: number;
  skipped: number;
}

/** A question as users wrote it (the latest wording of its group), grouped by its normalised text. */
export interface DayQuestion {
  /** The normalised text the group is keyed by: lower case, punctuation and spacing collapsed. */
  key: string;
  text: string;
  asked: number;
  uncovered: number;
  lastAskedAt: string;
}

/** One local day of a bot, as the store computes it. */
export interface DayFigures {
  /** YYYY-MM-DD in the requested time zone. */
  date: string;
  conversations: number;
  activeContacts: number;
  messagesIn: number;
  messagesOut: number;
  /** Nearest-rank percentiles over the day's replies to users' messages; null without any. */
  replyLatencyMs: { p50: number | null; p95: number | null };
  uncovered: number;
  deliveries: DeliveryCounts;
  checkIns: CheckInCounts;
  programs: ProgramCounts;
  /** The day's check-ins per habit (habits with any ask or answer that day). */
  habits: DayHabit[];
  /** The day's most asked question groups (at most the store's cap). */
  questions: DayQuestion[];
  /** The day's question groups answered with "I don't know" at least once (at most the store's cap). */
  uncoveredQuestions: DayQuestion[];
}

/** A computed day, and whether it is over with nothing in it still under way (so it may be kept). */
export interface ComputedDay {
  figures: DayFigures;
  settled: boolean;
}

/** Reads the figures of a bot's local days; kept days stand in for aggregating their rows again. */
export interface AnalyticsStore {
  /** Days of the range kept for this time zone: settled ones, and snapshots of others computed within `snapshotSeconds`. */
  keptDays(botId: string, timeZone: string, from: string, to: string, snapshotSeconds: number): Promise<DayFigures[]>;
  /** Every day from `from` to `to` (inclusive), aggregated from the bot's rows; quiet days are zeros. Throws UnknownTimeZone when the database has no such zone. */
  computeDays(botId: string, timeZone: string, from: string, to: string): Promise<ComputedDay[]>;
  /** Keeps settled days for good and the others as snapshots; a settled day is never replaced. */
  keepDays(botId: string, timeZone: string, days: ComputedDay[]): Promise<void>;
  /** The bot's habits, and its programs with the enrollments started from `from` to `to` (local days in the zone) as they stand now. */
  coaching(botId: string, timeZone: string, from: string, to: string): Promise<{ habits: Array<{ id: string; name: string }>; programs: ProgramCohort[] }>;
}

/** A program and what became of the enrollments started in a range. */
export interface ProgramCohort {
  id: string;
  name: string;
  enrolled: number;
  completed: number;
  left: number;
}

/** Raised by a store whose database does not know the time zone. */
export class UnknownTimeZoneError extends Error {
  constructor(readonly timeZone: string) {
    super(`Unknown time zone ${timeZone}`);
    this.name = 'UnknownTimeZoneError';
  }
}

export interface AnalyticsQuery {
  from?: string | undefined;
  to?: string | undefined;
  tz?: string | undefined;
}

/** One local day as the API answers it: the day's figures without its question lists. */
export type AnalyticsDay = Omit<DayFigures, 'questions' | 'uncoveredQuestions' | 'habits'>;

/** A habit's check-ins over the range: which habit works. */
export interface HabitSummary {
  habitId: string;
  name: string;
  asked: number;
  due: number;
  done: number;
  skipped: number;
  adherence: number | null;
}

/** A program's enrollments started in the range, and how many of them completed it (by now). */
export interface ProgramSummary {
  programId: string;
  name: string;
  enrolled: number;
  completed: number;
  left: number;
  /** completed / enrolled; null without enrollments. */
  completionRate: number | null;
}

export interface QuestionGroup {
  question: string;
  count: number;
  uncovered: number;
  lastAskedAt: string;
}

export interface BotAnalytics {
  botId: string;
  timeZone: string;
  from: string;
  to: string;
  days: AnalyticsDay[];
  topQuestions: QuestionGroup[];
  uncoveredQuestions: QuestionGroup[];
  habits: HabitSummary[];
  programs: ProgramSummary[];
}

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds of `date` (YYYY-MM-DD) at UTC midnight, or null when it is no calendar date. */
function dateMs(date: string): number | null {
  const match = DATE.exec(date);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().slice(0, 10) === date ? ms : null;
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The IANA zone's canonical name, or null when there is no such zone (offsets like +02:00 are not zones). */
export function canonicalTimeZone(tz: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Today's date in `timeZone` at `now`. */
function todayIn(timeZone: string, now: Date): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Sums question groups of several days by key: the newest wording and time win. */
function mergeQuestions(days: DayQuestion[][]): QuestionGroup[] {
  const groups = new Map<string, QuestionGroup>();
  for (const day of days) {
    for (const q of day) {
      const group = groups.get(q.key);
      if (!group) {
        groups.set(q.key, { question: q.text, count: q.asked, uncovered: q.uncovered, lastAskedAt: q.lastAskedAt });
        continue;
      }
      group.count += q.asked;
      group.uncovered += q.uncovered;
      if (q.lastAskedAt > group.lastAskedAt) {
        group.lastAskedAt = q.lastAskedAt;
        group.question = q.text;
      }
    }
  }
  return [...groups.values()];
}

/** The longest run of days aggregated in one query. */
const RUN_DAYS = 31;

/** First and last date of each run of consecutive `wanted` days missing from `have`, runs cut at RUN_DAYS. */
function missingRuns(wanted: string[], have: ReadonlyMap<string, unknown>): Array<[string, string]> {
  const runs: Array<[string, string]> = [];
  let run: string[] = [];
  const close = () => {
    if (run.length > 0) runs.push([run[0] as string, run.at(-1) as string]);
    run = [];
  };
  for (const day of wanted) {
    if (have.has(day)) close();
    else {
      run.push(day);
      if (run.length === RUN_DAYS) close();
    }
  }
  close();
  return runs;
}

/** Each of the bot's habits with its check-ins summed over the days; habits deleted since are left out. */
function habitSummaries(habits: Array<{ id: string; name: string }>, days: DayFigures[]): HabitSummary[] {
  const sums = new Map(habits.map((h) => [h.id, { habitId: h.id, name: h.name, asked: 0, due: 0, done: 0, skipped: 0 }]));
  for (const day of days) {
    for (const h of day.habits) {
      const sum = sums.get(h.habitId);
      if (!sum) continue;
      sum.asked += h.asked;
      sum.due += h.due;
      sum.done += h.done;
      sum.skipped += h.skipped;
    }
  }
  return [...sums.values()].map((h) => ({ ...h, adherence: h.due ? h.done / h.due : null }));
}

const byRecency = (a: QuestionGroup, b: QuestionGroup) => (a.lastAskedAt < b.lastAskedAt ? 1 : a.lastAskedAt > b.lastAskedAt ? -1 : 0);

/**
 * A creator's view of a bot's activity per local day: conversations, contacts, messages, reply
 * latency, uncovered answers, deliveries, check-ins and programs; the questions users ask (and those
 * the material misses), and which habits and programs work.
 */
export class AnalyticsService {
  /** `snapshotSeconds`: how long today's figures stand (SNAPSHOT_SECONDS unless given). */
  constructor(private readonly deps: { store: AnalyticsStore; bots: Pick<BotService, 'get'>; clock?: () => Date; snapshotSeconds?: number }) {}

  /** The bot's analytics over `from`..`to` in `tz` (default UTC, the last 30 days); NOT_FOUND for another creator's bot. */
  async forBot(creatorId: string, botId: string, query: AnalyticsQuery): Promise<BotAnalytics> {
    const timeZone = canonicalTimeZone(query.tz ?? 'UTC');
    if (!timeZone) throw new ValidationError(`tz: unknown time zone "${query.tz}"; use an IANA name such as Europe/Berlin`, { field: 'tz' });
    const { from, to } = this.range(query, timeZone);
    const bot = await this.deps.bots.get(creatorId, botId);
    const days = await this.days(bot.id, timeZone, from, to);
    const coaching = await this.deps.store.coaching(bot.id, timeZone, from, to).catch((err: unknown) => {
      throw err instanceof UnknownTimeZoneError ? new ValidationError(`tz: unknown time zone "${timeZone}"`, { field: 'tz' }) : err;
    });
    const top = mergeQuestions(days.map((d) => d.questions))
      .sort((a, b) => b.count - a.count || byRecency(a, b))
      .slice(0, TOP_QUESTIONS);
    const uncovered = mergeQuestions(days.map((d) => d.uncoveredQuestions))
      .filter((q) => q.uncovered > 0)
      .sort((a, b) => b.uncovered - a.uncovered || byRecency(a, b))
      .slice(0, UNCOVERED_QUESTIONS);
    return {
      botId: bot.id,
      timeZone,
      from,
      to,
      days: days.map(({ questions: _q, uncoveredQuestions: _u, habits: _h, ...day }) => day),
      topQuestions: top,
      uncoveredQuestions: uncovered,
      habits: habitSummaries(coaching.habits, days),
      programs: coaching.programs.map((p) => ({
        programId: p.id,
        name: p.name,
        enrolled: p.enrolled,
        completed: p.completed,
        left: p.left,
        completionRate: p.enrolled ? p.completed / p.enrolled : null,
      })),
    };
  }

  private range(query: AnalyticsQuery, timeZone: string): { from: string; to: string } {
    const toMs = query.to !== undefined ? dateMs(query.to) : dateMs(todayIn(timeZone, this.deps.clock?.() ?? new Date()));
    if (toMs === null) throw new ValidationError(`to: "${query.to}" is not a date (YYYY-MM-DD)`, { field: 'to' });
    const fromMs = query.from !== undefined ? dateMs(query.from) : toMs - (DEFAULT_RANGE_DAYS - 1) * DAY_MS;
    if (fromMs === null) throw new ValidationError(`from: "${query.from}" is not a date (YYYY-MM-DD)`, { field: 'from' });
    if (fromMs > toMs) throw new ValidationError(`from (${isoDate(fromMs)}) is after to (${isoDate(toMs)})`, { field: 'from' });
    const days = (toMs - fromMs) / DAY_MS + 1;
    if (days > MAX_RANGE_DAYS) {
      throw new ValidationError(`The range spans ${days} days; at most ${MAX_RANGE_DAYS} are allowed`, { field: 'from', maxDays: MAX_RANGE_DAYS });
    }
    return { from: isoDate(fromMs), to: isoDate(toMs) };
  }

  /**
   * Kept days as they are; the others aggregated from their rows, a run of consecutive days (at most
   * a month) per query, each run kept before the next: a long first request that is given up on
   * still leaves its work for the next one.
   */
  private async days(botId: string, timeZone: string, from: string, to: string): Promise<DayFigures[]> {
    const { store } = this.deps;
    const days = new Map((await store.keptDays(botId, timeZone, from, to, this.deps.snapshotSeconds ?? SNAPSHOT_SECONDS)).map((d) => [d.date, d]));
    const wanted: string[] = [];
    for (let ms = dateMs(from) as number, end = dateMs(to) as number; ms <= end; ms += DAY_MS) wanted.push(isoDate(ms));
    for (const [first, last] of missingRuns(wanted, days)) {
      let computed: ComputedDay[];
      try {
        computed = await store.computeDays(botId, timeZone, first, last);
      } catch (err) {
        if (err instanceof UnknownTimeZoneError) throw new ValidationError(`tz: unknown time zone "${timeZone}"`, { field: 'tz' });
        throw err;
      }
      await store.keepDays(botId, timeZone, computed);
      for (const c of computed) days.set(c.figures.date, c.figures);
    }
    return wanted.map((d) => days.get(d) as DayFigures);
  }
}
