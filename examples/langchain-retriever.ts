/**
 * A creator's knowledge base in a LangChain chain, against a running platform:
 *
 *   COACH_API_KEY=<key> COACH_BOT_ID=<bot id> npx tsx examples/langchain-retriever.ts "how do I build a habit?"
 *
 * COACH_URL defaults to http://localhost:3000 (`npm start`). The chain retrieves the bot's passages
 * through its search endpoint, formats them as numbered sources, fills a prompt and answers: with
 * OLLAMA_MODEL set (e.g. llama3.2:3b; OLLAMA_HOST defaults to http://127.0.0.1:11434) a local model
 * writes the answer; without it a plain function quotes the best passage. Sources are printed after.
 */
import type { Document } from '@langchain/core/documents';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import type { BaseRetriever } from '@langchain/core/retrievers';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { Ollama } from 'ollama';
import { pathToFileURL } from 'node:url';
import { KnowledgeBaseHttpRetriever } from '../rag/langchain/knowledge-base-http.retriever.js';
import { formatPassages, sourceLabel, type PassageMetadata } from '../rag/langchain/passage.document.js';

type Passage = Document<PassageMetadata>;

/** What the chain hands back: the question, the passages it used, the prompt it built and the answer. */
export interface GroundedAnswer {
  question: string;
  documents: Passage[];
  prompt: string;
  answer: string;
}

/** Turns the filled prompt (and the passages behind it) into an answer: a model, or any function. */
export type Answerer = (input: { prompt: string; documents: Passage[] }) => Promise<string> | string;

const prompt = ChatPromptTemplate.fromMessages([
  ['system', 'You are a coach. Answer only from the numbered passages, citing them like [1]. If they do not say, say so.'],
  ['human', 'Passages:\n\n{context}\n\nQuestion: {question}'],
]);

/** Without a model: the best passage, quoted with its source. */
export const quoteBestPassage: Answerer = ({ documents }) => {
  const best = documents[0];
  return best ? `${best.pageContent} [1: ${sourceLabel(best.metadata)}]` : 'The material does not say.';
};

/** A local model through Ollama's chat API. */
export function ollamaAnswerer(host: string, model: string): Answerer {
  const ollama = new Ollama({ host });
  return async ({ prompt: text }) => (await ollama.chat({ model, messages: [{ role: 'user', content: text }] })).message.content;
}

/** retriever → format the passages → prompt → answer, as one LangChain runnable over a question. */
export function groundedAnswerChain(retriever: BaseRetriever<PassageMetadata>, answer: Answerer = quoteBestPassage) {
  return RunnableSequence.from([
    { question: new RunnablePassthrough<string>(), documents: retriever },
    RunnablePassthrough.assign({
      prompt: async ({ question, documents }: { question: string; documents: Passage[] }) =>
        (await prompt.format({ question, context: formatPassages(documents) })) as string,
    }),
    RunnableLambda.from(
      async ({ question, documents, prompt: text }: { question: string; documents: Passage[]; prompt: string }): Promise<GroundedAnswer> => ({
        question,
        documents,
        prompt: text,
        answer: await answer({ prompt: text, documents }),
      }),
    ),
  ]);
}

async function main() {
  const { COACH_URL = 'http://localhost:3000', COACH_API_KEY, COACH_BOT_ID, OLLAMA_HOST = 'http://127.0.0.1:11434', OLLAMA_MODEL } = process.env;
  if (!COACH_API_KEY || !COACH_BOT_ID) {
    console.error('Set COACH_API_KEY and COACH_BOT_ID (npm start prints both for the demo coach); COACH_URL defaults to http://localhost:3000.');
    process.exit(64);
  }
  const question = process.argv.slice(2).join(' ') || 'How do I build a habit that lasts?';
  const retriever = new KnowledgeBaseHttpRetriever({ url: COACH_URL, apiKey: COACH_API_KEY, botId: COACH_BOT_ID, k: 4 });
  const chain = groundedAnswerChain(retriever, OLLAMA_MODEL ? ollamaAnswerer(OLLAMA_HOST, OLLAMA_MODEL) : quoteBestPassage);
  const result = await chain.invoke(question);
  console.log(`Q: ${result.question}\n\nA: ${result.answer}\n\nSources:`);
  result.documents.forEach((doc, i) => console.log(`  [${i + 1}] ${sourceLabel(doc.metadata)} (score ${doc.metadata.score.toFixed(4)})`));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
