/** Where a cited passage sits in its source, and how citations name it in any language. */
import { clockTime, locationLabel } from '../text/location-label.js';

export { clockTime, locationLabel };

/**
 * A page (PDF), a slide (decks), a time in seconds from the start (subtitles, transcripts) or a
 * spreadsheet row (`section` naming a workbook's sheet).
 */
export interface SourceLocation {
  kind: 'page' | 'slide' | 'time' | 'row';
  value: number;
  section?: string;
}

/** A location with the short form citations show: `p. 4`, `slide 12`, `at 04:31`, `sheet Plans, row 12`. */
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

/**
 * Several locations of one document merged into one phrase, kinds in a fixed order, each sorted:
 * `pp. 4, 7`, `slides 3, 12`, `at 04:31, 07:10`.
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
  return phrases.join(', ');
}
