import { contentWords, overlap } from '../conversation/lexical.js';
import type { GroundingPassage, LlmChatRequest, LlmPort } from '../conversation/ports.js';
import { LlmUnavailableError } from './llm.errors.js';

export interface ExtractiveOptions {
  /** Upper bound on quoted characters (the intro line not counted). */
  maxChars?: number;
  maxSentences?: number;
}

const INTRO: Record<string, (bot: string) => string> = {
  en: (bot) => `I can't reach the coaching model right now, so here is what ${bot}'s material says:`,
  de: (bot) => `Ich kann das Coaching-Modell gerade nicht erreichen, deshalb hier, was im Material von ${bot} steht:`,
  es: (bot) => `Ahora mismo no puedo acceder al modelo de coaching, así que esto es lo que dice el material de ${bot}:`,
  fr: (bot) => `Je n'arrive pas à joindre le modèle de coaching pour le moment, alors voici ce que dit le contenu de ${bot} :`,
  pt: (bot) => `Não consigo acessar o modelo de coaching agora, então aqui está o que diz o material de ${bot}:`,
  it: (bot) => `Al momento non riesco a raggiungere il modello di coaching, quindi ecco cosa dice il materiale di ${bot}:`,
  nl: (bot) => `Ik kan het coachingmodel nu niet bereiken, dus dit staat er in het materiaal van ${bot}:`,
};

const NOTHING_TO_QUOTE: Record<string, string> = {
  en: "I can't reach the coaching model right now. Please try again in a little while.",
  de: 'Ich kann das Coaching-Modell gerade nicht erreichen. Bitte versuch es gleich noch einmal.',
  es: 'Ahora mismo no puedo acceder al modelo de coaching. Inténtalo de nuevo en un rato.',
  fr: "Je n'arrive pas à joindre le modèle de coaching pour le moment. Réessaie dans un petit moment.",
  pt: 'Não consigo acessar o modelo de coaching agora. Tente novamente daqui a pouco.',
  it: 'Al momento non riesco a raggiungere il modello di coaching. Riprova tra poco.',
  nl: 'Ik kan het coachingmodel nu niet bereiken. Probeer het zo nog eens.',
};

function primary(language: string): string {
  return language.toLowerCase().split('-')[0] ?? 'en';
}

interface Sentence {
  passage: number;
  index: number;
  text: string;
  score: number;
}

// Fragments shorter than this (headings, list numbers) say too little on their own.
const MIN_SENTENCE_CHARS = 20;

function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?…])\s+(?=[\p{Lu}\p{N}"“'(])/u)
    .map((s) => s.replace(/^\s*(?:[-*•·>]|\d+[.)]|#{1,6})\s+/u, '').replace(/\s+/g, ' ').trim())
    .filter((s) => s.length >= MIN_SENTENCE_CHARS);
}

function clip(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > maxChars * 0.6 ? cut.slice(0, space) : cut}…`;
}

/**
 * Picks the sentences of the passages that share the most words with the question, within the
 * bounds, and returns them grouped per passage in reading order.
 */
export function selectQuotes(question: string, passages: readonly GroundingPassage[], options: ExtractiveOptions = {}): string[] {
  const maxChars = options.maxChars ?? 700;
  const maxSentences = options.maxSentences ?? 4;
  const asked = new Set(contentWords(question));
  const all: Sentence[] = passages.flatMap((p, passage) =>
    sentences(p.text).map((text, index) => {
      const words = contentWords(text);
      // Normalised by length so one long sentence does not win on word count alone; earlier passages break ties.
      const score = overlap(words, asked) / Math.sqrt(Math.max(1, new Set(words).size)) - passage * 1e-3;
      return { passage, index, text, score };
    }),
  );
  const matching = all.filter((s) => s.score > 0).sort((a, b) => b.score - a.score);
  // Nothing shares a word with the question: the retriever still ranked the first passage best, so open it.
  const candidates = matching.length > 0 ? matching : all.filter((s) => s.passage === 0);

  const chosen: Sentence[] = [];
  const seen = new Set<string>();
  let used = 0;
  for (const s of candidates) {
    if (chosen.length >= maxSentences) break;
    // Overlapping chunks repeat sentences; quoting one twice says nothing new.
    if (seen.has(s.text)) continue;
    seen.add(s.text);
    const room = maxChars - used;
    if (room < MIN_SENTENCE_CHARS) break;
    if (s.text.length > room && chosen.length > 0) continue;
    const text = clip(s.text, room);
    chosen.push({ ...s, text });
    used += text.length;
  }

  chosen.sort((a, b) => a.passage - b.passage || a.index - b.index);
  const quotes: string[] = [];
  let previous: Sentence | undefined;
  for (const s of chosen) {
    if (previous && previous.passage === s.passage) {
      const gap = s.index - previous.index > 1 ? ' … ' : ' ';
      quotes[quotes.length - 1] += `${gap}${s.text}`;
    } else {
      quotes.push(s.text);
    }
    previous = s;
  }
  return quotes;
}

/**
 * Answers without a model by quoting the most relevant sentences of the creator's material, and
 * says that it is doing so. Reads the passages from `request.grounding`, never from the prompt.
 */
export class ExtractiveResponder implements LlmPort {
  readonly kind = 'extractive' as const;
  readonly name = 'extractive';

  constructor(private readonly options: ExtractiveOptions = {}) {}

  /** Streams the intro line, then one quote per passage used. */
  async *chat(request: LlmChatRequest): AsyncGenerator<string> {
    if (request.purpose === 'summary') {
      throw new LlmUnavailableError('Summaries need a model; the extractive responder can only quote material');
    }
    request.onResponder?.({ name: this.name, kind: this.kind });
    const grounding = request.grounding;
    const language = primary(grounding?.language ?? 'en');
    const quotes = grounding ? selectQuotes(grounding.question, grounding.passages, this.options) : [];
    if (!grounding || quotes.length === 0) {
      yield NOTHING_TO_QUOTE[language] ?? (NOTHING_TO_QUOTE.en as string);
      return;
    }
    const intro = INTRO[language] ?? (INTRO.en as (bot: string) => string);
    yield intro(grounding.botName);
    for (const quote of quotes) yield `\n\n“${quote}”`;
  }
}
