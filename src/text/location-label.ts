/** How citations name a place in a source, in any language; the engine, the API and the LangChain documents share it. */

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** `04:31` below an hour, `1:02:07` past one; fractions of a second are dropped. */
export function clockTime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  return hours > 0 ? `${hours}:${two(minutes)}:${two(rest)}` : `${two(minutes)}:${two(rest)}`;
}

/** What a location is: a page, a slide, a time, a spreadsheet row, an e-book chapter or an export file's path. */
export type LocationKind = 'page' | 'slide' | 'time' | 'row' | 'chapter' | 'path';

// A title that repeats the chapter's number in any language: `Chapter 3: Winding down`, `Kapitel 3 – Abends`.
const NUMBERED_TITLE = /^\p{L}+\.?\s+(\d+)\s*(?:[:.\-–—]\s*|$)/u;

/** An e-book chapter by its number and title: `ch. 3 “Winding down”`, or `ch. 3` untitled; the number is not repeated. */
export function chapterLabel(number: number, title: string | undefined): string {
  const numbered = title !== undefined ? NUMBERED_TITLE.exec(title) : null;
  const name = numbered && Number(numbered[1]) === number ? title!.slice(numbered[0].length).trim() : title;
  return name ? `ch. ${number} “${name}”` : `ch. ${number}`;
}

/**
 * The short, language-neutral form of one location: `p. 4`, `slide 12`, `at 04:31`, `sheet Plans, row 12`,
 * `ch. 3 “Winding down”`, `Course/Week 1/Breathing` (an export file by its folder path, else its number).
 */
export function locationLabel(location: { kind: LocationKind; value: number; section?: string }): string {
  switch (location.kind) {
    case 'page':
      return `p. ${location.value}`;
    case 'slide':
      return `slide ${location.value}`;
    case 'time':
      return `at ${clockTime(location.value)}`;
    case 'row':
      return location.section !== undefined ? `sheet ${location.section}, row ${location.value}` : `row ${location.value}`;
    case 'chapter':
      return chapterLabel(location.value, location.section);
    case 'path':
      return location.section ?? `file ${location.value}`;
  }
}
