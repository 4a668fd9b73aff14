/** Where a cited passage sits in its source, and how citations name it in any language. */
import { clockTime, locationLabel } from '../text/location-label.js';

export { clockTime, locationLabel };

/** A page (PDF), a slide (decks) or a time in seconds from the start (subtitles, transcripts). */
export interface SourceLocation {
  kind: 'page' | 'slide' | 'time';
  value: number;
}

/** A location with the short form citations show: `p. 4`, `slide 12`, `at 04:31`. */
export interface LabelledLocation extends SourceLocation {
  label: string;
}

/** The location with its label, as the API and stored sources carry it. */
export function labelled(location: SourceLocation): LabelledLocation {
  return { kind: location.kind, value: location.value, label: locationLabel(location) };
}

/**
 * Several locations of one document merged into one phrase, kinds in a fixed order, each sorted:
 * `pp. 4, 7`, `slides 3, 12`, `at 04:31, 07:10`.
 */
export function mergedLocationLabel(locations: readonly SourceLocation[]): string {
  const phrases: string[] = [];
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
  return phrases.join(', ');
}
