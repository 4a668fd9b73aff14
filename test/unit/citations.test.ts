import { describe, expect, it } from 'vitest';
import { attributeSources, citationBlock, citationLines, distinctSources } from '../../src/conversation/citations.js';
import type { GroundingPassage } from '../../src/conversation/ports.js';

const sleep4: GroundingPassage = {
  id: 1,
  documentId: 'doc-sleep',
  title: 'Sleep Guide',
  page: 4,
  text: 'Adults need seven to nine hours of sleep. Keep a regular bedtime, even at weekends.',
};
const sleep7: GroundingPassage = {
  id: 2,
  documentId: 'doc-sleep',
  title: 'Sleep Guide',
  page: 7,
  text: 'Avoid screens for an hour before bedtime; blue light delays melatonin.',
};
const protein: GroundingPassage = {
  id: 3,
  documentId: 'doc-food',
  title: 'Nutrition Basics',
  page: 2,
  text: 'Protein at breakfast keeps you full until lunch. Eggs, yoghurt and beans are easy choices.',
};
const article: GroundingPassage = { id: 4, documentId: 'doc-web', title: 'Morning Routines', text: 'Start your morning with water and light.' };

describe('citation lines', () => {
  it('names a single page as "p. N"', () => {
    expect(citationLines(distinctSources([sleep4]))).toEqual(['— Sleep Guide, p. 4']);
  });

  it('merges the pages of one document into one line, sorted: "pp. 4, 7"', () => {
    expect(citationLines(distinctSources([sleep7, sleep4, sleep7]))).toEqual(['— Sleep Guide, pp. 4, 7']);
  });

  it('gives one line per document in the order they were used, title only when there are no pages', () => {
    expect(citationLines(distinctSources([protein, article, sleep4]))).toEqual([
      '— Nutrition Basics, p. 2',
      '— Morning Routines',
      '— Sleep Guide, p. 4',
    ]);
  });

  it('keeps a messy title on one line and never prints an empty one', () => {
    const messy = { ...article, title: '  Morning\n  Routines ' };
    const untitled = { ...article, documentId: 'doc-x', title: '   ' };
    expect(citationLines(distinctSources([messy, untitled]))).toEqual(['— Morning Routines', '— Untitled document']);
  });

  it('names e-book chapters by number and title (the number not repeated), and export files by their folder path, each once in document order', () => {
    const chapter = (value: number, section?: string): GroundingPassage => ({ id: value, documentId: 'doc-book', title: 'The Sleep Book', text: 'x', location: { kind: 'chapter', value, ...(section ? { section } : {}) } });
    const file = (value: number, section: string): GroundingPassage => ({ id: 10 + value, documentId: 'doc-export', title: 'Notion export', text: 'y', location: { kind: 'path', value, section } });
    const sources = distinctSources([chapter(5, 'Naps, and when to skip them'), file(2, 'Course/Week 1/Breathing'), chapter(3, 'Winding down'), chapter(5, 'Naps, and when to skip them'), chapter(7, 'Chapter 7'), chapter(8, 'Kapitel 8: Träume'), chapter(9, 'Chapter 2: Stress')]);
    expect(sources[0]!.location).toEqual({ kind: 'chapter', value: 5, section: 'Naps, and when to skip them', label: 'ch. 5 “Naps, and when to skip them”' });
    expect(citationLines(sources)).toEqual(['— The Sleep Book, ch. 3 “Winding down”; ch. 5 “Naps, and when to skip them”; ch. 7; ch. 8 “Träume”; ch. 9 “Chapter 2: Stress”', '— Notion export, Course/Week 1/Breathing']);
  });
});

describe('citation block', () => {
  it('is separated from the reply by a blank line', () => {
    expect(citationBlock(distinctSources([sleep4, protein]), true)).toBe('\n\n— Sleep Guide, p. 4\n— Nutrition Basics, p. 2');
  });

  it('is empty when the bot does not cite sources, or nothing was used', () => {
    expect(citationBlock(distinctSources([sleep4]), false)).toBe('');
    expect(citationBlock([], true)).toBe('');
  });
});

describe('source attribution', () => {
  it('cites the passages the reply draws on, not every passage in the prompt', () => {
    const reply = 'Most adults need seven to nine hours of sleep, so keep a regular bedtime.';
    expect(attributeSources(reply, [sleep4, protein]).map((p) => p.id)).toEqual([1]);
  });

  it('cites several passages when the reply combines them', () => {
    const reply = 'Keep a regular bedtime and avoid screens for an hour before bed — blue light delays melatonin.';
    expect(attributeSources(reply, [sleep4, sleep7, protein]).map((p) => p.id)).toEqual([1, 2]);
  });

  it('falls back to the best-ranked passage when the reply is a loose paraphrase', () => {
    expect(attributeSources('Try winding down earlier.', [sleep7, protein]).map((p) => p.id)).toEqual([2]);
  });
});
