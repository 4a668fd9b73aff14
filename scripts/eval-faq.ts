/**
 * How well a user's question finds the creator's FAQ pair, on a labelled list of paraphrases (each
 * should find its pair) and near-misses (questions close to a pair in words but asking something
 * else, which must find none):
 *
 *   npm run eval:faq [-- --data test/data/faq/evaluation.json]
 *
 * The pairs are written to a fresh database (`t_evalfaq_<random>` on the local server, dropped at
 * the end; or DATABASE_URL) through the platform's repository, and every question is scored by the
 * FaqMatcher the bot uses. Prints precision and recall at a range of thresholds and at the one in
 * use (FAQ_MATCH_THRESHOLD).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FAQ_MATCH_THRESHOLD, FaqMatcher } from '../rag/faq-match.js';
import { createPool } from '../src/db/database.js';
import { FaqRepository } from '../src/db/faq.repository.js';
import { migrate } from '../src/db/migrate.js';

export interface FaqEvaluationData {
  language: string;
  faqs: Array<{ question: string; answer: string }>;
  /**
   * `faq`: the index of the pair the question asks, or null for a near-miss. `heldOut`: written after
   * the threshold was chosen and never used to choose it, so its figures say how the choice carries over.
   */
  queries: Array<{ text: string; faq: number | null; heldOut?: boolean }>;
}

/** Per question: the best pair's index and score (null when no pair shares a word). */
export interface ScoredQuery {
  text: string;
  heldOut: boolean;
  expected: number | null;
  best: number | null;
  score: number;
}

export interface ThresholdFigures {
  threshold: number;
  /** Of the questions answered from an FAQ, the share given the right pair. */
  precision: number;
  /** Of the paraphrases, the share answered from their pair. */
  recall: number;
  /** Near-misses that took a pair's answer. */
  nearMissesMatched: number;
}

/** Writes the pairs for a new bot on `pool` (migrated) and scores every question of `data`. */
export async function scoreFaqQueries(pool: pg.Pool, data: FaqEvaluationData): Promise<ScoredQuery[]> {
  const { rows } = await pool.query<{ creator: string; bot: string }>(
    `WITH c AS (INSERT INTO creators (email, password_hash, name) VALUES ($1, 'x', 'Eval') RETURNING id)
     INSERT INTO bots (creator_id, name, language) SELECT id, 'FAQ eval', $2 FROM c RETURNING creator_id AS creator, id AS bot`,
    [`faq-eval-${randomBytes(4).toString('hex')}@example.com`, data.language],
  );
  const { creator, bot } = rows[0] as { creator: string; bot: string };
  const repository = new FaqRepository(pool);
  const ids: string[] = [];
  for (const faq of data.faqs) ids.push(((await repository.create(creator, bot, faq)) as { id: string }).id);
  const matcher = new FaqMatcher(repository);
  const scored: ScoredQuery[] = [];
  for (const query of data.queries) {
    const [best] = await matcher.rank(bot, data.language, query.text);
    scored.push({ text: query.text, heldOut: query.heldOut === true, expected: query.faq, best: best ? ids.indexOf(best.id) : null, score: best?.score ?? 0 });
  }
  return scored;
}

/** Precision and recall of answering from the best pair when it scores at least `threshold`. */
export function figuresAt(scored: readonly ScoredQuery[], threshold: number): ThresholdFigures {
  const answered = scored.filter((q) => q.best !== null && q.score >= threshold);
  const right = answered.filter((q) => q.best === q.expected);
  const paraphrases = scored.filter((q) => q.expected !== null);
  return {
    threshold,
    precision: answered.length ? right.length / answered.length : 1,
    recall: paraphrases.length ? right.length / paraphrases.length : 0,
    nearMissesMatched: answered.filter((q) => q.expected === null).length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string', default: 'test/data/faq/evaluation.json' }, verbose: { type: 'boolean', default: false } } });
  const data = JSON.parse(readFileSync(values.data, 'utf8')) as FaqEvaluationData;
  const admin = process.env.DATABASE_URL ? undefined : 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `t_evalfaq_${randomBytes(5).toString('hex')}`;
  let url = process.env.DATABASE_URL ?? '';
  if (admin) {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    const target = new URL(admin);
    target.pathname = `/${name}`;
    url = target.toString();
  }
  const pool = createPool(url, 4);
  try {
    await migrate(pool);
    const scored = await scoreFaqQueries(pool, data);
    if (values.verbose) {
      for (const q of scored) console.log(`${q.score.toFixed(3)}  best=${q.best ?? '-'} expected=${q.expected ?? 'none'}  ${q.text}`);
    }
    const thresholds = [...new Set([0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, FAQ_MATCH_THRESHOLD])].sort((a, b) => a - b);
    for (const [name, set] of [
      ['tuning list', scored.filter((q) => !q.heldOut)],
      ['held-out list', scored.filter((q) => q.heldOut)],
    ] as const) {
      const paraphrases = set.filter((q) => q.expected !== null).length;
      console.log(`FAQ matching, ${name}: ${data.faqs.length} pairs, ${paraphrases} paraphrases, ${set.length - paraphrases} near-misses`);
      console.log('threshold  precision  recall  near-misses matched');
      for (const t of thresholds) {
        const f = figuresAt(set, t);
        const mark = t === FAQ_MATCH_THRESHOLD ? '  ← in use' : '';
        console.log(`${t.toFixed(2).padStart(9)}  ${f.precision.toFixed(3).padStart(9)}  ${f.recall.toFixed(3).padStart(6)}  ${String(f.nearMissesMatched).padStart(19)}${mark}`);
      }
    }
  } finally {
    await pool.end();
    if (admin) {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
