import { createHash } from 'node:crypto';
import type { Attachment } from '../conversation/channel.ports.js';
import type { SharedFiles, SharedFileSource } from '../conversation/turn.ports.js';
import type { UserDocument } from '../conversation/types.js';
import type { DocumentTextReader, MediaRecords, MediaStorage } from './media.ports.js';

export interface MediaServiceOptions {
  records: MediaRecords;
  storage: MediaStorage;
  readText: DocumentTextReader;
  /** Largest file accepted from a user. */
  maxBytes: number;
  /** Characters of a document's text kept for the model. */
  maxTextChars?: number;
}

/** What became of one file a user sent. */
export type MediaOutcome = { stored: true; text?: string } | { stored: false; reason: string };

// Extensions for stored files, so an operator browsing the media folder can open them.
const extensions: Record<string, string> = {
  'application/pdf': '.pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
  'text/plain': '.txt',
  'text/markdown': '.md',
  'text/html': '.html',
  'application/x-subrip': '.srt',
  'text/vtt': '.vtt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': '.pptx',
  'application/epub+zip': '.epub',
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'audio/ogg': '.ogg',
  'audio/mpeg': '.mp3',
  'video/mp4': '.mp4',
};

/**
 * Files users send: downloaded once while the channel still serves them, kept in media storage,
 * and — for documents — read to text so the coach can answer questions about them.
 */
export class MediaService implements SharedFiles {
  private readonly maxTextChars: number;

  constructor(private readonly options: MediaServiceOptions) {
    this.maxTextChars = options.maxTextChars ?? 60_000;
  }

  /** Downloads and stores one attachment (once per file id); a document's text when it could be read. */
  async receive(source: SharedFileSource, attachment: Attachment): Promise<MediaOutcome> {
    if (!attachment.fileId) return { stored: false, reason: 'nothing to download' };
    const { records, storage } = this.options;
    const known = await records.find(source.botId, source.channel, attachment.fileId);
    if (known) return { stored: true, ...(known.extractedText ? { text: known.extractedText } : {}) };
    if (attachment.sizeBytes !== undefined && attachment.sizeBytes > this.options.maxBytes) {
      return { stored: false, reason: `larger than ${this.options.maxBytes} bytes` };
    }
    let file: { bytes: Buffer; mimeType: string };
    try {
      file = await source.download(attachment.fileId, { maxBytes: this.options.maxBytes });
    } catch (err) {
      // Too large, expired or gone: the turn is still answered, just without the file.
      return { stored: false, reason: err instanceof Error ? err.message : String(err) };
    }
    const mimeType = (attachment.mimeType ?? file.mimeType).split(';')[0]!.trim().toLowerCase();
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const storageKey = `${source.botId}/${source.conversationId}/${sha256}${extensions[mimeType] ?? ''}`;
    await storage.put(storageKey, file.bytes);
    const text = attachment.type === 'document' ? await this.readText(file.bytes, mimeType, attachment.fileName) : undefined;
    const stored = await records.insert({
      botId: source.botId,
      conversationId: source.conversationId,
      channel: source.channel,
      fileId: attachment.fileId,
      kind: attachment.type,
      mimeType,
      sizeBytes: file.bytes.length,
      sha256,
      storageKey,
      ...(attachment.fileName ? { fileName: attachment.fileName } : {}),
      ...(text ? { extractedText: text } : {}),
    });
    return { stored: true, ...(stored.extractedText ? { text: stored.extractedText } : {}) };
  }

  /** Documents the user shared in the conversation within `withinMs`, newest first, for follow-up questions. */
  async recentDocuments(conversationId: string, withinMs: number, limit = 2): Promise<UserDocument[]> {
    const rows = await this.options.records.recentDocuments(conversationId, withinMs, limit);
    return rows.map((r) => ({ name: r.fileName ?? 'document', text: r.extractedText }));
  }

  /** Deletes a conversation's files and their records (the user asked to be forgotten). */
  async forgetConversation(botId: string, conversationId: string): Promise<void> {
    await this.options.storage.deletePrefix(`${botId}/${conversationId}/`);
    await this.options.records.deleteConversation(conversationId);
  }

  private async readText(bytes: Buffer, mimeType: string, fileName: string | undefined): Promise<string | undefined> {
    try {
      const text = (await this.options.readText({ bytes, mimeType, fileName })).trim();
      return text ? text.slice(0, this.maxTextChars) : undefined;
    } catch {
      // An unreadable document is kept; the coach says it cannot open it.
      return undefined;
    }
  }
}
