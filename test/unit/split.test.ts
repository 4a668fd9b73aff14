import { describe, expect, it } from 'vitest';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { TextSplitter } from '../../rag/split.js';
import { fixture } from '../support/fixtures.js';

const splitter = new TextSplitter({ chunkSize: 400, chunkOverlap: 60 });

describe('splitting documents into chunks', () => {
  it('keeps every chunk of the paper on its page, in order, within the size', async () => {
    const doc = await createLoaderRegistry().load({ bytes: fixture('docs/pdfjs__tracemonkey.pdf'), mediaType: 'application/pdf' });
    const chunks = await splitter.split(doc);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
    // Pages never go backwards, so no chunk merges the end of one page with the start of the next.
    const pages = chunks.map((c) => c.page!);
    expect(pages).toEqual([...pages].sort((a, b) => a - b));
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(400);
      expect(chunk.text.trim()).toBe(chunk.text);
      expect(chunk.text).not.toMatch(/ {2,}|\n{3,}/);
    }
    expect(chunks.find((c) => c.text.includes('Brendan Eich'))?.page).toBe(1);
    expect(chunks.find((c) => c.text.includes('Starkiller'))?.page).toBe(14);
  });

  it('cuts Markdown at headings rather than mid-section', async () => {
    const section = (title: string) => `## ${title}\n\n${`${title} practice takes a few minutes every day. `.repeat(6)}`;
    const text = ['# Habits', section('Breathing'), section('Walking'), section('Journaling')].join('\n\n');
    const chunks = await splitter.split({ pages: [{ text }], format: 'markdown' });
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const title of ['Breathing', 'Walking', 'Journaling']) {
      const withHeading = chunks.find((c) => c.text.includes(`## ${title}`));
      expect(withHeading?.text).toContain(`${title} practice takes a few minutes every day.`);
    }
    // No chunk runs from the end of one section into the next.
    expect(chunks.every((c) => (c.text.match(/^## /gm) ?? []).length <= 1)).toBe(true);
    expect(chunks.every((c) => c.page === undefined)).toBe(true);
  });

  it('overlaps neighbouring chunks so a sentence at a border stays findable', async () => {
    const words = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const chunks = await splitter.split({ pages: [{ text: words }], format: 'text' });
    expect(chunks.length).toBeGreaterThan(1);
    const [first, second] = chunks;
    const lastWordsOfFirst = first!.text.split(' ').slice(-3).join(' ');
    expect(second!.text).toContain(lastWordsOfFirst);
  });

  it('normalises whitespace and drops pages and pieces without text', async () => {
    const chunks = await splitter.split({
      pages: [
        { page: 1, text: '   \n\n\t  ' },
        { page: 2, text: 'Rest   well.\t\tSleep\u0000 eight hours.\n\n\n\n\nWake up\r\nat seven.' },
      ],
      format: 'text',
    });
    expect(chunks).toEqual([{ ordinal: 0, page: 2, text: 'Rest well. Sleep eight hours.\n\nWake up\nat seven.' }]);
  });

  it('tolerates an overlap configured as large as the chunk', async () => {
    const wide = new TextSplitter({ chunkSize: 200, chunkOverlap: 2000 });
    const chunks = await wide.split({ pages: [{ text: 'Stretch gently. '.repeat(60) }], format: 'text' });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.text.length <= 200)).toBe(true);
  });
});
