import type { BuiltPrompt } from './prompt.js';
import type { ConversationMemoryPort, FaqPort, KnowledgePort, LlmPort, MemoryTurn, Passage, ResponderInfo } from './ports.js';
import type { BotProfile, TurnHooks, TurnInput, TurnResult, TurnSource, TurnStage } from './types.js';

/** Tunables of the engine; every one has a default. */
export interface EngineOptions {
  /** Passages asked of retrieval per turn. */
  retrieveK?: number;
  /** Default relevance threshold when the bot sets none; the scale is the retriever's. */
  minRelevance?: number;
  /** How many stored turns are read per turn. */
  historyWindow?: number;
  /** Older turns are summarised once more than this many are not yet in the summary... */
  summariseAfterTurns?: number;
  /** ...or once they hold more than this many characters. */
  summariseAfterChars?: number;
  /** Turns kept verbatim when older ones are summarised. */
  keepRecentTurns?: number;
  defaultContextSize?: number;
  defaultMaxAnswerTokens?: number;
  /** A message this short is treated as a follow-up: the previous question joins the retrieval query. */
  followUpMaxWords?: number;
  summaryMaxTokens?: number;
  /** The operator's caps on a model request's context window and generated tokens (MAX_CONTEXT_TOKENS, MAX_ANSWER_TOKENS). */
  maxContextSize?: number;
  maxAnswerTokens?: number;
  /** Told of every request sent to a model (not the extractive fallback), for metrics. */
  onModelCall?(call: { botId: string; purpose: 'reply' | 'summary' }): void;
  /** Told about problems the turn worked around (e.g. a summary that could not be written). */
  onDegraded?(what: string, error: unknown): void;
}

type Hooks = 'onDegraded' | 'onModelCall';
export type ResolvedOptions = Required<Omit<EngineOptions, Hooks>> & Pick<EngineOptions, Hooks>;

export const DEFAULT_OPTIONS: Omit<ResolvedOptions, Hooks> = {
  retrieveK: 6,
  minRelevance: 0,
  historyWindow: 40,
  summariseAfterTurns: 16,
  summariseAfterChars: 8000,
  keepRecentTurns: 6,
  defaultContextSize: 4096,
  defaultMaxAnswerTokens: 512,
  followUpMaxWords: 8,
  summaryMaxTokens: 300,
  maxContextSize: 8192,
  maxAnswerTokens: 1024,
};

export interface EnginePorts {
  llm: LlmPort;
  knowledge: KnowledgePort;
  memory: ConversationMemoryPort;
  /** The creator's FAQ pairs; a question matching one is answered from it. */
  faqs?: FaqPort;
}

export interface StepDeps extends EnginePorts {
  options: ResolvedOptions;
}

/** What the steps of one turn learn and hand on to each other. */
export interface TurnState {
  bot: BotProfile;
  input: TurnInput;
  hooks: TurnHooks;
  /** The burst's texts, merged into one message. */
  userText: string;
  /** Earlier turns to show verbatim, oldest first. */
  history: MemoryTurn[];
  summary?: string | undefined;
  /** The user's previous message, for follow-up questions. */
  previousUserText?: string | undefined;
  retrieved: Passage[];
  relevant: Passage[];
  prompt?: BuiltPrompt;
  generated: string;
  responder?: ResponderInfo;
  /** The passages a quoting responder quoted, by grounding `id`; unset when a model wrote the reply. */
  quotedPassageIds?: readonly number[];
  /** Everything sent to `onToken` so far. */
  streamed: string;
}

/** One step of the pipeline; returning a result ends the turn early. */
export interface Step {
  stage: TurnStage;
  run(state: TurnState, deps: StepDeps): Promise<TurnResult | undefined>;
}

/** Sends a piece of reply text to the listener and remembers it. */
export function emit(state: TurnState, delta: string): void {
  if (delta === '') return;
  state.streamed += delta;
  state.hooks.onToken?.(delta);
}

/**
 * The context window and token limit of a model request: the bot's settings (or the engine's
 * defaults), never above the operator's caps, whatever was stored before a cap was lowered.
 */
export function modelLimits(settings: BotProfile['settings'], options: ResolvedOptions, maxTokens?: number): { contextSize: number; maxTokens: number } {
  return {
    contextSize: Math.min(settings.contextSize ?? options.defaultContextSize, options.maxContextSize),
    maxTokens: Math.min(maxTokens ?? settings.maxAnswerTokens ?? options.defaultMaxAnswerTokens, options.maxAnswerTokens),
  };
}

/** Ends the turn with a reply the engine wrote itself (no model involved). */
export function answerDirectly(state: TurnState, reply: string): TurnResult {
  emit(state, reply);
  return { reply, sources: [] as TurnSource[], grounded: false, usedFallback: false };
}
