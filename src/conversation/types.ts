/** What the conversation engine takes and gives back. */

import type { LabelledLocation } from './source-location.js';

/** The bot as the engine needs it: who it is and how it answers. */
export interface BotProfile {
  id: string;
  name: string;
  /** The creator's description of the coach: tone, audience, approach. */
  persona: string;
  /** BCP-47 code of the language the bot answers in, e.g. 'en', 'de', 'pt-BR'. */
  language: string;
  settings: {
    model?: string;
    temperature: number;
    /** Context window in tokens; the engine's default when unset. */
    contextSize?: number;
    maxAnswerTokens?: number;
    /** Said when the material holds no answer; a friendly default when unset. */
    unknownAnswer?: string;
    citeSources: boolean;
    /** Passages scoring below this are treated as not relevant; the engine's default when unset. */
    minRelevance?: number;
  };
}

export interface TurnAttachment {
  type: string;
  fileName?: string;
  /** True when the file was read: its text is among the turn's `documents`. */
  read?: boolean;
}

/** A document the user shared in this conversation, as text the coach can answer questions about. */
export interface UserDocument {
  name: string;
  text: string;
}

/** One turn of an end user: a burst of messages that arrived close together, answered once. */
export interface TurnInput {
  botId: string;
  conversationId: string;
  contactName?: string;
  texts: string[];
  attachments?: TurnAttachment[];
  /** Documents the user shared in this conversation, newest first (this turn's and recent ones). */
  documents?: UserDocument[];
}

export interface TurnSource {
  documentId: string;
  title: string;
  page?: number;
  /** Where in the document: `{kind: 'time', value: 271, label: 'at 04:31'}`; absent for sources without locations. */
  location?: LabelledLocation;
}

export interface TurnResult {
  /** The text to send, citations included when the bot cites its sources. */
  reply: string;
  /** The material the reply drew on, one entry per document page; returned even when not cited in the text. */
  sources: TurnSource[];
  /** True when the reply was produced from retrieved material; false for "I don't know" replies. */
  grounded: boolean;
  /** True when the reply quotes the material because no model answered. */
  usedFallback: boolean;
}

/** The pipeline's steps, reported through `onStage` as each one starts. */
export type TurnStage = 'context' | 'memory' | 'retrieve' | 'gate' | 'prompt' | 'generate' | 'reply';

export interface TurnHooks {
  /** Receives reply text as it is produced; the deltas joined equal the final reply (trimmed). */
  onToken?(delta: string): void;
  onStage?(stage: TurnStage): void;
  signal?: AbortSignal;
}
