/** One sentence of a passage that can be quoted on its own. */
export interface PassageSentence {
  /** Position among all the passage's segments (headings and fragments count), so gaps show. */
  index: number;
  text: string;
}

// Fragments shorter than this (figure labels, list numbers) say too little on their own.
const MIN_SENTENCE_CHARS = 20;
// A line this short with no closing punctuation, followed by text, is a heading or a label, not a
// sentence broken by the PDF's line wrap: wrapped lines run close to the full column width.
const MAX_HEADING_CHARS = 60;
const HEADING_SHARE_OF_WIDEST_LINE = 0.7;

const MARKDOWN_HEADING = /^#{1,6}\s/u;
const LIST_MARKER = /^(?:[-*•·>]|\d{1,3}[.)])\s+/u;
// A sentence ends with . ! ? or … possibly followed by closing quotes or brackets.
const SENTENCE_END = /[.!?…]["'”’»)\]]*$/u;
const LINE_CONTINUES = /[.!?…:;,]["'”’»)\]]*$/u;
// Not "(": in PDFs a bracket opening a line is mostly a citation or an aside wrapped from the line above.
const STARTS_LIKE_TEXT = /^[\p{Lu}\p{N}"“'‘«¿¡]/u;
// Text drawn inside a PDF's figures comes out as runs of symbols that the segmenter still cuts at
// full stops; a sentence is mostly letters.
const MIN_LETTER_SHARE = 0.6;

function mostlyLetters(sentence: string): boolean {
  const visible = sentence.replace(/\s/gu, '').length;
  return (sentence.match(/\p{L}/gu)?.length ?? 0) >= visible * MIN_LETTER_SHARE;
}

const segmenters = new Map<string, Intl.Segmenter>();

function segmenter(language: string): Intl.Segmenter {
  let found = segmenters.get(language);
  if (!found) {
    try {
      found = new Intl.Segmenter(language, { granularity: 'sentence' });
    } catch {
      // An unusable language tag still deserves sentences; the rules differ little between locales.
      found = new Intl.Segmenter('en', { granularity: 'sentence' });
    }
    segmenters.set(language, found);
  }
  return found;
}

// The segmenter ends a sentence after any full stop followed by a capital, so "Mohammad R. Haghighat"
// or "Dr. Smith" would end one; and after a quoted question it breaks even before a lower-case
// word ('a personal "should I buy this?" test').
const NOT_AN_END = /(?:^|[\s(])(?:\p{Lu}|Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|Fig|Figs|Eq|No|Vol|pp|cf|e\.g|i\.e|et al)\.\s*$/u;
const QUOTED_QUESTION = /[?!]["'”’»)\]]+\s*$/u;
const STARTS_LOWER = /^\p{Ll}/u;

/** The unit's sentences by `Intl.Segmenter`, rejoined where it broke inside a token or after an initial, an abbreviation or a quoted question. */
function sentencesOf(text: string, language: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const { segment } of segmenter(language).segment(text)) {
    // A break with no space after it falls inside a token (PDF figure text glued to a sentence).
    const glued = pending !== '' && !/\s$/u.test(pending);
    if (pending !== '' && (glued || NOT_AN_END.test(pending) || (QUOTED_QUESTION.test(pending) && STARTS_LOWER.test(segment)))) {
      pending += segment;
      continue;
    }
    if (pending.trim() !== '') out.push(pending.trim());
    pending = segment;
  }
  if (pending.trim() !== '') out.push(pending.trim());
  return out;
}

interface Unit {
  text: string;
  /** Headings and labels are kept apart and never quoted. */
  heading: boolean;
}

/**
 * Rebuilds the running text of one blank-line-separated block: lines wrapped inside a sentence are
 * joined, while headings, labels and list items stay units of their own.
 */
function blockUnits(block: string): Unit[] {
  const lines = block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const widest = Math.max(0, ...lines.map((line) => line.length));
  const headingWidth = lines.length > 2 ? Math.min(MAX_HEADING_CHARS, widest * HEADING_SHARE_OF_WIDEST_LINE) : MAX_HEADING_CHARS;
  const units: Unit[] = [];
  let open: string[] = [];
  const close = () => {
    if (open.length > 0) units.push({ text: open.join(' '), heading: false });
    open = [];
  };
  lines.forEach((line, i) => {
    const next = lines[i + 1];
    if (MARKDOWN_HEADING.test(line)) {
      close();
      units.push({ text: line, heading: true });
      return;
    }
    const item = LIST_MARKER.exec(line);
    if (item) close();
    const text = item ? line.slice(item[0].length) : line;
    const label =
      next !== undefined && !LINE_CONTINUES.test(text) && text.length <= headingWidth && STARTS_LIKE_TEXT.test(next.replace(LIST_MARKER, ''));
    if (label) {
      close();
      units.push({ text, heading: true });
      return;
    }
    open.push(text);
  });
  close();
  return units;
}

/**
 * The sentences of a passage that can be quoted whole, found by `Intl.Segmenter` after PDF line
 * wraps are joined. A sentence must start like one and end with its closing punctuation, so the
 * cut ends of a chunk and a heading never pass for sentences; the passage's first sentence starts
 * mid-sentence when its chunk did, and then it does not start like one.
 */
export function passageSentences(text: string, language: string): PassageSentence[] {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n[^\S\n]*\n/u);
  const cut = /…\s*$/u.test(text); // a passage shortened to fit the prompt ends with "…"
  const out: PassageSentence[] = [];
  let index = 0;
  const units = blocks.flatMap(blockUnits);
  units.forEach((unit, u) => {
    if (unit.heading) {
      index += 1;
      return;
    }
    const segments = sentencesOf(unit.text, language);
    segments.forEach((sentence, s) => {
      const last = u === units.length - 1 && s === segments.length - 1;
      const whole = STARTS_LIKE_TEXT.test(sentence) && SENTENCE_END.test(sentence) && !(last && cut);
      if (whole && sentence.length >= MIN_SENTENCE_CHARS && mostlyLetters(sentence)) out.push({ index, text: sentence.replace(/\s+/gu, ' ') });
      index += 1;
    });
  });
  return out;
}
