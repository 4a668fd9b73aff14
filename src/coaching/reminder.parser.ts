/** Reads "remind me in 10 minutes to stretch" / "remind me at 7pm to stretch" in the contact's zone. */
import * as chrono from 'chrono-node';
import { instantAt, zoneOffsetMs } from './local-time.js';

/** What a reminder request asked for: when, and what to do (empty when the text did not say). */
export type ReminderRequest = { kind: 'reminder'; at: Date; what: string } | { kind: 'no_time' };

const REMIND_ME = /^\s*(?:please\s+)?remind\s+me\b[\s,:]*/i;
// "in 10 minutes", "in an hour", "after 2 days": an offset from now, not a time on the wall clock.
const RELATIVE = /^(?:in|after|within)\s+(?:\d|an?\b|a\s+few|half)/i;

/** Whether the text asks for a reminder at all. */
export function isReminderRequest(text: string): boolean {
  return REMIND_ME.test(text);
}

/** Parses a reminder request at `now` for a contact in `zone`; null when the text is not one. */
export function parseReminder(text: string, now: Date, zone: string): ReminderRequest | null {
  const match = REMIND_ME.exec(text);
  if (!match) return null;
  const rest = text.slice(match[0].length);
  const [found] = chrono.parse(rest, { instant: now, timezone: Math.round(zoneOffsetMs(now, zone) / 60_000) }, { forwardDate: true });
  if (!found) return { kind: 'no_time' };
  let at = found.start.date();
  if (!RELATIVE.test(found.text)) {
    // A wall-clock time: read in the zone's offset on that day, not today's (a DST change may lie between).
    at = instantAt(
      {
        year: found.start.get('year') ?? 0,
        month: found.start.get('month') ?? 1,
        day: found.start.get('day') ?? 1,
        hour: found.start.get('hour') ?? 0,
        minute: found.start.get('minute') ?? 0,
      },
      zone,
    );
    // "at 7pm" said at 19:30 means tomorrow's.
    if (at.getTime() <= now.getTime() && !found.start.isCertain('day')) at = new Date(at.getTime() + 24 * 3600_000);
  }
  const what = (rest.slice(0, found.index) + ' ' + rest.slice(found.index + found.text.length))
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^(?:to|that|about|of)\s+/i, '')
    .replace(/[\s.!?]+$/, '')
    .trim();
  return { kind: 'reminder', at, what };
}
