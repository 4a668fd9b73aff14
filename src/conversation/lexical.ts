/** Light lexical matching: enough to tell which passage a sentence or reply talks about. */

// Function words carry no topic; English plus the commonest of the other supported languages.
const STOPWORDS = new Set(
  (
    'the a an and or but if then than so of to in on at by for with from into about as is are was were be been being ' +
    'do does did have has had can could should would will shall may might must not no yes this that these those ' +
    'it its i me my you your we our they them their he she his her him what which who whom how why when where ' +
    'there here all any some more most much many very just also too only own same such each few other out up down ' +
    'over under again once off get got let make made one two per via like well really please thanks thank ' +
    'der die das und oder ein eine ist sind mit von zu den dem des auf für nicht ich du wir sie es wie was ' +
    'el la los las y o un una es son con de del en por para que no yo tu como ' +
    'le les et ou une est sont avec du des pour pas je tu nous vous ce qui comme ' +
    'o os e um uma com do da dos das em para não eu você'
  ).split(/\s+/),
);

/** Reduces common English inflections so "sleeping", "sleeps" and "sleep" match. */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** The topic-bearing words of a text, lower-cased and stemmed, in order (repeats kept). */
export function contentWords(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((w) => w.length > 1 && !STOPWORDS.has(w)).map(stem);
}

/** How many distinct words of `words` occur in `vocabulary`. */
export function overlap(words: Iterable<string>, vocabulary: ReadonlySet<string>): number {
  let n = 0;
  for (const w of new Set(words)) if (vocabulary.has(w)) n += 1;
  return n;
}
