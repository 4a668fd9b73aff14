/**
 * The conversation engine's ports: everything it needs from the outside world, as interfaces.
 * Adapters (src/llm, rag/, src/db) implement them; src/main.ts wires them together.
 */

import type { SourceLocation } from './source-location.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A passage of the creator's material as retrieval returns it (compatible with rag's RetrievedPassage). */
export interface Passage {
  documentId: string;
  title: string;
  text: string;
  page?: number;
  /** The page, slide or time the passage sits at, when its source has locations. */
  location?: SourceLocation;
  /** Relevance; higher is better. Its scale is the retriever's. */
  score: number;
  /** Set when the passage is the creator's own answer to the question asked (an FAQ pair). */
  faq?: FaqAnswer;
}

/** A passage as the prompt quotes it: numbered, so `<source id="n">` and this record agree. */
export interface GroundingPassage {
  id: number;
  documentId: string;
  title: string;
  text: string;
  page?: number;
  location?: SourceLocation;
  /** The creator's FAQ pair this passage is; a responder that cannot generate sends its answer as it is. */
  faq?: FaqAnswer;
}

/**
 * The material a reply is grounded in, in structured form. Model responders read the prompt; a
 * responder that cannot generate (the extractive fallback) answers from this instead of parsing it.
 */
export interface Grounding {
  botName: string;
  /** BCP-47 code of the language the bot answers in. */
  language: string;
  /** The end user's question as it was asked this turn. */
  question: string;
  /** The passages the prompt quotes, in rank order. */
  passages: GroundingPassage[];
}

/** Who actually produced a reply; reported before the first delta. */
export interface ResponderInfo {
  name: string;
  kind: 'model' | 'extractive';
}

export interface LlmChatRequest {
  messages: ChatMessage[];
  model?: string;
  temperature?: number;
  /** Context window in tokens. */
  contextSize?: number;
  /** Upper bound on generated tokens. */
  maxTokens?: number;
  signal?: AbortSignal;
  /** 'summary' asks for a memory summary, which only a model can write; defaults to 'reply'. */
  purpose?: 'reply' | 'summary';
  grounding?: Grounding;
  /**
   * Called once, before the first delta, with the responder that answers. A provider that falls
   * back from a model to quoting the material reports the fallback here.
   */
  onResponder?(responder: ResponderInfo): void;
  /**
   * Called once, before the first delta, by a responder that quotes the material instead of
   * generating (the extractive fallback), with the `id`s of the grounding passages it quotes, so the
   * reply cites exactly those.
   */
  onQuoted?(passageIds: readonly number[]): void;
}

/** A chat model (or a stand-in for one). */
export interface LlmPort {
  readonly name: string;
  readonly kind: 'model' | 'extractive';
  /** Streams the reply as text deltas; the joined deltas are the whole reply. */
  chat(request: LlmChatRequest): AsyncIterable<string>;
}

/** The creator's own answer to a question their users ask. */
export interface FaqAnswer {
  id: string;
  /** The FAQ sheet it was read from; null for a pair the creator wrote. */
  documentId: string | null;
  question: string;
  answer: string;
}

/** Finds the creator's FAQ pair that a question asks, when one matches it closely enough. */
export interface FaqPort {
  /** `language` is the bot's (it decides how words are compared). */
  match(botId: string, language: string, question: string): Promise<FaqAnswer | null>;
}

/** Retrieval over one bot's knowledge base. */
export interface KnowledgePort {
  retrieve(botId: string, query: string, options: { k: number }): Promise<Passage[]>;
}

/** One stored message of a conversation. */
export interface MemoryTurn {
  id: string;
  role: 'user' | 'assistant';
  text: string;
}

export interface ConversationSummary {
  text: string;
  /** The newest turn the summary covers; turns after it are not in the summary. */
  coversUpToTurnId: string;
}

/** A conversation's history and its rolling summary. */
export interface ConversationMemoryPort {
  /**
   * The newest `limit` turns, oldest first. The current turn's own user messages may or may not
   * be included already; the engine copes with both.
   */
  recentTurns(conversationId: string, limit: number): Promise<MemoryTurn[]>;
  summary(conversationId: string): Promise<ConversationSummary | null>;
  saveSummary(conversationId: string, summary: string, coversUpToTurnId: string): Promise<void>;
  /** Drops the history and the summary (an end user's "forget me"). */
  forget(conversationId: string): Promise<void>;
}
