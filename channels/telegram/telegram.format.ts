/**
 * Turns model output into what Telegram displays. Replies go out as plain text with `entities`,
 * never `parse_mode`: model text full of `*_[]()<>` then cannot break a send, and is shown verbatim
 * apart from the few Markdown forms converted here. Offsets are UTF-16 code units, as JS strings count.
 */
import type { InlineKeyboardMarkup, MessageEntity } from 'grammy/types';
import { ValidationError } from '../../src/errors/app.errors.js';
import type { OutboundMessage } from '../../src/conversation/channel.ports.js';

/** Telegram's longest message text, counted (conservatively) in UTF-16 code units. */
export const TELEGRAM_MAX_TEXT = 4096;
/** Telegram's limit on a button's callback_data, in bytes. */
export const TELEGRAM_MAX_CALLBACK_DATA_BYTES = 64;

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

export interface FormatOptions {
  /** Word that introduces the citation line. */
  citationLabel?: string;
}

// Fenced code, inline code, **bold** — the Markdown models write most; everything else stays literal.
const markup = /```([A-Za-z0-9_+-]*)[ \t]*\n?([\s\S]*?)```|`([^`\n]+)`|\*\*(?=\S)([\s\S]*?\S)\*\*/g;

/** Converts **bold**, `code` and ``` fences to entities, leaving every other character as written. */
export function markdownToEntities(source: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  let copied = 0;
  markup.lastIndex = 0;
  for (let match = markup.exec(source); match; match = markup.exec(source)) {
    const [whole, language, fenced, inline, bold] = match;
    // Bold never spans paragraphs: an unmatched ** far away must not embolden half a reply.
    if (bold !== undefined && bold.includes('\n\n')) {
      markup.lastIndex = match.index + 1;
      continue;
    }
    const content = fenced !== undefined ? fenced.replace(/\n$/, '') : (inline ?? bold ?? '');
    if (content.length === 0) {
      markup.lastIndex = match.index + 1;
      continue;
    }
    text += source.slice(copied, match.index);
    const offset = text.length;
    text += content;
    if (fenced !== undefined) entities.push({ type: 'pre', offset, length: content.length, ...(language ? { language } : {}) });
    else if (inline !== undefined) entities.push({ type: 'code', offset, length: content.length });
    else entities.push({ type: 'bold', offset, length: content.length });
    copied = match.index + whole.length;
  }
  text += source.slice(copied);
  return { text, entities };
}

/** Removes leading and trailing whitespace (Telegram trims it) and moves the entities with the text. */
export function trimFormatted(formatted: FormattedText): FormattedText {
  return sliceFormatted(formatted, 0, formatted.text.length);
}

// The part [start, end) with surrounding whitespace dropped; entities clipped to it and re-based.
function sliceFormatted({ text, entities }: FormattedText, start: number, end: number): FormattedText {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  const sliced: MessageEntity[] = [];
  for (const entity of entities) {
    const from = Math.max(entity.offset, start);
    const to = Math.min(entity.offset + entity.length, end);
    if (to > from) sliced.push({ ...entity, offset: from - start, length: to - from });
  }
  return { text: text.slice(start, end), entities: sliced };
}

/** The whole reply as Telegram shows it: converted Markdown, then the citation line in italics. */
export function formatForTelegram(message: Pick<OutboundMessage, 'text' | 'citations'>, options: FormatOptions = {}): FormattedText {
  const body = trimFormatted(markdownToEntities(message.text));
  const citations = (message.citations ?? []).map((c) => c.trim()).filter(Boolean);
  if (citations.length === 0) return body;
  const line = `${options.citationLabel ?? 'Sources'}: ${citations.join('; ')}`;
  const text = body.text ? `${body.text}\n\n${line}` : line;
  const offset = text.length - line.length;
  return { text, entities: [...body.entities, { type: 'italic', offset, length: line.length }] };
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// The last grapheme boundary at or before `at`, so a cut never splits an emoji, a flag or an accent.
function safeCut(text: string, start: number, at: number): number {
  const from = Math.max(start, at - 64);
  let best = -1;
  for (const { index } of graphemes.segment(text.slice(from, Math.min(text.length, at + 64)))) {
    const position = from + index;
    if (position > at) break;
    if (position > start) best = position;
  }
  if (best > start) return best;
  // A grapheme longer than the window (stacked combining marks): at least keep surrogate pairs whole.
  return isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

const sentenceEnd = /[.!?…。！？][)"'\]»”’]*(?=\s)/g;

// Where the chunk starting at `start` ends: the last paragraph break, line break, sentence end or
// space within the limit, in that order of preference; a hard cut only when there is none.
function chunkEnd(text: string, start: number, limit: number): number {
  if (text.length - start <= limit) return text.length;
  const window = text.slice(start, start + limit);
  for (const separator of ['\n\n', '\n']) {
    const index = window.lastIndexOf(separator);
    if (index > 0) return start + index;
  }
  // One character past the window, so a sentence ending exactly at the limit still counts.
  const lookahead = text.slice(start, start + limit + 1);
  let sentence = -1;
  sentenceEnd.lastIndex = 0;
  for (let match = sentenceEnd.exec(lookahead); match; match = sentenceEnd.exec(lookahead)) {
    const end = match.index + match[0].length;
    if (end <= limit) sentence = end;
  }
  if (sentence > 0) return start + sentence;
  const space = window.search(/\s\S*$/);
  if (space > 0) return start + space;
  return safeCut(text, start, start + limit);
}

/** Splits formatted text into messages of at most `limit` UTF-16 units, entities following their text. */
export function splitFormatted(formatted: FormattedText, limit = TELEGRAM_MAX_TEXT): FormattedText[] {
  const chunks: FormattedText[] = [];
  const { text } = formatted;
  let start = 0;
  while (start < text.length) {
    while (start < text.length && /\s/.test(text[start]!)) start++;
    if (start >= text.length) break;
    const end = chunkEnd(text, start, limit);
    const chunk = sliceFormatted(formatted, start, end);
    if (chunk.text) chunks.push(chunk);
    start = end;
  }
  return chunks;
}

/** An inline keyboard whose presses come back as callback queries carrying the button id. */
export function inlineKeyboard(buttons: NonNullable<OutboundMessage['buttons']>): InlineKeyboardMarkup {
  for (const button of buttons) {
    const bytes = Buffer.byteLength(button.id, 'utf8');
    if (bytes < 1 || bytes > TELEGRAM_MAX_CALLBACK_DATA_BYTES) {
      throw new ValidationError(`Button id must be 1–${TELEGRAM_MAX_CALLBACK_DATA_BYTES} bytes for Telegram callback_data`, { id: button.id, bytes });
    }
    if (!button.title.trim()) throw new ValidationError('Button title must not be empty', { id: button.id });
  }
  const keys = buttons.map((b) => ({ text: b.title, callback_data: b.id }));
  // A few short answers ("Yes", "Later") read best side by side; anything longer gets its own row.
  const oneRow = keys.length <= 3 && keys.every((k) => k.text.length <= 20);
  return { inline_keyboard: oneRow ? [keys] : keys.map((k) => [k]) };
}
