import { contentWords, overlap } from './lexical.js';
import type { GroundingPassage } from './ports.js';
import { labelled, mergedLocationLabel, type SourceLocation } from './source-location.js';
import type { TurnSource } from './types.js';

// A passage counts as used when it accounts for at least this many of the reply's words that the
// passages already counted do not, so one that merely repeats the topic is not cited as well.
const MIN_NEW_WORDS = 2;

/**
 * The quoted passages a reply draws on, in prompt order: a greedy cover of the reply's words, best
 * contributor first. Falls back to the top passage when the reply shares too little with any of
 * them (a heavily paraphrased answer still came from there).
 */
export function attributeSources<P extends GroundingPassage>(reply: string, passages: readonly P[]): P[] {
  if (passages.length === 0) return [];
  const unexplained = new Set(contentWords(reply));
  const vocabularies = passages.map((p) => new Set(contentWords(p.text)));
  const used = new Set<number>();
  for (;;) {
    let best = -1;
    let bestGain = MIN_NEW_WORDS - 1;
    vocabularies.forEach((vocabulary, i) => {
      if (used.has(i)) return;
      const gain = overlap(vocabulary, unexplained);
      if (gain > bestGain) [best, bestGain] = [i, gain];
    });
    if (best < 0) break;
    used.add(best);
    for (const word of vocabularies[best] as Set<string>) unexplained.delete(word);
  }
  if (used.size === 0) return [passages[0] as P];
  return passages.filter((_, i) => used.has(i));
}

/** A passage's location: the one it carries, else its page (passages from before locations existed). */
function locationOf(p: { page?: number; location?: SourceLocation }): SourceLocation | undefined {
  return p.location ?? (p.page !== undefined ? { kind: 'page', value: p.page } : undefined);
}

/** One source per distinct document location (page, slide, time), in first-use order. */
export function distinctSources(passages: readonly GroundingPassage[]): TurnSource[] {
  const seen = new Set<string>();
  const sources: TurnSource[] = [];
  for (const p of passages) {
    const location = locationOf(p);
    const key = `${p.documentId}\u0000${location ? `${location.kind}:${location.value}:${location.section ?? ''}` : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sources.push({
      documentId: p.documentId,
      title: p.title,
      ...(p.page !== undefined ? { page: p.page } : {}),
      ...(location ? { location: labelled(location) } : {}),
    });
  }
  return sources;
}

function displayTitle(title: string): string {
  const oneLine = title.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? 'Untitled document' : oneLine;
}

/**
 * Phone-friendly citation lines, one per document with its locations merged:
 * `— Sleep Guide, pp. 4, 7`, `— Course video, at 04:31, 07:10`.
 */
export function citationLines(sources: readonly TurnSource[]): string[] {
  const byDocument = new Map<string, { title: string; locations: SourceLocation[] }>();
  for (const s of sources) {
    const entry = byDocument.get(s.documentId) ?? { title: s.title, locations: [] };
    const location = locationOf(s);
    if (location) entry.locations.push(location);
    byDocument.set(s.documentId, entry);
  }
  return [...byDocument.values()].map(({ title, locations }) => {
    const where = mergedLocationLabel(locations);
    return `— ${displayTitle(title)}${where ? `, ${where}` : ''}`;
  });
}

/** The text appended to a reply to cite `sources`; empty when citing is off or nothing was used. */
export function citationBlock(sources: readonly TurnSource[], citeSources: boolean): string {
  if (!citeSources || sources.length === 0) return '';
  return `\n\n${citationLines(sources).join('\n')}`;
}
