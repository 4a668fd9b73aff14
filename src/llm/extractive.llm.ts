import type { GroundingPassage, LlmChatRequest, LlmPort } from '../conversation/ports.js';
import { LlmUnavailableError } from './llm.errors.js';
import { passageSentences } from './passage-sentences.js';
import { MIN_RELEVANCE, sentenceRelevance } from './sentence-relevance.js';

export interface ExtractiveOptions {
  /** Upper bound on quoted characters (the intro line not counted). */
  maxChars?: number;
  maxSentences?: number;
  /** BCP-47 language whose sentence rules apply; the responder passes the bot's. */
  language?: string;
  /**
   * Why no model answers: none is configured (LLM_PROVIDER=extractive), or the configured one is
   * down. The reply says which, so a user is never told a model failed that does not exist.
   */
  reason?: 'no-model' | 'model-down';
}

type Wording = Record<string, (bot: string) => string>;

const INTRO: Record<'no-model' | 'model-down', Wording> = {
  'no-model': {
    en: (bot) => `Here is what ${bot}'s material says on this, quoted as written:`,
    de: (bot) => `Das steht dazu im Material von ${bot}, wörtlich zitiert:`,
    es: (bot) => `Esto es lo que dice el material de ${bot} sobre el tema, citado textualmente:`,
    fr: (bot) => `Voici ce que dit le contenu de ${bot} à ce sujet, cité tel quel :`,
    pt: (bot) => `Isto é o que diz o material de ${bot} sobre o assunto, citado literalmente:`,
    it: (bot) => `Ecco cosa dice il materiale di ${bot} in proposito, citato alla lettera:`,
    nl: (bot) => `Dit staat er in het materiaal van ${bot} over, letterlijk geciteerd:`,
  },
  'model-down': {
    en: (bot) => `I can't reach the coaching model right now, so here is what ${bot}'s material says:`,
    de: (bot) => `Ich kann das Coaching-Modell gerade nicht erreichen, deshalb hier, was im Material von ${bot} steht:`,
    es: (bot) => `Ahora mismo no puedo acceder al modelo de coaching, así que esto es lo que dice el material de ${bot}:`,
    fr: (bot) => `Je n'arrive pas à joindre le modèle de coaching pour le moment, alors voici ce que dit le contenu de ${bot} :`,
    pt: (bot) => `Não consigo acessar o modelo de coaching agora, então aqui está o que diz o material de ${bot}:`,
    it: (bot) => `Al momento non riesco a raggiungere il modello di coaching, quindi ecco cosa dice il materiale di ${bot}:`,
    nl: (bot) => `Ik kan het coachingmodel nu niet bereiken, dus dit staat er in het materiaal van ${bot}:`,
  },
};

const NOTHING_TO_QUOTE: Record<'no-model' | 'model-down', Wording> = {
  'no-model': {
    en: (bot) => `I found nothing in ${bot}'s material that answers this directly. Could you ask it another way?`,
    de: (bot) => `Im Material von ${bot} habe ich nichts gefunden, das das direkt beantwortet. Kannst du es anders fragen?`,
    es: (bot) => `No encontré nada en el material de ${bot} que responda a esto directamente. ¿Puedes preguntarlo de otra manera?`,
    fr: (bot) => `Je n'ai rien trouvé dans le contenu de ${bot} qui réponde directement à cela. Peux-tu le demander autrement ?`,
    pt: (bot) => `Não encontrei nada no material de ${bot} que responda a isso diretamente. Pode perguntar de outra forma?`,
    it: (bot) => `Non ho trovato nulla nel materiale di ${bot} che risponda direttamente a questo. Puoi chiederlo in un altro modo?`,
    nl: (bot) => `Ik vond niets in het materiaal van ${bot} dat hier direct antwoord op geeft. Kun je het anders vragen?`,
  },
  'model-down': {
    en: () => "I can't reach the coaching model right now. Please try again in a little while.",
    de: () => 'Ich kann das Coaching-Modell gerade nicht erreichen. Bitte versuch es gleich noch einmal.',
    es: () => 'Ahora mismo no puedo acceder al modelo de coaching. Inténtalo de nuevo en un rato.',
    fr: () => "Je n'arrive pas à joindre le modèle de coaching pour le moment. Réessaie dans un petit moment.",
    pt: () => 'Não consigo acessar o modelo de coaching agora. Tente novamente daqui a pouco.',
    it: () => 'Al momento non riesco a raggiungere il modello di coaching. Riprova tra poco.',
    nl: () => 'Ik kan het coachingmodel nu niet bereiken. Probeer het zo nog eens.',
  },
};

function primary(language: string): string {
  return language.toLowerCase().split('-')[0] ?? 'en';
}

/** Sentences of the passages that are relevant to the question, ready to be quoted. */
export interface Quote {
  /** The `id` of the passage quoted. */
  passageId: number;
  /** Whole sentences in reading order; non-adjacent ones are joined by " … ". */
  text: string;
}

interface Sentence {
  passage: number;
  index: number;
  text: string;
  score: number;
}

// A sentence scoring below this share of the best one answers a side issue of the question.
const SHARE_OF_BEST = 0.5;

/**
 * Picks whole sentences of the passages that are relevant to the question (BM25 against it, see
 * `MIN_RELEVANCE`), best first within the bounds, and returns them grouped per passage in reading
 * order. A sentence that does not fit is skipped, never cut; nothing relevant means no quotes.
 */
export function selectQuotes(question: string, passages: readonly GroundingPassage[], options: ExtractiveOptions = {}): Quote[] {
  const maxChars = options.maxChars ?? 700;
  const maxSentences = options.maxSentences ?? 4;
  const language = options.language ?? 'en';
  const all = passages.flatMap((p, passage) => passageSentences(p.text, language).map((s) => ({ passage, ...s })));
  const scored = sentenceRelevance(
    question,
    all.map((s) => s.text),
  );
  // The question's words each document's passages share. Retrieval mixes documents; one that shares
  // fewer of them than another answers a different question that happens to use one of its words
  // ("spend" time in loops, in a paper, when asked about spending money), so it is not quoted.
  const documentOf = (s: { passage: number }) => (passages[s.passage] as GroundingPassage).documentId;
  const sharedBy = new Map<string, Set<string>>();
  all.forEach((s, i) => {
    const words = sharedBy.get(documentOf(s)) ?? new Set<string>();
    for (const w of scored[i]?.shared ?? []) words.add(w);
    sharedBy.set(documentOf(s), words);
  });
  const mostShared = Math.max(0, ...[...sharedBy.values()].map((words) => words.size));
  const answering = all
    // Earlier passages (ranked higher by retrieval) win ties.
    .map((s, i) => ({ ...s, score: (scored[i]?.score ?? 0) - s.passage * 1e-6 }))
    .filter((s) => sharedBy.get(documentOf(s))?.size === mostShared);
  const best = Math.max(0, ...answering.map((s) => s.score));
  const floor = Math.max(MIN_RELEVANCE, best * SHARE_OF_BEST);
  const candidates: Sentence[] = answering.filter((s) => s.score >= floor - 1e-6).sort((a, b) => b.score - a.score);

  const chosen: Sentence[] = [];
  const seen = new Set<string>();
  let used = 0;
  for (const s of candidates) {
    if (chosen.length >= maxSentences) break;
    // Overlapping chunks repeat sentences; quoting one twice says nothing new.
    if (seen.has(s.text)) continue;
    if (used + s.text.length > maxChars) continue;
    seen.add(s.text);
    chosen.push(s);
    used += s.text.length;
  }

  chosen.sort((a, b) => a.passage - b.passage || a.index - b.index);
  const quotes: Quote[] = [];
  let previous: Sentence | undefined;
  for (const s of chosen) {
    const last = quotes.at(-1);
    if (last && previous && previous.passage === s.passage) {
      last.text += `${s.index - previous.index > 1 ? ' … ' : ' '}${s.text}`;
    } else {
      quotes.push({ passageId: (passages[s.passage] as GroundingPassage).id, text: s.text });
    }
    previous = s;
  }
  return quotes;
}

/**
 * Answers without a model by quoting the sentences of the creator's material that are relevant to
 * the question, and says that it is doing so and why. Reads the passages from `request.grounding`,
 * never from the prompt, and reports the passages it quoted through `request.onQuoted`.
 */
export class ExtractiveResponder implements LlmPort {
  readonly kind = 'extractive' as const;
  readonly name = 'extractive';

  constructor(private readonly options: ExtractiveOptions = {}) {}

  /** Streams the intro line, then one quote per passage used; a creator's FAQ answer goes out as it is. */
  async *chat(request: LlmChatRequest): AsyncGenerator<string> {
    if (request.purpose === 'summary') {
      throw new LlmUnavailableError('Summaries need a model; the extractive responder can only quote material');
    }
    request.onResponder?.({ name: this.name, kind: this.kind });
    const grounding = request.grounding;
    const language = primary(grounding?.language ?? 'en');
    // The creator answered this very question: their answer is sent as they wrote it.
    const faq = grounding?.passages[0]?.faq;
    if (faq && grounding) {
      request.onQuoted?.([(grounding.passages[0] as GroundingPassage).id]);
      yield faq.answer;
      return;
    }
    const reason = this.options.reason ?? 'no-model';
    const quotes = grounding
      ? selectQuotes(grounding.question, grounding.passages, { ...this.options, language: grounding.language })
      : [];
    request.onQuoted?.([...new Set(quotes.map((q) => q.passageId))]);
    const botName = grounding?.botName ?? 'the coach';
    if (quotes.length === 0) {
      const nothing = NOTHING_TO_QUOTE[reason];
      yield (nothing[language] ?? (nothing.en as (bot: string) => string))(botName);
      return;
    }
    const intro = INTRO[reason];
    yield (intro[language] ?? (intro.en as (bot: string) => string))(botName);
    for (const quote of quotes) yield `\n\n“${quote.text}”`;
  }
}
