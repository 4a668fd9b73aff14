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

/** The short, language-neutral form of one location: `p. 4`, `slide 12`, `at 04:31`, `sheet Plans, row 12`. */
export function locationLabel(location: { kind: 'page' | 'slide' | 'time' | 'row'; value: number; section?: string }): string {
  switch (location.kind) {
    case 'page':
      return `p. ${location.value}`;
    case 'slide':
      return `slide ${location.value}`;
    case 'time':
      return `at ${clockTime(location.value)}`;
    case 'row':
      return location.section !== undefined ? `sheet ${location.section}, row ${location.value}` : `row ${location.value}`;
  }
}
