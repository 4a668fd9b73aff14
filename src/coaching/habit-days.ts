/**
 * The calendar of a habit, in pure functions: which local days it is asked on, when the next ask is
 * due in a contact's zone, and streaks and adherence from check-ins. Check-ins are kept by the
 * contact's local date ("YYYY-MM-DD"), so a DST change or a move to another zone never splits or
 * merges a day: only "today" is read in the contact's current zone.
 */
import { addLocalDays, instantAt, localDateTime, parseClockTime } from './local-time.js';

/** A local calendar date, "YYYY-MM-DD". */
export type LocalDate = string;

/** What the calendar needs of a habit. */
export interface HabitCalendar {
  /** "HH:MM", contact-local. */
  localTime: string;
  /** ISO weekdays it is asked on (1 = Monday … 7 = Sunday); empty means every day. */
  daysOfWeek: number[];
  /** A weekly target instead of a daily one: met when this many days are done in an ISO week. */
  timesPerWeek: number | null;
}

export interface CheckInDay {
  localDate: LocalDate;
  status: 'done' | 'skipped';
}

export interface HabitStats {
  /** Consecutive due days done (weeks met, for a weekly target) up to today; an open today does not break it. */
  currentStreak: number;
  longestStreak: number;
  /** The unit streaks count. */
  streakUnit: 'days' | 'weeks';
  last7: Adherence;
  last30: Adherence;
}

/** Due days done out of due days (weeks met out of weeks, for a weekly target); rate null when nothing was due. */
export interface Adherence {
  done: number;
  due: number;
  rate: number | null;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The local date a wall clock in `zone` shows at `instant`. */
export function localDateOf(instant: Date, zone: string): LocalDate {
  const l = localDateTime(instant, zone);
  return `${l.year}-${pad(l.month)}-${pad(l.day)}`;
}

/** Days since 1970-01-01 of a local date (a plain calendar count, no zone). */
export function dayNumber(date: LocalDate): number {
  const [y, m, d] = date.split('-').map(Number);
  return Math.round(Date.UTC(y!, m! - 1, d!) / 86_400_000);
}

/** The local date of a day number. */
export function dateOfDay(day: number): LocalDate {
  const d = new Date(day * 86_400_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** ISO weekday of a day number: 1 = Monday … 7 = Sunday. */
export function isoWeekday(day: number): number {
  // 1970-01-01 was a Thursday (4).
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** The day number of the Monday starting the ISO week of `day`. */
export function isoWeekStart(day: number): number {
  return day - (isoWeekday(day) - 1);
}

/** Whether the habit is asked on this local day. */
export function isHabitDay(habit: Pick<HabitCalendar, 'daysOfWeek'>, day: number): boolean {
  return habit.daysOfWeek.length === 0 || habit.daysOfWeek.includes(isoWeekday(day));
}

/**
 * The next ask at or after `from`: the first habit day whose local time in `zone` is not before
 * `from` and which comes after `afterDate` (the day last asked) when given. A local time the clocks
 * skip over (spring forward) is asked just after the jump.
 */
export function nextAsk(habit: HabitCalendar, zone: string, from: Date, afterDate?: LocalDate): { localDate: LocalDate; at: Date } {
  const minute = parseClockTime(habit.localTime) ?? 0;
  const today = localDateTime(from, zone);
  const first = afterDate ? Math.max(dayNumber(afterDate) + 1, dayNumber(localDateOf(from, zone)) - 1) : dayNumber(localDateOf(from, zone)) - 1;
  // Starts a day early: across the date line "today" may lag the day last asked; eight days cover a week.
  for (let day = first; day < first + 9; day++) {
    if (!isHabitDay(habit, day)) continue;
    const date = addLocalDays({ ...today, hour: Math.floor(minute / 60), minute: minute % 60, second: 0 }, day - dayNumber(localDateOf(from, zone)));
    const at = instantAt(date, zone);
    if (at.getTime() >= from.getTime()) return { localDate: dateOfDay(day), at };
  }
  // Unreachable with at least one weekday in a week; kept total for the type checker.
  throw new RangeError('A habit needs at least one day of the week');
}

/**
 * Streaks and adherence of one subscription on `today` (the contact's local date now). Days before
 * `startDate` (the local day they joined) are not due; a check-in dated after `today` (the contact
 * moved west across the date line) counts as today's latest.
 */
export function habitStats(habit: HabitCalendar, checkIns: CheckInDay[], startDate: LocalDate, today: LocalDate): HabitStats {
  const done = new Set(checkIns.filter((c) => c.status === 'done').map((c) => dayNumber(c.localDate)));
  const lastCheckIn = Math.max(-Infinity, ...checkIns.map((c) => dayNumber(c.localDate)));
  const todayDay = Math.max(dayNumber(today), lastCheckIn);
  const startDay = Math.min(dayNumber(startDate), ...checkIns.map((c) => dayNumber(c.localDate)));
  return habit.timesPerWeek ? weeklyStats(habit, habit.timesPerWeek, done, startDay, todayDay) : dailyStats(habit, done, startDay, todayDay);
}

function dailyStats(habit: HabitCalendar, done: Set<number>, startDay: number, todayDay: number): HabitStats {
  // Today still open (not done yet) neither counts nor breaks anything.
  const lastCounted = done.has(todayDay) ? todayDay : todayDay - 1;
  let run = 0;
  let longest = 0;
  for (let day = startDay; day <= lastCounted; day++) {
    if (!isHabitDay(habit, day)) continue;
    run = done.has(day) ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  const window = (days: number): Adherence => {
    let due = 0;
    let hits = 0;
    for (let day = Math.max(startDay, todayDay - days + 1); day <= lastCounted; day++) {
      if (!isHabitDay(habit, day)) continue;
      due += 1;
      if (done.has(day)) hits += 1;
    }
    return { done: hits, due, rate: due ? hits / due : null };
  };
  return { currentStreak: run, longestStreak: longest, streakUnit: 'days', last7: window(7), last30: window(30) };
}

function weeklyStats(habit: HabitCalendar, target: number, done: Set<number>, startDay: number, todayDay: number): HabitStats {
  const met = (week: number) => {
    let count = 0;
    for (let day = week; day < week + 7; day++) if (done.has(day) && isHabitDay(habit, day)) count += 1;
    return count >= target;
  };
  const thisWeek = isoWeekStart(todayDay);
  const firstWeek = isoWeekStart(startDay);
  // The current week and the week of joining count only once met: they may still be (or never were) whole.
  const counts = (week: number) => met(week) || (week !== thisWeek && week !== firstWeek);
  let run = 0;
  let longest = 0;
  for (let week = firstWeek; week <= thisWeek; week += 7) {
    if (!counts(week)) continue;
    run = met(week) ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  const window = (days: number): Adherence => {
    let due = 0;
    let hits = 0;
    for (let week = Math.max(firstWeek, isoWeekStart(todayDay - days + 1)); week <= thisWeek; week += 7) {
      if (!counts(week)) continue;
      due += 1;
      if (met(week)) hits += 1;
    }
    return { done: hits, due, rate: due ? hits / due : null };
  };
  return { currentStreak: run, longestStreak: longest, streakUnit: 'weeks', last7: window(7), last30: window(30) };
}
