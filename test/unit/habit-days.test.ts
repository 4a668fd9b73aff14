import { describe, expect, it } from 'vitest';
import { habitStats, isoWeekday, dayNumber, localDateOf, nextAsk, type CheckInDay, type HabitCalendar } from '../../src/coaching/habit-days.js';

const daily: HabitCalendar = { localTime: '07:30', daysOfWeek: [], timesPerWeek: null };
const done = (...dates: string[]): CheckInDay[] => dates.map((localDate) => ({ localDate, status: 'done' }));

describe('habit days: when the ask is due', () => {
  it('asks at the local time in Europe/Paris on both sides of the spring and autumn changes', () => {
    // 28 Mar 2026 07:30 CET is 06:30Z; 29 Mar (after the change) 07:30 CEST is 05:30Z.
    expect(nextAsk(daily, 'Europe/Paris', new Date('2026-03-28T06:00:00Z'))).toEqual({ localDate: '2026-03-28', at: new Date('2026-03-28T06:30:00Z') });
    expect(nextAsk(daily, 'Europe/Paris', new Date('2026-03-28T07:00:00Z'))).toEqual({ localDate: '2026-03-29', at: new Date('2026-03-29T05:30:00Z') });
    expect(nextAsk(daily, 'Europe/Paris', new Date('2026-10-24T07:00:00Z'))).toEqual({ localDate: '2026-10-25', at: new Date('2026-10-25T06:30:00Z') });
    // 02:30 does not exist on 29 Mar in Paris: asked just after the jump, 03:30 CEST.
    expect(nextAsk({ ...daily, localTime: '02:30' }, 'Europe/Paris', new Date('2026-03-28T12:00:00Z')).at).toEqual(new Date('2026-03-29T01:30:00Z'));
  });

  it('follows Australia/Sydney, whose clocks change the other way round', () => {
    // DST ends 5 Apr 2026 (AEDT +11 → AEST +10) and starts 4 Oct 2026.
    expect(nextAsk(daily, 'Australia/Sydney', new Date('2026-04-04T00:00:00Z'))).toEqual({ localDate: '2026-04-05', at: new Date('2026-04-04T21:30:00Z') });
    expect(nextAsk(daily, 'Australia/Sydney', new Date('2026-04-04T22:00:00Z'))).toEqual({ localDate: '2026-04-06', at: new Date('2026-04-05T21:30:00Z') });
    expect(nextAsk(daily, 'Australia/Sydney', new Date('2026-10-03T22:00:00Z'))).toEqual({ localDate: '2026-10-05', at: new Date('2026-10-04T20:30:00Z') });
  });

  it('reads the day on each side of the date line and keeps to the chosen weekdays', () => {
    const instant = new Date('2026-01-01T10:30:00Z');
    expect(localDateOf(instant, 'Pacific/Kiritimati')).toBe('2026-01-02');
    expect(localDateOf(instant, 'Pacific/Pago_Pago')).toBe('2025-12-31');
    // Mondays and Thursdays only; 2 Jan 2026 is a Friday in Kiritimati → Monday 5 Jan 07:30 (+14).
    const weekdays = { ...daily, daysOfWeek: [1, 4] };
    expect(isoWeekday(dayNumber('2026-01-05'))).toBe(1);
    expect(nextAsk(weekdays, 'Pacific/Kiritimati', instant)).toEqual({ localDate: '2026-01-05', at: new Date('2026-01-04T17:30:00Z') });
    // Wednesday 31 Dec in Pago Pago → Thursday 1 Jan 07:30 (−11).
    expect(nextAsk(weekdays, 'Pacific/Pago_Pago', instant)).toEqual({ localDate: '2026-01-01', at: new Date('2026-01-01T18:30:00Z') });
  });

  it('never asks again for the day already asked, even when a move west makes that day come round again', () => {
    // Asked on 2 Jan in Kiritimati, then the contact moves to Pago Pago where it is still 31 Dec.
    const next = nextAsk(daily, 'Pacific/Pago_Pago', new Date('2026-01-01T10:30:00Z'), '2026-01-02');
    expect(next.localDate).toBe('2026-01-03');
    expect(next.at).toEqual(new Date('2026-01-03T18:30:00Z'));
  });
});

describe('habit days: streaks and adherence', () => {
  it('counts a daily streak; an open today keeps it and a missed or "not today" day ends it', () => {
    const checkIns = [...done('2026-03-01', '2026-03-02', '2026-03-03'), { localDate: '2026-03-04', status: 'skipped' as const }, ...done('2026-03-05', '2026-03-06')];
    const stats = habitStats(daily, checkIns, '2026-03-01', '2026-03-07');
    expect(stats).toMatchObject({ currentStreak: 2, longestStreak: 3, streakUnit: 'days' });
    expect(stats.last7).toEqual({ done: 5, due: 6, rate: 5 / 6 });
    expect(habitStats(daily, checkIns, '2026-03-01', '2026-03-08')).toMatchObject({ currentStreak: 0, longestStreak: 3 });
    expect(habitStats(daily, [...checkIns, ...done('2026-03-07')], '2026-03-01', '2026-03-07').currentStreak).toBe(3);
  });

  it('is exact across the Paris and Sydney DST changes: one check-in per local day, none lost or doubled', () => {
    for (const [zone, days] of [['Europe/Paris', ['2026-03-28', '2026-03-29', '2026-03-30']], ['Australia/Sydney', ['2026-04-04', '2026-04-05', '2026-04-06']]] as const) {
      // Each answered at 07:35 local time, the day's "today" read in the zone at that instant.
      const instants = days.map((d) => nextAsk(daily, zone, new Date(`${dateBefore(d)}T12:00:00Z`), dateBefore(d)).at);
      const dates = instants.map((i) => localDateOf(new Date(i.getTime() + 5 * 60_000), zone));
      expect(dates).toEqual(days);
      expect(habitStats(daily, done(...dates), days[0], localDateOf(instants[2]!, zone))).toMatchObject({ currentStreak: 3, longestStreak: 3 });
    }
  });

  it('keeps the streak of a contact who moves across the date line mid-streak', () => {
    // Done 1 and 2 Jan in Kiritimati (+14); at 2 Jan 10:30Z they are in Pago Pago (−11), where it is 1 Jan.
    const checkIns = done('2026-01-01', '2026-01-02');
    const today = localDateOf(new Date('2026-01-02T10:30:00Z'), 'Pacific/Pago_Pago');
    expect(today).toBe('2026-01-01');
    expect(habitStats(daily, checkIns, '2026-01-01', today)).toMatchObject({ currentStreak: 2, longestStreak: 2, last7: { done: 2, due: 2, rate: 1 } });
    // Eastward (Pago Pago → Kiritimati) a local day is skipped over: 1 Jan done in Pago Pago, then it is already 3 Jan.
    const east = habitStats(daily, done('2025-12-31', '2026-01-01'), '2025-12-31', localDateOf(new Date('2026-01-02T11:00:00Z'), 'Pacific/Kiritimati'));
    expect(east).toMatchObject({ currentStreak: 0, longestStreak: 2 });
  });

  it('counts only the chosen weekdays as due', () => {
    const weekdays = { ...daily, daysOfWeek: [1, 3, 5] };
    // 2 Mar 2026 is a Monday: Mon, Wed, Fri done, the weekend is not due.
    const stats = habitStats(weekdays, done('2026-03-02', '2026-03-04', '2026-03-06'), '2026-03-02', '2026-03-08');
    expect(stats).toMatchObject({ currentStreak: 3, last7: { done: 3, due: 3, rate: 1 } });
  });

  it('counts ISO weeks for a weekly target: met weeks make the streak, the current week counts once met', () => {
    const weekly = { ...daily, timesPerWeek: 3 };
    // Weeks starting 2, 9, 16 and 23 Mar 2026 (Mondays); week of 16 Mar misses (2 of 3).
    const checkIns = done('2026-03-02', '2026-03-03', '2026-03-04', '2026-03-09', '2026-03-11', '2026-03-15', '2026-03-16', '2026-03-18', '2026-03-23', '2026-03-24');
    const open = habitStats(weekly, checkIns, '2026-03-02', '2026-03-25');
    expect(open).toMatchObject({ currentStreak: 0, longestStreak: 2, streakUnit: 'weeks' });
    // Adherence over 30 days: weeks of 2, 9 and 16 Mar are whole (2 met); this week is open.
    expect(open.last30).toEqual({ done: 2, due: 3, rate: 2 / 3 });
    const met = habitStats(weekly, [...checkIns, ...done('2026-03-25')], '2026-03-02', '2026-03-25');
    expect(met).toMatchObject({ currentStreak: 1, longestStreak: 2 });
    expect(met.last7).toEqual({ done: 1, due: 2, rate: 0.5 });
  });
});

function dateBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
