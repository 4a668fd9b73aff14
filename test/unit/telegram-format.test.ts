import { describe, expect, it } from 'vitest';
import {
  TELEGRAM_MAX_TEXT,
  formatForTelegram,
  inlineKeyboard,
  markdownToEntities,
  splitFormatted,
  type FormattedText,
} from '../../channels/telegram/telegram.format.js';
import { ValidationError } from '../../src/errors/app.errors.js';

/** The text an entity covers, read the way Telegram reads offsets (UTF-16 code units). */
function covered(formatted: FormattedText, type: string): string[] {
  return formatted.entities.filter((e) => e.type === type).map((e) => formatted.text.slice(e.offset, e.offset + e.length));
}

const paragraph = (words: number, word = 'habit') => Array.from({ length: words }, (_, i) => `${word}${i}`).join(' ') + '.';

describe('formatting model output for Telegram', () => {
  it('delivers Markdown and HTML special characters verbatim, with no entities', () => {
    const text = 'Rule *1*: _never_ [skip](x) ~twice~ > 2 # + - = | {a} . ! <b>bold?</b> &amp; a_b*c 2 ** 3';
    expect(formatForTelegram({ text })).toEqual({ text, entities: [] });
  });

  it('turns **bold** into a bold entity and drops the markers', () => {
    const formatted = formatForTelegram({ text: 'Drink **two glasses** of water, then **rest**.' });
    expect(formatted.text).toBe('Drink two glasses of water, then rest.');
    expect(covered(formatted, 'bold')).toEqual(['two glasses', 'rest']);
  });

  it('leaves unmatched or paragraph-spanning ** alone', () => {
    expect(formatForTelegram({ text: 'a ** b' }).text).toBe('a ** b');
    const spanning = formatForTelegram({ text: '**start\n\nend**' });
    expect(spanning).toEqual({ text: '**start\n\nend**', entities: [] });
  });

  it('turns `code` and fenced blocks into code and pre entities', () => {
    const formatted = formatForTelegram({ text: 'Run `npm test` then:\n```bash\necho **hi**\n```\nDone' });
    expect(formatted.text).toBe('Run npm test then:\necho **hi**\nDone');
    expect(covered(formatted, 'code')).toEqual(['npm test']);
    expect(covered(formatted, 'pre')).toEqual(['echo **hi**']);
    expect(formatted.entities.find((e) => e.type === 'pre')).toMatchObject({ language: 'bash' });
  });

  it('computes offsets in UTF-16 code units when emoji come first', () => {
    const formatted = formatForTelegram({ text: '🏃‍♀️💪 Great week! **Keep going** 🇩🇪 and **rest** 👍🏽' });
    expect(covered(formatted, 'bold')).toEqual(['Keep going', 'rest']);
    // 🏃‍♀️ is 5 UTF-16 units and 💪 is 2: "Keep going" starts after 7 + " Great week! ".length.
    expect(formatted.entities[0]).toEqual({ type: 'bold', offset: 7 + ' Great week! '.length, length: 10 });
  });

  it('adds the citation line in italics under the reply', () => {
    const formatted = formatForTelegram({ text: 'Sleep 8 hours. 😴', citations: ['Sleep guide, p. 3', 'Habits 101'] });
    expect(formatted.text).toBe('Sleep 8 hours. 😴\n\nSources: Sleep guide, p. 3; Habits 101');
    expect(covered(formatted, 'italic')).toEqual(['Sources: Sleep guide, p. 3; Habits 101']);
    expect(formatForTelegram({ text: 'x', citations: ['A'] }, { citationLabel: 'Quellen' }).text).toBe('x\n\nQuellen: A');
  });

  it('trims surrounding whitespace and moves entities with it', () => {
    const formatted = markdownToEntities('\n\n  **hi** there  ');
    expect(formatForTelegram({ text: '\n\n  **hi** there  ' })).toEqual({ text: 'hi there', entities: [{ type: 'bold', offset: 0, length: 2 }] });
    expect(formatted.text).toBe('\n\n  hi there  ');
  });
});

describe('splitting long replies', () => {
  it('keeps a reply within 4,096 characters as one message', () => {
    const text = 'a'.repeat(TELEGRAM_MAX_TEXT);
    expect(splitFormatted({ text, entities: [] })).toEqual([{ text, entities: [] }]);
  });

  it('splits on paragraph boundaries, every part within the limit, nothing lost', () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `${i}: ${paragraph(120)}`);
    const text = paragraphs.join('\n\n');
    expect(text.length).toBeGreaterThan(TELEGRAM_MAX_TEXT * 2);
    const parts = splitFormatted({ text, entities: [] });
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) {
      expect(part.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
      // Every part is made of whole paragraphs.
      for (const piece of part.text.split('\n\n')) expect(paragraphs).toContain(piece);
    }
    expect(parts.map((p) => p.text).join('\n\n')).toBe(text);
  });

  it('falls back to lines, then sentences, then words', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(30)}`).join('\n');
    for (const part of splitFormatted({ text: lines, entities: [] })) {
      expect(part.text.startsWith('line ')).toBe(true);
      expect(part.text.endsWith('x')).toBe(true);
    }
    const sentences = Array.from({ length: 300 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const bySentence = splitFormatted({ text: sentences, entities: [] });
    expect(bySentence.length).toBe(3);
    for (const part of bySentence) expect(part.text).toMatch(/^Sentence number \d+ is here\..*\.$/s);
    const words = Array.from({ length: 1000 }, (_, i) => `word${i}`).join(' ');
    const byWord = splitFormatted({ text: words, entities: [] });
    expect(byWord.map((p) => p.text).join(' ')).toBe(words);
  });

  it('never cuts inside an emoji, even without any space to split on', () => {
    const text = '😀'.repeat(3000) + '👍🏽'.repeat(1000);
    const parts = splitFormatted({ text, entities: [] });
    expect(parts.join('')).not.toContain('\uFFFD');
    for (const part of parts) {
      expect(part.text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
      expect(/^[\uDC00-\uDFFF]/.test(part.text)).toBe(false);
      expect(/[\uD800-\uDBFF]$/.test(part.text)).toBe(false);
      // Skin-tone modifiers stay with their emoji.
      expect(part.text.startsWith('🏽')).toBe(false);
    }
    expect(parts.map((p) => p.text).join('')).toBe(text);
  });

  it('carries entities into the part they fall in, clipped at the cut', () => {
    const first = paragraph(500, 'a');
    const formatted = formatForTelegram({ text: `${first}\n\nThe **key point** 🎯 here.`, citations: ['Guide'] });
    const parts = splitFormatted(formatted);
    const last = parts.at(-1)!;
    expect(covered(last, 'bold')).toEqual(['key point']);
    expect(covered(last, 'italic')).toEqual(['Sources: Guide']);
    // A bold run longer than a message is split into bold runs in both parts.
    const long = formatForTelegram({ text: `**${'b'.repeat(5000)}**` });
    const longParts = splitFormatted(long);
    expect(longParts.map((p) => covered(p, 'bold')[0]?.length)).toEqual([4096, 904]);
  });
});

describe('buttons', () => {
  it('short answers share a row; long titles get one row each', () => {
    expect(inlineKeyboard([{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'Not now' }])).toEqual({
      inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }, { text: 'Not now', callback_data: 'no' }]],
    });
    const long = inlineKeyboard([{ id: 'a', title: 'Tell me more about sleep hygiene' }, { id: 'b', title: 'B' }]);
    expect(long.inline_keyboard).toHaveLength(2);
  });

  it('refuses a button id over 64 bytes of callback_data', () => {
    expect(() => inlineKeyboard([{ id: 'é'.repeat(33), title: 'Too long' }])).toThrow(ValidationError);
    expect(() => inlineKeyboard([{ id: 'x'.repeat(64), title: 'Fits' }])).not.toThrow();
  });
});
