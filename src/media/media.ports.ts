/** Ports of the files users send: where bytes are kept and where their records live. */

/** Bytes by key; local disk under DATA_DIR by default. */
export interface MediaStorage {
  put(key: string, bytes: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  /** Deletes every object whose key starts with `prefix` (a bot's or a conversation's files). */
  deletePrefix(prefix: string): Promise<void>;
  /** Releases connections, where the storage holds any. */
  close?(): void;
}

export interface StoredMedia {
  id: string;
  kind: string;
  mimeType: string;
  fileName: string | null;
  sizeBytes: number;
  storageKey: string;
  extractedText: string | null;
}

export interface NewMedia {
  botId: string;
  conversationId: string;
  channel: string;
  fileId: string;
  kind: string;
  mimeType: string;
  fileName?: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  extractedText?: string;
}

/** Records of downloaded files (`public.media_files`), unique per bot, channel and file id. */
export interface MediaRecords {
  find(botId: string, channel: string, fileId: string): Promise<StoredMedia | null>;
  /** Inserts the record; an existing one for the same file wins and is returned. */
  insert(media: NewMedia): Promise<StoredMedia>;
  /** Documents with text in the conversation, newest first. */
  recentDocuments(conversationId: string, sinceMs: number, limit: number): Promise<Array<{ fileName: string | null; extractedText: string }>>;
  deleteConversation(conversationId: string): Promise<void>;
}

/** Reads the text of a document (PDF, DOCX, HTML, text); throws when it cannot. */
export type DocumentTextReader = (input: { bytes: Buffer; mimeType: string; fileName?: string | undefined }) => Promise<string>;
