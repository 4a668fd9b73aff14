/**
 * Turns model output into WhatsApp text. WhatsApp has its own light markup (*bold*, _italic_,
 * ```mono```), so the Markdown models write most is converted and everything else is sent verbatim.
 */
import type { OutboundMessage } from '../../src/conversation/channel.ports.js';

/** WhatsApp's longest text message, counted (conservatively) in UTF-16 code units as whatsapp-api-js does. */
export const WHATSAPP_MAX_TEXT = 4096;
/** Longest body of an interactive (buttons or list) message. */
export const WHATSAPP_MAX_INTERACTIVE_BODY = 1024;

/** `**bold**` and `# Heading` become WhatsApp's `*bold*`; the rest is left as written. */
export function markdownToWhatsApp(text: string): string {
  return text
    .replace(/\*\*(?=\S)([^\n]*?\S)\*\*/g, '*$1*')
    .replace(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm, '*$1*');
}

/** The whole reply as WhatsApp shows it: converted markup, then the sources in italics. */
export function formatForWhatsApp(message: Pick<OutboundMessage, 'text' | 'citations'>, options: { citationLabel?: string } = {}): string {
  const body = markdownToWhatsApp(message.text).trim();
  const citations = (message.citations ?? []).map((c) => c.trim()).filter(Boolean);
  if (citations.length === 0) return body;
  const line = `_${options.citationLabel ?? 'Sources'}: ${citations.join('; ')}_`;
  return body ? `${body}\n\n${line}` : line;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

// The last grapheme boundary at or before `at`, so a hard cut never splits an emoji or an accent.
function safeCut(text: string, at: number): number {
  const from = Math.max(0, at - 64);
  let best = -1;
  for (const { index } of graphemes.segment(text.slice(from, at + 64))) {
    const position = from + index;
    if (position > at) break;
    if (position > 0) best = position;
  }
  if (best > 0) return best;
  return isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

const sentenceEnd = /[.!?…。！？][)"'\]»”’]*(?=\s)/g;

// Where the first chunk of `text` ends: the last paragraph break within the limit, else line break,
// sentence end or space, in that order; a hard cut only when there is none.
function cutPoint(text: string, limit: number): number {
  const window = text.slice(0, limit);
  for (const separator of ['\n\n', '\n']) {
    const index = window.lastIndexOf(separator);
    if (index > 0) return index;
  }
  let sentence = -1;
  const lookahead = text.slice(0, limit + 1);
  sentenceEnd.lastIndex = 0;
  for (let match = sentenceEnd.exec(lookahead); match; match = sentenceEnd.exec(lookahead)) {
    const end = match.index + match[0].length;
    if (end <= limit) sentence = end;
  }
  if (sentence > 0) return sentence;
  const space = window.lastIndexOf(' ');
  if (space > 0) return space;
  return safeCut(text, limit);
}

/** Splits text into messages of at most `limit` characters, preferring paragraph boundaries. */
export function splitText(text: string, limit = WHATSAPP_MAX_TEXT): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    const cut = cutPoint(rest, limit);
    const chunk = rest.slice(0, cut).trimEnd();
    if (chunk) chunks.push(chunk);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

/** Shortens a label to `max` characters with an ellipsis, keeping graphemes whole. */
export function shorten(label: string, max: number): string {
  const trimmed = label.trim();
  if (trimmed.length <= max) return trimmed;
  return `${trimmed.slice(0, safeCut(trimmed, max - 1)).trimEnd()}…`;
}
