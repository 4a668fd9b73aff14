/**
 * Tells whether a user's question is one of the creator's FAQ questions asked another way. Both are
 * reduced to terms by the bot's text-search configuration (stemmed, stop words dropped) and
 * compared by a weighted Dice coefficient: the shared terms' weight over both questions' weight,
 * each term weighted by how rare it is among the bot's FAQ questions (idf). Words every question
 * shares ("program") count little; the word that tells two questions apart ("cost" or "long")
 * counts most, so "How long is the program?" does not take the answer to "How much does the
 * program cost?". The threshold was chosen on test/data/faq/evaluation.json (`npm run eval:faq`).
 */
import { textSearchConfig } from './text-search-config.js';
import type { FaqSearch } from './types.js';

/** A creator's pair whose question the user asked. */
export interface FaqMatch {
  id: string;
  documentId: string | null;
  question: string;
  answer: string;
  /** Weighted Dice similarity, 0–1. */
  score: number;
}

/**
 * Chosen on the evaluation list: just above the best-scoring near-miss (0.695), where precision is
 * 1.0 and recall 0.91 (21 of 23 paraphrases; "money back" for "refund" and "good" for "suitable"
 * need synonyms no lexical measure knows). On questions written afterwards (held out): recall 1.0
 * (7 of 7), one near-miss of 6 matched ("Do I need a doctor for the workouts?" took the equipment
 * answer at 0.74): a word no FAQ uses cannot tell a new topic from a paraphrase.
 */
export const FAQ_MATCH_THRESHOLD = 0.72;
// Chosen with the threshold on the evaluation list (factors 1–3 and weights 0.5–1.5 tried).
const KNOWN_EXTRA_FACTOR = 2;
const UNKNOWN_EXTRA_WEIGHT = 1;
// Pairs scored per question; those sharing the most terms come first.
const CANDIDATES = 20;

// Greetings and politeness around a question say nothing about which question it is.
const FILLER = new Set([
  'hi', 'hello', 'hey', 'thank', 'thanks', 'pleas', 'please', 'ok', 'okay', 'hallo', 'dank', 'danke', 'bitt', 'bitte',
  'hola', 'graci', 'gracias', 'bonjour', 'merc', 'merci', 'ciao', 'grazi', 'grazie', 'ola', 'obrig', 'obrigado',
]);

/** idf of a term held by `df` of `n` questions; a term no question holds weighs most. */
function idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** Weighted Dice coefficient of two term sets: 2·w(shared) / (w(a) + w(b)); `extra` weighs the query's terms the pair lacks. */
export function faqSimilarity(query: readonly string[], question: readonly string[], weight: (term: string) => number, extra: (term: string) => number = weight): number {
  const asked = new Set(query);
  const pair = new Set(question);
  let shared = 0;
  let total = 0;
  for (const t of pair) {
    total += weight(t);
    if (asked.has(t)) shared += weight(t);
  }
  for (const t of asked) total += pair.has(t) ? weight(t) : extra(t);
  return total > 0 ? (2 * shared) / total : 0;
}

/** Finds the creator's FAQ pair a question asks, if one is close enough. */
export class FaqMatcher {
  private readonly threshold: number;

  constructor(
    private readonly search: FaqSearch,
    options: { threshold?: number } = {},
  ) {
    this.threshold = options.threshold ?? FAQ_MATCH_THRESHOLD;
  }

  /** The best-scoring pair at or above the threshold, or null. `language` is the bot's. */
  async match(botId: string, language: string, question: string): Promise<FaqMatch | null> {
    const ranked = await this.rank(botId, language, question);
    const best = ranked[0];
    return best && best.score >= this.threshold ? best : null;
  }

  /** Every candidate pair with its score, best first (for evaluation). */
  async rank(botId: string, language: string, question: string): Promise<FaqMatch[]> {
    if (question.trim() === '') return [];
    const found = await this.search.candidates(botId, textSearchConfig(language), question.slice(0, 2000), CANDIDATES);
    const query = found.queryTerms.filter((t) => !FILLER.has(t));
    if (query.length === 0 || found.candidates.length === 0) return [];
    const n = Math.max(found.pairCount, 1);
    const weight = (term: string) => idf(n, found.documentFrequency.get(term) ?? 0);
    // A word of the question that another pair's question uses names another topic of the bot
    // ("cost" asked of the program's length): it counts against the match twice. A word no pair
    // uses is as often a paraphrase ("money back" for "refund") as a new topic: it counts little.
    const extra = (term: string) => {
      const df = found.documentFrequency.get(term) ?? 0;
      return df > 0 ? KNOWN_EXTRA_FACTOR * idf(n, df) : UNKNOWN_EXTRA_WEIGHT;
    };
    return found.candidates
      .map((c) => ({ id: c.id, documentId: c.documentId, question: c.question, answer: c.answer, score: faqSimilarity(query, c.terms, weight, extra) }))
      .sort((x, y) => y.score - x.score);
  }
}
