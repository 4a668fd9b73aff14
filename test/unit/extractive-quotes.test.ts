import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { TextSplitter } from '../../rag/split.js';
import { contentWords, overlap } from '../../src/conversation/lexical.js';
import type { GroundingPassage, LlmChatRequest } from '../../src/conversation/ports.js';
import { ExtractiveResponder, selectQuotes, type Quote } from '../../src/llm/extractive.llm.js';
import { createLlm, describeAnswerMode } from '../../src/llm/llm-provider.js';
import { passageSentences } from '../../src/llm/passage-sentences.js';
import { fixture } from '../support/fixtures.js';

// Real documents through the project's own loaders and splitter: a two-column PDF paper (soft line
// breaks, headings, footnotes) and an HTML article (Markdown headings and lists).

interface Source {
  documentId: string;
  /** The loaded text, horizontal whitespace collapsed and every line break kept as one "\n". */
  text: string;
  chunks: string[];
}

const sources = new Map<string, Source>();

async function load(documentId: string, path: string, mediaType: string): Promise<void> {
  const doc = await createLoaderRegistry().load({ bytes: fixture(path), mediaType });
  const chunks = (await new TextSplitter({ chunkSize: 1000, chunkOverlap: 150 }).split(doc)).map((c) => c.text);
  const text = doc.pages
    .map((p) => p.text)
    .join('\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n\s*/g, '\n');
  sources.set(documentId, { documentId, text, chunks });
}

beforeAll(async () => {
  await load('paper', 'docs/pdfjs__tracemonkey.pdf', 'application/pdf');
  await load('article', 'docs/readability__lifehacker-working.source.html', 'text/html');
}, 60_000);

/** The `k` chunks of each document sharing the most distinct words with the question: retrieval that returns every document. */
function passagesFor(question: string, documentIds: string[], k = 3): GroundingPassage[] {
  const asked = new Set(contentWords(question));
  const ranked = documentIds.flatMap((documentId) =>
    (sources.get(documentId) as Source).chunks
      .map((text) => ({ documentId, text, shared: overlap(contentWords(text), asked) }))
      .sort((a, b) => b.shared - a.shared)
      .slice(0, k),
  );
  return ranked
    .sort((a, b) => b.shared - a.shared)
    .map((p, i) => ({ id: i + 1, documentId: p.documentId, title: p.documentId, text: p.text }));
}

/** The runs of consecutive sentences a quote is made of (non-adjacent ones are joined by " … "). */
function runs(quote: Quote): string[] {
  return quote.text.split(' … ');
}

/** Fails unless `run` is whole sentences of the source: found there, starting a sentence and ending one. */
function expectWholeSentences(run: string, source: Source): void {
  const flat = source.text.replace(/\n/g, ' ');
  const at = flat.indexOf(run);
  expect(at, `"${run}" is not in ${source.documentId}`).toBeGreaterThanOrEqual(0);
  const before = source.text.slice(Math.max(0, at - 400), at);
  // A sentence starts the text or a list item, follows a sentence's end, or follows a line that is a
  // heading (short, unpunctuated); a long line without closing punctuation is wrapped mid-sentence.
  const lineBefore = before.endsWith('\n') ? before.slice(before.lastIndexOf('\n', before.length - 2) + 1, -1) : undefined;
  const starts =
    at === 0 ||
    /(?:^|\n)(?:[-*•]|\d+[.)]) $/u.test(before) ||
    /[.!?…:]["'”’)\]]* $/u.test(before) ||
    (lineBefore !== undefined && (lineBefore.length <= 60 || lineBefore.startsWith('#') || /[.!?…:]["'”’)\]]*$/u.test(lineBefore)));
  expect(starts, `"${run}" starts mid-sentence`).toBe(true);
  expect(run).toMatch(/^[\p{Lu}\p{N}"“'‘(]/u);
  expect(run).toMatch(/[.!?…]["'”’)\]]*$/u);
  expect(flat.slice(at + run.length, at + run.length + 1), `"${run}" ends mid-sentence`).toMatch(/^(?:\s|$)/);
}

const PAPER_QUESTIONS = [
  'How does the compiler handle nested loops?',
  'What is a trace tree?',
  'What does a type-stable loop mean?',
  'What speedups did they measure?',
  'Why are dynamic languages such as Python and Ruby popular?',
];
const ARTICLE_QUESTIONS = [
  'How can I stop impulse buying?',
  'How do I avoid buying things I do not need?',
  'How should I pay off my debts?',
  'How do I save money for an emergency fund?',
  'How do I turn the money I save into more money?',
];

describe('passageSentences on the fixture documents', () => {
  it('finds in every chunk only whole sentences of the source, PDF line wraps joined', () => {
    for (const source of sources.values()) {
      let checked = 0;
      for (const chunk of source.chunks) {
        for (const sentence of passageSentences(chunk, 'en')) {
          // A chunk may begin mid-sentence at a wrapped line that starts with a capital ("Spider, the
          // industry standard…" after "Sun-"); nothing in the chunk tells, so its opening is not judged.
          if (chunk.startsWith(sentence.text)) continue;
          expectWholeSentences(sentence.text, source);
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(100);
    }
  });
});

describe('selectQuotes on the fixture documents', () => {
  it('quotes whole sentences of the document asked about, never of the other one', () => {
    const asked = [...PAPER_QUESTIONS.map((q) => ['paper', q] as const), ...ARTICLE_QUESTIONS.map((q) => ['article', q] as const)];
    let sentences = 0;
    for (const [documentId, question] of asked) {
      const passages = passagesFor(question, ['paper', 'article']);
      const quotes = selectQuotes(question, passages);
      expect(quotes.length, question).toBeGreaterThan(0);
      for (const quote of quotes) {
        const passage = passages.find((p) => p.id === quote.passageId) as GroundingPassage;
        expect(passage.documentId, `${question} → ${quote.text}`).toBe(documentId);
        for (const run of runs(quote)) {
          expectWholeSentences(run, sources.get(documentId) as Source);
          sentences += 1;
        }
      }
      expect(quotes.map((q) => q.text).join('').length).toBeLessThanOrEqual(700);
    }
    expect(sentences).toBeGreaterThanOrEqual(asked.length);
  });

  it('joins the PDF lines of a sentence and keeps the heading above it out of the quote', () => {
    const question = 'Why are dynamic languages such as Python and Ruby popular?';
    const quoted = selectQuotes(question, passagesFor(question, ['paper'], 6)).map((q) => q.text);
    expect(quoted.join('\n')).toContain(
      'Dynamic languages such as JavaScript, Python, and Ruby, are popular since they are expressive, accessible to non-experts, and make deployment as easy as distributing a source file.',
    );
    for (const quote of quoted) expect(quote).not.toContain('Introduction');
  });

  it('never quotes a Markdown heading of the article, nor glues one to the text under it', () => {
    for (const question of ARTICLE_QUESTIONS) {
      for (const quote of selectQuotes(question, passagesFor(question, ['article'], 6))) {
        expect(quote.text).not.toContain('#');
        expect(quote.text).not.toMatch(/^Turn the Money You Save Into More Money/);
      }
    }
  });

  it('quotes nothing for a question that shares only common words with the material', () => {
    for (const question of ['How do I make the most of the weekend?', 'What is the best way to do this?']) {
      expect(selectQuotes(question, passagesFor(question, ['paper', 'article']))).toEqual([]);
    }
    // "trace" is in most sentences of the paper's passages about traces: alone, it makes none relevant.
    const trace = 'Is there a trace of sugar in honey?';
    const passages = passagesFor(trace, ['paper'], 6);
    expect(passages.every((p) => /trace/i.test(p.text))).toBe(true);
    expect(selectQuotes(trace, passages)).toEqual([]);
  });

  it('answers "how do I build a habit" from the habit sections of the demo guide, not from building a meal', () => {
    const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url), 'utf8');
    const passages = guide.split(/\n(?=## )/).map((text, id) => ({ id, documentId: 'guide', title: 'Guide', text }));
    const quoted = selectQuotes('How do I build a habit that sticks?', passages).map((q) => q.text);
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.join(' ')).toContain('A new habit fails most often because the first version is too big.');
    expect(quoted.join(' ')).not.toMatch(/meal|protein/);
  });

  it('skips a relevant sentence too long for the reply instead of cutting it', () => {
    const long = `Night feeds are tiring, ${'and every parent of a newborn knows how the nights blur together, '.repeat(5)}so rest when the baby sleeps.`;
    const passages: GroundingPassage[] = [
      { id: 1, documentId: 'doc-sleep', title: 'Sleep Guide', text: `${long} Newborn babies sleep in short stretches of two to four hours.` },
      { id: 2, documentId: 'doc-food', title: 'Nutrition', text: 'Protein at breakfast keeps you full until lunch.' },
    ];
    const quotes = selectQuotes('How long do newborn babies sleep at night?', passages, { maxChars: 200 });
    expect(quotes).toEqual([{ passageId: 1, text: 'Newborn babies sleep in short stretches of two to four hours.' }]);
  });
});

async function reply(llm: { chat(request: LlmChatRequest): AsyncIterable<string> }, request: LlmChatRequest): Promise<string> {
  let text = '';
  for await (const delta of llm.chat(request)) text += delta;
  return text;
}

const sleepPassages: GroundingPassage[] = [
  { id: 1, documentId: 'doc-food', title: 'Nutrition', text: 'Protein at breakfast keeps you full until lunch.' },
  { id: 2, documentId: 'doc-sleep', title: 'Sleep Guide', text: 'Adults need seven to nine hours of sleep each night. Keep a regular bedtime.' },
];

function request(question: string, language = 'en'): LlmChatRequest {
  return { messages: [], grounding: { botName: 'Coach Ana', language, question, passages: sleepPassages } };
}

describe('ExtractiveResponder wording', () => {
  it('says it is quoting the material when no model is configured, and reports the passages quoted', async () => {
    const quoted: number[][] = [];
    const text = await reply(createLlm({ provider: 'extractive', host: 'http://127.0.0.1:1', defaultModel: 'm' }), {
      ...request('How many hours of sleep do I need?'),
      onQuoted: (ids) => quoted.push([...ids]),
    });
    expect(text).toBe("Here is what Coach Ana's material says on this, quoted as written:\n\n“Adults need seven to nine hours of sleep each night.”");
    expect(quoted).toEqual([[2]]);
  });

  it('says it found nothing, not that a model is down, when no model is configured and nothing answers', async () => {
    const text = await reply(new ExtractiveResponder({ reason: 'no-model' }), request('Can you recommend a telescope?'));
    expect(text).toBe("I found nothing in Coach Ana's material that answers this directly. Could you ask it another way?");
    const german = await reply(new ExtractiveResponder(), request('Welches Teleskop soll ich kaufen?', 'de'));
    expect(german).toBe('Im Material von Coach Ana habe ich nichts gefunden, das das direkt beantwortet. Kannst du es anders fragen?');
  });

  it('says the model cannot be reached when the configured one is down', async () => {
    const llm = new ExtractiveResponder({ reason: 'model-down' });
    expect(await reply(llm, request('How many hours of sleep do I need?'))).toMatch(
      /^I can't reach the coaching model right now, so here is what Coach Ana's material says:\n\n“Adults need/,
    );
    expect(await reply(llm, request('Can you recommend a telescope?'))).toBe(
      "I can't reach the coaching model right now. Please try again in a little while.",
    );
  });

  it('states the answer mode of each configuration in one line', () => {
    const where = { host: 'http://127.0.0.1:11434', defaultModel: 'llama3.2:3b' };
    expect(describeAnswerMode({ provider: 'extractive', ...where })).toBe("answers: quoting the creator's material (no model configured)");
    expect(describeAnswerMode({ provider: 'ollama', ...where })).toBe('answers: Ollama llama3.2:3b at http://127.0.0.1:11434');
    expect(describeAnswerMode({ provider: 'auto', ...where })).toBe(
      "answers: Ollama llama3.2:3b at http://127.0.0.1:11434 when it answers, otherwise quoting the creator's material",
    );
  });
});
