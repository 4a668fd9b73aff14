/**
 * SRT and WebVTT parsing: cues with their times and plain text, and cues merged into passages of a
 * few sentences, each located at its first cue's start. Written here rather than taken from a
 * library: both formats are small, and readable errors ("line 12: …") matter more than coverage of
 * styling nobody searches.
 */

export type SubtitleFormat = 'srt' | 'vtt';

/** One caption: when it is shown (seconds from the start) and what it says, styling removed. */
export interface Cue {
  start: number;
  end: number;
  text: string;
  /** The speaker named by a WebVTT `<v Name>` tag. */
  speaker?: string;
}

/** A few sentences of consecutive cues, located at the first one's start. */
export interface SubtitlePassage {
  start: number;
  text: string;
}

/** The input is not a subtitle file of the format it claims; the message names the line. */
export class SubtitleSyntaxError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'SubtitleSyntaxError';
  }
}

const TIMESTAMP = String.raw`(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?`;
const TIMING = new RegExp(String.raw`^\s*${TIMESTAMP}\s*-->\s*${TIMESTAMP}(?:\s+(.*))?$`);

function seconds(hours: string | undefined, minutes: string, secs: string, fraction: string | undefined): number {
  const millis = fraction ? Number(fraction.padEnd(3, '0')) : 0;
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(secs) + millis / 1000;
}

function parseTiming(line: string): { start: number; end: number } | undefined {
  const m = TIMING.exec(line);
  if (!m) return undefined;
  return { start: seconds(m[1], m[2] as string, m[3] as string, m[4]), end: seconds(m[5], m[6] as string, m[7] as string, m[8]) };
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  lrm: '',
  rlm: '',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Plain text of a cue's payload: tags (`<i>`, `<c.x>`, `<v Name>`, karaoke times), SSA codes and entities resolved. */
function cleanPayload(lines: string[]): { lines: string[]; speaker?: string } {
  let speaker: string | undefined;
  const out: string[] = [];
  for (const raw of lines) {
    const voice = /<v(?:\.[^\s>]*)?\s+([^>]+)>/i.exec(raw);
    if (voice && !speaker) speaker = decodeEntities(voice[1] as string).trim();
    const text = decodeEntities(raw.replace(/<[^>]*>/g, '').replace(/\{\\[^}]*\}/g, ''))
      .replace(/\s+/g, ' ')
      .trim();
    if (text) out.push(text);
  }
  return speaker ? { lines: out, speaker } : { lines: out };
}

/** Splits text into blocks separated by blank lines, each with the 1-based number of its first line. */
function blocks(lines: string[]): Array<{ line: number; lines: string[] }> {
  const result: Array<{ line: number; lines: string[] }> = [];
  let current: { line: number; lines: string[] } | undefined;
  lines.forEach((line, index) => {
    if (line.trim() === '') {
      current = undefined;
      return;
    }
    if (!current) {
      current = { line: index + 1, lines: [] };
      result.push(current);
    }
    current.lines.push(line);
  });
  return result;
}

function expectedTiming(format: SubtitleFormat): string {
  return format === 'srt' ? 'expected a timestamp like 00:01:02,500 --> 00:01:04,000' : 'expected a timestamp like 00:01:02.500 --> 00:01:04.000';
}

/**
 * The cues of an SRT or WebVTT text (BOM and line endings already normalised by the caller or not),
 * in file order. Throws SubtitleSyntaxError naming the first line that is neither a cue nor a
 * block the format allows (WebVTT NOTE, STYLE, REGION).
 */
export function parseCues(source: string, format: SubtitleFormat): Cue[] {
  const lines = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const all = blocks(lines);
  if (format === 'vtt') {
    const header = all.shift();
    if (!header || header.line !== 1 || !/^WEBVTT(?:[ \t].*)?$/.test(header.lines[0] as string)) {
      throw new SubtitleSyntaxError(header?.line ?? 1, 'expected the WebVTT header "WEBVTT"');
    }
    // A header block may run straight into the first cue when no blank line separates them.
    const timingAt = header.lines.findIndex((l) => l.includes('-->'));
    if (timingAt > 0) all.unshift({ line: header.line + Math.max(1, timingAt - 1), lines: header.lines.slice(Math.max(1, timingAt - 1)) });
  }
  const cues: Cue[] = [];
  for (const block of all) {
    const first = block.lines[0] as string;
    if (format === 'vtt' && /^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) continue;
    // The timing line is the first line, or the second after a cue number (SRT) or identifier (WebVTT).
    let at = 0;
    if (!first.includes('-->') && block.lines.length > 1) {
      if (format === 'srt' ? /^\s*\d+\s*$/.test(first) : (block.lines[1] as string).includes('-->')) at = 1;
    }
    const timingLine = block.lines[at] as string;
    const timing = timingLine.includes('-->') ? parseTiming(timingLine) : undefined;
    const previous = cues.at(-1);
    if (!timing && format === 'srt' && at === 0 && previous && !first.includes('-->') && !/^\s*\d+\s*$/.test(first)) {
      // Some SRT writers leave a blank line inside a cue's text: what follows belongs to that cue.
      const more = cleanPayload(block.lines).lines;
      if (more.length) previous.text = `${previous.text}\n${more.join('\n')}`;
      continue;
    }
    if (!timing) throw new SubtitleSyntaxError(block.line + at, expectedTiming(format));
    const { lines: text, speaker } = cleanPayload(block.lines.slice(at + 1));
    if (text.length === 0) continue;
    cues.push({ start: timing.start, end: timing.end, text: text.join('\n'), ...(speaker ? { speaker } : {}) });
  }
  return dropRollUpRepeats(cues);
}

/**
 * Roll-up captions (live and automatic ones) show each line two or three times as it scrolls up:
 * a cue repeats the lines of the one before and adds one. Only the new lines are kept, and a cue
 * left empty is dropped.
 */
function dropRollUpRepeats(cues: Cue[]): Cue[] {
  const kept: Cue[] = [];
  let previous: string[] = [];
  for (const cue of cues) {
    const lines = cue.text.split('\n');
    const fresh = lines.filter((line) => !previous.includes(line));
    previous = lines;
    if (fresh.length === 0) continue;
    kept.push({ ...cue, text: fresh.join('\n') });
  }
  return kept;
}

export interface PassageOptions {
  /** Sentences after which a passage ends (at the end of a cue). */
  sentences: number;
  /** Characters after which a passage ends at the next cue's end, sentence or not. */
  maxChars: number;
  /** A silence this long (seconds) between cues starts a new passage. */
  pauseSeconds: number;
}

export const DEFAULT_PASSAGE_OPTIONS: PassageOptions = { sentences: 3, maxChars: 600, pauseSeconds: 8 };

const SENTENCE_END = /[.!?…]["'”’)\]]*(?=\s|$)/g;

/** Merges cues into passages of a few sentences; a speaker change is written as `Name: `. */
export function mergeCues(cues: readonly Cue[], options: PassageOptions = DEFAULT_PASSAGE_OPTIONS): SubtitlePassage[] {
  const passages: SubtitlePassage[] = [];
  let start = 0;
  let parts: string[] = [];
  let sentences = 0;
  let chars = 0;
  let lastEnd = -Infinity;
  let speaker: string | undefined;
  const close = () => {
    if (parts.length) passages.push({ start, text: parts.join(' ') });
    parts = [];
    sentences = 0;
    chars = 0;
  };
  for (const cue of cues) {
    if (parts.length && cue.start - lastEnd > options.pauseSeconds) close();
    let text = cue.text.replace(/\n/g, ' ');
    if (cue.speaker && cue.speaker !== speaker) {
      speaker = cue.speaker;
      text = `${cue.speaker}: ${text}`;
    }
    if (!parts.length) start = cue.start;
    parts.push(text);
    chars += text.length + 1;
    sentences += text.match(SENTENCE_END)?.length ?? 0;
    lastEnd = Math.max(lastEnd, cue.end);
    const endsSentence = /[.!?…]["'”’)\]]*$/.test(text);
    if ((sentences >= options.sentences && endsSentence) || chars >= options.maxChars) close();
  }
  close();
  return passages;
}
