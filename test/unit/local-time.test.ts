import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  DEFAULT_QUIET_HOURS,
  describeLocalTime,
  instantAt,
  localDateTime,
  nextAllowedInstant,
  zoneOffsetMs,
} from '../../src/coaching/local-time.js';
import { timeZoneForPhone } from '../../src/coaching/phone-time-zone.js';
import { parseReminder } from '../../src/coaching/reminder.parser.js';

const at = (iso: string) => new Date(iso);
const wall = (d: Date, zone: string) => {
  const l = localDateTime(d, zone);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')}`;
};

describe('local time', () => {
  it('converts wall times both ways with the offset of the day, either side of a DST change', () => {
    // Paris: CET (+1) until 29 March 2026 01:00 UTC, CEST (+2) after.
    expect(instantAt({ year: 2026, month: 3, day: 28, hour: 19, minute: 0 }, 'Europe/Paris').toISOString()).toBe('2026-03-28T18:00:00.000Z');
    expect(instantAt({ year: 2026, month: 3, day: 29, hour: 19, minute: 0 }, 'Europe/Paris').toISOString()).toBe('2026-03-29T17:00:00.000Z');
    // Sydney (southern hemisphere): AEDT (+11) ends 5 April 2026 at 03:00 local, AEST (+10) after.
    expect(instantAt({ year: 2026, month: 4, day: 4, hour: 9, minute: 0 }, 'Australia/Sydney').toISOString()).toBe('2026-04-03T22:00:00.000Z');
    expect(instantAt({ year: 2026, month: 4, day: 5, hour: 9, minute: 0 }, 'Australia/Sydney').toISOString()).toBe('2026-04-04T23:00:00.000Z');
    expect(zoneOffsetMs(at('2026-01-15T00:00:00Z'), 'Australia/Sydney')).toBe(11 * 3600_000);
    expect(zoneOffsetMs(at('2026-07-15T00:00:00Z'), 'Australia/Sydney')).toBe(10 * 3600_000);
  });

  it('moves a time the clocks skip forward past the gap, and takes a repeated time at its first occurrence', () => {
    // 02:30 does not exist in Paris on 29 March 2026: it reads as 03:30 CEST.
    const skipped = instantAt({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Paris');
    expect(wall(skipped, 'Europe/Paris')).toBe('2026-03-29 03:30');
    // 02:30 happens twice on 25 October 2026: the first is still CEST (00:30 UTC).
    expect(instantAt({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Paris').toISOString()).toBe('2026-10-25T00:30:00.000Z');
    // New York springs forward on 8 March 2026 at 02:00.
    expect(wall(instantAt({ year: 2026, month: 3, day: 8, hour: 2, minute: 15 }, 'America/New_York'), 'America/New_York')).toBe('2026-03-08 03:15');
  });

  it('tells the dates apart on either side of the date line', () => {
    const instant = at('2026-06-01T12:00:00Z');
    expect(wall(instant, 'Pacific/Kiritimati')).toBe('2026-06-02 02:00'); // UTC+14
    expect(wall(instant, 'Pacific/Pago_Pago')).toBe('2026-06-01 01:00'); // UTC−11
    expect(instantAt({ year: 2026, month: 6, day: 2, hour: 8, minute: 0 }, 'Pacific/Kiritimati').toISOString()).toBe('2026-06-01T18:00:00.000Z');
    expect(instantAt({ year: 2026, month: 6, day: 2, hour: 8, minute: 0 }, 'Pacific/Pago_Pago').toISOString()).toBe('2026-06-02T19:00:00.000Z');
  });

  it('shifts a send in the quiet hours to their end, contact-local, across DST and midnight', () => {
    const quiet = DEFAULT_QUIET_HOURS; // 21:00–08:00
    // 22:30 in Paris on the night the clocks go forward: 08:00 CEST next morning (06:00 UTC).
    expect(nextAllowedInstant(at('2026-03-28T21:30:00Z'), 'Europe/Paris', quiet).toISOString()).toBe('2026-03-29T06:00:00.000Z');
    // 05:00 in Sydney on the morning the clocks go back: 08:00 AEST the same morning.
    expect(nextAllowedInstant(at('2026-04-04T19:00:00Z'), 'Australia/Sydney', quiet).toISOString()).toBe('2026-04-04T22:00:00.000Z');
    // Outside quiet hours nothing moves.
    expect(nextAllowedInstant(at('2026-03-28T12:00:00Z'), 'Europe/Paris', quiet).toISOString()).toBe('2026-03-28T12:00:00.000Z');
    // Daytime quiet hours (12:00–14:00) end the same day; equal start and end mean none.
    expect(nextAllowedInstant(at('2026-06-01T11:00:00Z'), 'Europe/London', { startMinute: 720, endMinute: 840 }).toISOString()).toBe('2026-06-01T13:00:00.000Z');
    expect(nextAllowedInstant(at('2026-06-01T23:00:00Z'), 'UTC', { startMinute: 0, endMinute: 0 }).toISOString()).toBe('2026-06-01T23:00:00.000Z');
  });

  it('gives the same instant a different allowed time when the contact changes zone', () => {
    const instant = at('2026-06-01T20:00:00Z');
    // 22:00 in Paris is quiet; 16:00 in New York is not.
    expect(nextAllowedInstant(instant, 'Europe/Paris', DEFAULT_QUIET_HOURS).toISOString()).toBe('2026-06-02T06:00:00.000Z');
    expect(nextAllowedInstant(instant, 'America/New_York', DEFAULT_QUIET_HOURS).toISOString()).toBe(instant.toISOString());
  });

  it('reads times as the contact would, and accepts zone names in any case', () => {
    const now = at('2026-06-01T10:00:00Z');
    expect(describeLocalTime(at('2026-06-01T17:00:00Z'), 'Europe/Paris', now)).toBe('at 19:00');
    expect(describeLocalTime(at('2026-06-02T06:00:00Z'), 'Europe/Paris', now)).toBe('tomorrow at 08:00');
    expect(describeLocalTime(at('2026-06-04T06:00:00Z'), 'Europe/Paris', now)).toBe('on Thu 4 Jun at 08:00');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('Mars/Olympus')).toBeNull();
  });
});

describe('time zone from a phone number', () => {
  it("guesses the country's main zone", () => {
    expect(timeZoneForPhone('33612345678')).toBe('Europe/Paris');
    expect(timeZoneForPhone('+1 212 555 0100')).toBe('America/New_York');
    expect(timeZoneForPhone('61412345678')).toBe('Australia/Sydney');
    expect(timeZoneForPhone('5511987654321')).toBe('America/Sao_Paulo');
    expect(timeZoneForPhone('919876543210')).toBe('Asia/Kolkata');
    expect(timeZoneForPhone('not a number')).toBeNull();
  });
});

describe('reminder requests', () => {
  const now = at('2026-03-28T17:00:00Z'); // 18:00 in Paris, the day before the clocks go forward

  it('reads "in 10 minutes" from now', () => {
    expect(parseReminder('remind me in 10 minutes to stretch', now, 'Europe/Paris')).toEqual({ kind: 'reminder', at: at('2026-03-28T17:10:00Z'), what: 'stretch' });
  });

  it('reads "at 7pm" in the contact\'s zone, and the next day\'s offset when DST lies between', () => {
    expect(parseReminder('Remind me at 7pm to stretch', now, 'Europe/Paris')).toEqual({ kind: 'reminder', at: at('2026-03-28T18:00:00Z'), what: 'stretch' });
    expect(parseReminder('remind me to call mum tomorrow at 7pm', now, 'Europe/Paris')).toEqual({ kind: 'reminder', at: at('2026-03-29T17:00:00Z'), what: 'call mum' });
    // Said at 20:00 in Paris, "at 7pm" is tomorrow's.
    expect(parseReminder('remind me at 7pm to stretch', at('2026-03-28T19:00:00Z'), 'Europe/Paris')).toMatchObject({ at: at('2026-03-29T17:00:00Z') });
    expect(parseReminder('remind me at 7pm to stretch', now, 'America/New_York')).toMatchObject({ at: at('2026-03-28T23:00:00Z') });
  });

  it('asks for a time when none is given, and ignores other messages', () => {
    expect(parseReminder('remind me to stretch', now, 'UTC')).toEqual({ kind: 'no_time' });
    expect(parseReminder('what time is it?', now, 'UTC')).toBeNull();
  });
});
