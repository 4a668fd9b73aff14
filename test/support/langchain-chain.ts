import type { Document } from '@langchain/core/documents';
import { PromptTemplate } from '@langchain/core/prompts';
import type { BaseRetriever } from '@langchain/core/retrievers';
import { RunnableLambda, RunnablePassthrough, RunnableSequence } from '@langchain/core/runnables';
import { formatPassages, sourceLabel, type PassageMetadata } from '../../rag/langchain/passage.document.js';

export interface GroundedAnswer {
  question: string;
  documents: Array<Document<PassageMetadata>>;
  prompt: string;
  answer: string;
}

/**
 * A small LangChain chain over a knowledge-base retriever: retrieve → format the passages → prompt →
 * "model". The model is a plain function quoting the best passage with its source, as a developer
 * without a model server would write it.
 */
export function groundedAnswerChain(retriever: BaseRetriever<PassageMetadata>) {
  const prompt = PromptTemplate.fromTemplate('Answer from these passages only, citing them by number.\n\n{context}\n\nQuestion: {question}');
  return RunnableSequence.from([
    { question: new RunnablePassthrough<string>(), documents: retriever },
    RunnablePassthrough.assign({
      prompt: async ({ question, documents }: { question: string; documents: Array<Document<PassageMetadata>> }) =>
        prompt.format({ question, context: formatPassages(documents) }),
    }),
    RunnableLambda.from(({ question, documents, prompt: text }: { question: string; documents: Array<Document<PassageMetadata>>; prompt: string }): GroundedAnswer => {
      const best = documents[0];
      const answer = best ? `${best.pageContent} [1: ${sourceLabel(best.metadata)}]` : 'The material does not say.';
      return { question, documents, prompt: text, answer };
    }),
  ]);
}
