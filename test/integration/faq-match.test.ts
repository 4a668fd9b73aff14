import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAQ_MATCH_THRESHOLD } from '../../rag/faq-match.js';
import { figuresAt, scoreFaqQueries, type FaqEvaluationData, type ScoredQuery } from '../../scripts/eval-faq.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const data = JSON.parse(readFileSync(new URL('../data/faq/evaluation.json', import.meta.url), 'utf8')) as FaqEvaluationData;
let database: TestDatabase;
let scored: ScoredQuery[];

beforeAll(async () => {
  database = await createTestDatabase();
  // The threshold was chosen on these; the held-out questions are figures for `npm run eval:faq`.
  scored = (await scoreFaqQueries(database.pool, data)).filter((q) => !q.heldOut);
});
afterAll(async () => {
  await database?.drop();
});

describe('FAQ matching on the evaluation list the threshold was chosen on', () => {
  it('gives no near-miss a pair’s answer at the threshold in use', () => {
    const matched = scored.filter((q) => q.expected === null && q.score >= FAQ_MATCH_THRESHOLD).map((q) => q.text);
    expect(matched).toEqual([]);
  });

  it('finds the right pair for most paraphrases, and never a wrong one', () => {
    const figures = figuresAt(scored, FAQ_MATCH_THRESHOLD);
    expect(figures.precision).toBe(1);
    expect(figures.recall).toBeGreaterThanOrEqual(0.9);
  });
});
