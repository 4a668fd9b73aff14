import { contentWords, overlap } from './lexical.js';
import type { GroundingPassage } from './ports.js';
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

/** One source per distinct document page, in first-use order. */
export function distinctSources(passages: readonly GroundingPassage[]): TurnSource[] {
  const seen = new Set<string>();
  const sources: TurnSource[] = [];
  for (const p of passages) {
    const key = `${p.documentId}\u0000${p.page ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sources.push({ documentId: p.documentId, title: p.title, ...(p.page !== undefined ? { page: p.page } : {}) });
  }
  return sources;
}

function displayTitle(title: string): string {
  const oneLine = title.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? 'Untitled document' : oneLine;
}

/** Phone-friendly citation lines, one per document with its pages merged: `— Sleep Guide, pp. 4, 7`. */
export function citationLines(sources: readonly TurnSource[]): string[] {
  const byDocument = new Map<string, { title: string; pages: Set<number> }>();
  for (const s of sources) {
    const entry = byDocument.get(s.documentId) ?? { title: s.title, pages: new Set<number>() };
    if (s.page !== undefined) entry.pages.add(s.page);
    byDocument.set(s.documentId, entry);
  }
  return [...byDocument.values()].map(({ title, pages }) => {
    const sorted = [...pages].sort((a, b) => a - b);
    const where = sorted.length === 0 ? '' : sorted.length === 1 ? `, p. ${sorted[0]}` : `, pp. ${sorted.join(', ')}`;
    return `— ${displayTitle(title)}${where}`;
  });
}

/** The text appended to a reply to cite `sources`; empty when citing is off or nothing was used. */
export function citationBlock(sources: readonly TurnSource[], citeSources: boolean): string {
  if (!citeSources || sources.length === 0) return '';
  return `\n\n${citationLines(sources).join('\n')}`;
}
