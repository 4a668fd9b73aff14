/** Where a cited passage sits in its source, and how citations name it in any language. */
import { clockTime, locationLabel, type LocationKind } from '../text/location-label.js';

export { clockTime, locationLabel };

/**
 * A page (PDF), a slide (decks), a time in seconds from the start (subtitles, transcripts), a
 * spreadsheet row (`section` naming a workbook's sheet), an e-book chapter (`section` its title) or
 * a file of a workspace export (`section` its folder path).
 */
export interface SourceLocation {
  kind: LocationKind;
  value: number;
  section?: string;
}

/** A location with the short form citations show: `p. 4`, `slide 12`, `at 04:31`, `sheet Plans, row 12`, `ch. 3 “Winding down”`. */
export interface LabelledLocation extends SourceLocation {
  label: string;
}

/** The location with its label, as the API and stored sources carry it. */
export function labelled(location: SourceLocation): LabelledLocation {
  return { kind: location.kind, value: location.value, ...(location.section !== undefined ? { section: location.section } : {}), label: locationLabel(location) };
}

/** `rows 3, 12` of a CSV; `sheet Plans, rows 3, 12; sheet Prices, row 2` of a workbook. */
function rowsLabel(locations: readonly SourceLocation[]): string {
  const bySheet = new Map<string | undefined, Set<number>>();
  for (const l of locations) bySheet.set(l.section, (bySheet.get(l.section) ?? new Set()).add(l.value));
  return [...bySheet.entries()]
    .map(([sheet, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const rows = `${sorted.length === 1 ? 'row' : 'rows'} ${sorted.join(', ')}`;
      return sheet !== undefined ? `sheet ${sheet}, ${rows}` : rows;
    })
    .join('; ');
}

/** Chapters or export files, each once in document order, by their own label: `ch. 2 “Breathing”; ch. 5 “Sleep”`. */
function namedPartsLabel(locations: readonly SourceLocation[]): string {
  const byNumber = new Map<number, SourceLocation>();
  for (const l of locations) if (!byNumber.has(l.value)) byNumber.set(l.value, l);
  // Titles and paths may hold commas, so parts are set apart as a workbook's sheets are.
  return [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, l]) => locationLabel(l))
    .join('; ');
}

/**
 * Several locations of one document merged into one phrase, kinds in a fixed order, each sorted:
 * `pp. 4, 7`, `slides 3, 12`, `at 04:31, 07:10`, `ch. 2 “Breathing”; ch. 5 “Sleep”`.
 */
export function mergedLocationLabel(locations: readonly SourceLocation[]): string {
  const phrases: string[] = [];
  const rows = locations.filter((l) => l.kind === 'row');
  for (const kind of ['page', 'slide', 'time'] as const) {
    const values = [...new Set(locations.filter((l) => l.kind === kind).map((l) => (kind === 'time' ? Math.floor(l.value) : l.value)))].sort((a, b) => a - b);
    if (values.length === 0) continue;
    if (values.length === 1) {
      phrases.push(locationLabel({ kind, value: values[0] as number }));
      continue;
    }
    if (kind === 'page') phrases.push(`pp. ${values.join(', ')}`);
    else if (kind === 'slide') phrases.push(`slides ${values.join(', ')}`);
    else phrases.push(`at ${values.map(clockTime).join(', ')}`);
  }
  if (rows.length) phrases.push(rowsLabel(rows));
  for (const kind of ['chapter', 'path'] as const) {
    const parts = locations.filter((l) => l.kind === kind);
    if (parts.length) phrases.push(namedPartsLabel(parts));
  }
  return phrases.join(', ');
}
