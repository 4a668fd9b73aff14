// The API's shapes the dashboard reads (src/http/schemas on the server).

export interface Bot {
  id: string;
  name: string;
  persona: string;
  language: string;
  settings: BotSettings;
  channels: Array<{ channel: 'telegram' | 'whatsapp' | 'web' } & Record<string, unknown>>;
  createdAt: string;
}

export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed';

export interface KnowledgeDocument {
  id: string;
  title: string;
  status: DocumentStatus;
  error?: string;
  chunks: number;
  pages?: number;
  progress: number;
  /** The embedding model the document is searched by. */
  embeddingModel?: string;
  /** While a new embedding model's vectors are written; the old ones serve until they are complete. */
  reembedding?: { model: string; chunksDone: number; progress: number };
  filename?: string;
  sourceUrl?: string;
  sizeBytes: number | null;
  createdAt: string;
}

export interface SearchResult {
  documentId: string;
  title: string;
  text: string;
  page?: number;
  location?: SourceLocation;
  score: number;
}

/** Where a passage sits: a page, a slide, a time, a spreadsheet row, an e-book chapter or an export's path, with the label citations use ("at 04:31"). */
export interface SourceLocation {
  kind: 'page' | 'slide' | 'time' | 'row' | 'chapter' | 'path';
  value: number;
  section?: string;
  label: string;
}

export interface Source {
  documentId: string;
  title: string;
  page?: number;
  location?: SourceLocation;
}

export interface ConversationSummary {
  id: string;
  channel: 'telegram' | 'whatsapp' | 'web';
  contact: { id: string; displayName: string; username: string | null };
  lastMessage: { type: 'user' | 'reply' | 'notice' | 'creator'; text: string | null; at: string } | null;
  lastMessageAt: string;
  unanswered: boolean;
  unknown: boolean;
  takenOver: boolean;
  wantsHuman: boolean;
}

export type TranscriptItem =
  | { type: 'user'; id: string; kind: string; text: string | null; attachments: Array<{ type: string; fileName?: string }>; held: boolean; at: string }
  | { type: 'event'; id: string; event: 'takeover' | 'release' | 'human_requested'; by: 'creator' | 'idle' | 'contact'; at: string }
  | {
      type: 'reply' | 'notice' | 'creator';
      id: string;
      text: string | null;
      sources: Source[];
      delivery: { status: 'pending' | 'sending' | 'sent' | 'failed'; error: string | null; sentAt: string | null };
      at: string;
    };

export interface WebLinks {
  chatUrl: string;
  embedSnippet: string;
}

/** What `PATCH /v1/bots/:botId` accepts under `settings` (src/bots/bot-settings.ts); unset keys use the platform's defaults. */
export interface BotSettings {
  model?: string;
  temperature: number;
  contextSize?: number;
  maxAnswerTokens?: number;
  embeddingModel?: string;
  welcomeMessage?: string;
  unknownAnswer?: string;
  citeSources: boolean;
  mergeWindowMs: number;
  quietHoursStart?: string;
  quietHoursEnd?: string;
  humanHandoffPhrases?: string[];
}

/** A question and the creator's answer: written in the dashboard, or read from an uploaded FAQ sheet. */
export interface FaqPair {
  id: string;
  question: string;
  answer: string;
  source: 'manual' | 'document';
  documentId: string | null;
  location: { sheet: string | null; row: number; label: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** A website in the knowledge base: its pages are documents, read again on a schedule or on demand. */
export interface Site {
  id: string;
  rootUrl: string;
  status: 'queued' | 'crawling' | 'ready' | 'failed';
  error?: string;
  useSitemap: boolean;
  maxPages: number;
  syncIntervalHours: number;
  pagesFound: number;
  lastSyncedAt?: string;
  createdAt: string;
}

/** One page of a website, as the document it became. */
export interface SitePage {
  documentId: string;
  url: string;
  title: string;
  status: DocumentStatus;
  error?: string;
  chunks: number;
  fetchedAt?: string;
}
