/**
 * Wall-clock time in a contact's IANA time zone, computed with Intl only (no zone data of our own):
 * converting both ways, quiet hours, and how a time reads to the contact. Correct across DST
 * changes: a local time that does not exist (the clocks jumped over it) moves forward by the jump,
 * and one that happens twice (the clocks went back) is taken at its first occurrence.
 */

/** A date and time as a clock on the wall shows it (month 1–12). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** Quiet hours as minutes after local midnight; `start` after `end` spans midnight (21:00–08:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

export const DEFAULT_QUIET_HOURS: QuietHours = { startMinute: 21 * 60, endMinute: 8 * 60 };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA time zone this runtime knows (e.g. "Europe/Paris", "UTC"). */
export function isValidTimeZone(zone: string): boolean {
  if (!zone || zone.length > 64) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The canonical spelling of a zone the user typed in any case ("europe/paris" → "Europe/Paris"), or null. */
export function canonicalTimeZone(zone: string): string | null {
  const trimmed = zone.trim();
  if (!isValidTimeZone(trimmed)) return null;
  return new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
}

/** What a wall clock in `zone` shows at `instant`. */
export function localDateTime(instant: Date, zone: string): Required<LocalDateTime> {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** How far `zone` is ahead of UTC at `instant`, in milliseconds. */
export function zoneOffsetMs(instant: Date, zone: string): number {
  const l = localDateTime(instant, zone);
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return wall - (instant.getTime() - instant.getUTCMilliseconds());
}

function wallMs(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0);
}

function sameWall(a: LocalDateTime, b: LocalDateTime): boolean {
  return wallMs(a) === wallMs(b);
}

/** The instant a wall clock in `zone` shows `local`; see the module comment for gaps and overlaps. */
export function instantAt(local: LocalDateTime, zone: string): Date {
  const wall = wallMs(local);
  // Offsets half a day either side: zones change offset at most once within a day.
  const before = zoneOffsetMs(new Date(wall - 12 * 3600_000), zone);
  const after = zoneOffsetMs(new Date(wall + 12 * 3600_000), zone);
  const candidates = [...new Set([wall - before, wall - after])]
    .filter((t) => sameWall(localDateTime(new Date(t), zone), local))
    .sort((a, b) => a - b);
  if (candidates.length > 0) return new Date(candidates[0]!);
  // In the gap of a spring-forward change: read with the offset before it, which lands past the gap.
  return new Date(wall - before);
}

/** The local calendar date `days` after the given one. */
export function addLocalDays(local: LocalDateTime, days: number): LocalDateTime {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { ...local, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Whether `minuteOfDay` falls within the quiet hours. */
export function inQuietHours(minuteOfDay: number, quiet: QuietHours): boolean {
  const { startMinute: start, endMinute: end } = quiet;
  if (start === end) return false;
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

/** `instant` itself when a message may go out then, else the first instant after the quiet hours end (contact-local). */
export function nextAllowedInstant(instant: Date, zone: string, quiet: QuietHours): Date {
  const local = localDateTime(instant, zone);
  const minute = local.hour * 60 + local.minute;
  if (!inQuietHours(minute, quiet)) return instant;
  // Overnight quiet hours entered before midnight end on the next local day.
  const endsTomorrow = quiet.startMinute > quiet.endMinute && minute >= quiet.startMinute;
  const day = endsTomorrow ? addLocalDays(local, 1) : local;
  const end = instantAt({ year: day.year, month: day.month, day: day.day, hour: Math.floor(quiet.endMinute / 60), minute: quiet.endMinute % 60 }, zone);
  return end.getTime() > instant.getTime() ? end : instant;
}

/** "HH:MM" (24-hour) → minutes after midnight, or null when it is not such a time. */
export function parseClockTime(text: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const pad = (n: number) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * How `instant` reads to a contact in `zone`: "19:00" on the same local day as `now`, "tomorrow at
 * 08:00" on the next, else "on Thu 3 Dec at 19:00".
 */
export function describeLocalTime(instant: Date, zone: string, now: Date): string {
  const at = localDateTime(instant, zone);
  const today = localDateTime(now, zone);
  const time = `${pad(at.hour)}:${pad(at.minute)}`;
  const dayIndex = (l: LocalDateTime) => Math.round(Date.UTC(l.year, l.month - 1, l.day) / 86_400_000);
  const days = dayIndex(at) - dayIndex(today);
  if (days === 0) return `at ${time}`;
  if (days === 1) return `tomorrow at ${time}`;
  const weekday = WEEKDAYS[new Date(Date.UTC(at.year, at.month - 1, at.day)).getUTCDay()];
  return `on ${weekday} ${at.day} ${MONTHS[at.month - 1]} at ${time}`;
}
