import { contentWords } from '../conversation/lexical.js';

// Okapi BM25's usual constants: term frequency saturates quickly, length is mostly normalised.
const K1 = 1.2;
const B = 0.75;
// The candidates were retrieved for the question, so its words are common among them by design,
// and a handful of sentences says little about how rare a word is. The document frequencies are
// taken over the candidates plus this many background sentences holding none of the question's
// words: in a few sentences a word seen once still counts as rare, as it is in language at large,
// while a word in most of forty sentences counts little.
const BACKGROUND_SENTENCES = 20;

// Words so frequent in any English text that sharing one says nothing about a topic, stemmed as
// `contentWords` stems them. A few passages cannot show how common a word is in language at large
// ("way" may occur once in them), so these never count towards a sentence's relevance.
const GENERIC_WORDS = new Set(
  (
    'way time thing best good better great new old first last next long little big small high low right different ' +
    'important kind sort lot bit part place case point number fact day week year people person world life hand ' +
    'something anything nothing everything someone anyone everyone go goe went gone come came say said know knew ' +
    'think thought take took see saw look want give gave use find found tell told ask work seem feel felt try ' +
    'leave left call keep kept start turn put mean help show begin began become became need happen ' +
    // Verbs of doing in general: "build a habit" is about the habit, not about building a meal.
    'build built make mak get gett create creat'
  ).split(/\s+/),
);

/**
 * The score a sentence must reach to be quoted. For one shared word, once, in a sentence of average
 * length, the score is that word's IDF, ln(1 + (N − n + ½) / (n + ½)); it reaches 2 when the word is
 * in at most about one in seven of the sentences (background included: (N + 1) / (e² ) − ½). So a
 * sentence is relevant when it shares a word with the question that is rare among the candidates,
 * or several less rare ones. A word found in a third of them or more (the paper's "trace", the
 * shopping article's "buy") does not make a sentence relevant alone, and function words and
 * generic words never count. Measured on the fixture documents: questions sharing only such
 * a word quote nothing, questions about them quote one to four sentences.
 */
export const MIN_RELEVANCE = 2;

/** A sentence's relevance to the question. */
export interface SentenceScore {
  score: number;
  /** The question's words the sentence holds (stemmed; function and generic words left out). */
  shared: string[];
}

/**
 * BM25 of each sentence against the question, with the sentences themselves (plus a background,
 * see above) as the collection. Returns one score per sentence, in order.
 */
export function sentenceRelevance(question: string, sentences: readonly string[]): SentenceScore[] {
  const asked = new Set(contentWords(question).filter((w) => !GENERIC_WORDS.has(w)));
  const bags = sentences.map((s) => contentWords(s));
  const total = bags.length + BACKGROUND_SENTENCES;
  const averageLength = Math.max(1, bags.reduce((sum, words) => sum + words.length, 0) / Math.max(1, bags.length));
  const idf = new Map<string, number>();
  for (const term of asked) {
    const n = bags.filter((words) => words.includes(term)).length;
    idf.set(term, Math.log(1 + (total - n + 0.5) / (n + 0.5)));
  }
  return bags.map((words) => {
    let score = 0;
    const shared: string[] = [];
    for (const term of asked) {
      const tf = words.filter((w) => w === term).length;
      if (tf === 0) continue;
      shared.push(term);
      const norm = 1 - B + (B * words.length) / averageLength;
      score += ((idf.get(term) ?? 0) * tf * (K1 + 1)) / (tf + K1 * norm);
    }
    return { score, shared };
  });
}
