import { randomInt } from 'node:crypto';
import { GrammyError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { ValidationError } from '../../src/errors/app.errors.js';
import {
  ChannelAuthError,
  ChannelRequestError,
  RecipientBlockedError,
  type ChannelSender,
  type OutboundMessage,
  type SendResult,
  type StreamOptions,
} from '../../src/conversation/channel.ports.js';
import { MediaTooLargeError, readLimited } from '../media-download.js';
import { callTelegram, toChannelError } from './telegram.client.js';
import { formatForTelegram, inlineKeyboard, splitFormatted, type FormatOptions, type FormattedText } from './telegram.format.js';

export interface TelegramSenderOptions {
  /** Milliseconds since some fixed point; injected so tests drive streaming cadence without sleeping. */
  clock?: () => number;
  /** Stream through sendMessageDraft in private chats (Bot API 9.3+); otherwise edit a sent message. */
  drafts?: boolean;
  /** Least time between two previews in a private chat (Telegram: about one message a second per chat). */
  editIntervalMs?: number;
  /** Least time between two previews in a group (Telegram: 20 messages a minute per group). */
  groupEditIntervalMs?: number;
  /** Least growth, in characters, worth another preview. */
  minPreviewChars?: number;
  /**
   * Longest a preview may take, waits for a 429's retry_after included; a preview that would take
   * longer is skipped, so flood control never stalls the stream. The final message always waits.
   */
  previewTimeoutMs?: number;
  format?: FormatOptions;
  /** The Bot API server files are downloaded from (TELEGRAM_API_ROOT); downloads are off without it. */
  fileApiRoot?: string;
}

/** What a preview says when it could not be deleted and no reply will complete it. */
export const WITHDRAWN_NOTICE = '(draft withdrawn)';

// grammY's Node build types signals with the abort-controller polyfill; the native one works at run time.
type GrammySignal = Parameters<Api['sendMessage']>[3];

interface ShownMessage {
  id: number;
  /** What it displays, to skip edits that would change nothing. */
  content: string;
}

function chatIdOf(conversationId: string): number {
  if (!/^-?\d{1,20}$/.test(conversationId)) throw new ValidationError('Telegram conversation id must be a numeric chat id', { conversationId });
  return Number(conversationId);
}

function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && err.description.includes('message is not modified');
}

// Blocked and bad-token failures end a stream at once; anything else only costs a preview.
function isFatal(err: unknown): boolean {
  return err instanceof RecipientBlockedError || err instanceof ChannelAuthError;
}

/** Sends replies to Telegram chats: split, formatted with entities, streamed where Telegram allows. */
export class TelegramSender implements ChannelSender {
  readonly channel = 'telegram' as const;
  private readonly clock: () => number;
  private readonly drafts: boolean;
  private readonly editIntervalMs: number;
  private readonly groupEditIntervalMs: number;
  private readonly minPreviewChars: number;
  private readonly previewTimeoutMs: number;
  private readonly format: FormatOptions;
  private readonly fileApiRoot: string | undefined;

  constructor(
    private readonly api: Api,
    options: TelegramSenderOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
    this.drafts = options.drafts ?? true;
    this.fileApiRoot = options.fileApiRoot?.replace(/\/+$/, '');
    this.editIntervalMs = options.editIntervalMs ?? 1_000;
    this.groupEditIntervalMs = options.groupEditIntervalMs ?? 3_000;
    this.minPreviewChars = options.minPreviewChars ?? 16;
    this.previewTimeoutMs = options.previewTimeoutMs ?? 10_000;
    this.format = options.format ?? {};
  }

  /** Sends the reply as one or more messages (4,096 characters each), buttons under the last. */
  async sendText(conversationId: string, message: OutboundMessage): Promise<SendResult> {
    const chatId = chatIdOf(conversationId);
    const { chunks, keyboard } = this.render(message);
    const shown: ShownMessage[] = [];
    await this.show(chatId, shown, chunks, keyboard);
    return { messageIds: shown.map((m) => String(m.id)) };
  }

  /**
   * Shows the reply growing while it is generated — as a draft in private chats, otherwise as a
   * message edited at most once per interval — then delivers the final reply with its formatting.
   */
  async streamText(conversationId: string, tokens: AsyncIterable<string>, options: StreamOptions = {}): Promise<SendResult> {
    const chatId = chatIdOf(conversationId);
    const interval = chatId > 0 ? this.editIntervalMs : this.groupEditIntervalMs;
    // Drafts exist only in private chats, whose ids are positive.
    let useDrafts = this.drafts && chatId > 0;
    const draftBase = randomInt(1, 2 ** 30);
    const shown: ShownMessage[] = [];
    let text = '';
    let previewedLength = 0;
    let lastPreviewAt = Number.NEGATIVE_INFINITY;

    const preview = async () => {
      const chunks = splitFormatted(formatForTelegram({ text }, this.format));
      if (chunks.length === 0) return;
      const signal = AbortSignal.timeout(this.previewTimeoutMs) as unknown as GrammySignal;
      if (useDrafts) {
        // A draft shows one message; past 4,096 characters it shows the part being written.
        const index = chunks.length - 1;
        const chunk = chunks[index]!;
        try {
          await this.api.sendMessageDraft(chatId, draftBase + index, chunk.text, chunk.entities.length ? { entities: chunk.entities } : {}, signal);
          return;
        } catch (err) {
          const mapped = toChannelError(err);
          if (isFatal(mapped)) throw mapped;
          // 400: this bot or chat cannot have drafts; edit a real message instead from now on.
          if (!(mapped instanceof ChannelRequestError && mapped.errorCode === 400)) return;
          useDrafts = false;
        }
      }
      try {
        await this.show(chatId, shown, chunks, undefined, { signal });
      } catch (err) {
        if (isFatal(err)) throw err;
      }
    };

    let final: OutboundMessage;
    try {
      for await (const token of tokens) {
        text += token;
        const grown = text.length - previewedLength;
        const due = this.clock() - lastPreviewAt >= interval;
        const enough = previewedLength === 0 ? text.trim().length > 0 : grown >= this.minPreviewChars;
        if (!due || !enough) continue;
        await preview();
        lastPreviewAt = this.clock();
        previewedLength = text.length;
      }
      final = options.final ? await options.final(text) : { text };
    } catch (err) {
      // No final reply follows (a person took the conversation over meanwhile, or generation
      // failed): a half-written preview must not stay in the chat looking like the answer.
      if (!isFatal(err)) await this.withdraw(chatId, shown);
      throw err;
    }
    const { chunks, keyboard } = this.render(final);
    await this.show(chatId, shown, chunks, keyboard, { removeExtra: true });
    return { messageIds: shown.map((m) => String(m.id)) };
  }

  /**
   * Removes preview messages no reply will complete. Bots may delete their own messages for 48
   * hours, so deleting normally works; where it is refused (an admin took the right away), the
   * preview is edited to a short notice instead. Private chats' drafts vanish by themselves.
   */
  private async withdraw(chatId: number, shown: ShownMessage[]): Promise<void> {
    for (const preview of shown.splice(0)) {
      try {
        await this.api.deleteMessage(chatId, preview.id);
      } catch {
        await this.api.editMessageText(chatId, preview.id, WITHDRAWN_NOTICE).catch(() => undefined);
      }
    }
  }

  /** Shows "typing…" in the chat for up to five seconds. */
  async sendTyping(conversationId: string): Promise<void> {
    const chatId = chatIdOf(conversationId);
    await callTelegram(() => this.api.sendChatAction(chatId, 'typing'));
  }

  /** Stops the button's spinner, optionally with a short notice at the top of the chat. */
  /** Downloads a file a user sent (getFile, then the file URL), refusing anything over `maxBytes`. */
  async downloadMedia(fileId: string, options: { maxBytes: number }): Promise<{ bytes: Buffer; mimeType: string }> {
    if (!this.fileApiRoot) throw new ChannelRequestError('telegram', undefined, 'file downloads are not configured', false);
    const file = await callTelegram(() => this.api.getFile(fileId));
    if (file.file_size !== undefined && file.file_size > options.maxBytes) throw new MediaTooLargeError('telegram', options.maxBytes, file.file_size);
    if (!file.file_path) throw new ChannelRequestError('telegram', undefined, 'Telegram gave no path for the file (larger than 20 MB?)', false);
    let response: Response;
    try {
      response = await fetch(`${this.fileApiRoot}/file/bot${this.api.token}/${file.file_path}`, { signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new ChannelRequestError('telegram', undefined, err instanceof Error ? err.message : String(err), true);
    }
    if (!response.ok) throw new ChannelRequestError('telegram', response.status, `file download answered ${response.status}`, response.status >= 500);
    return { bytes: await readLimited(response, options.maxBytes, 'telegram'), mimeType: response.headers.get('content-type') ?? 'application/octet-stream' };
  }

  async answerCallback(callbackId: string, text?: string): Promise<void> {
    try {
      await this.api.answerCallbackQuery(callbackId, text ? { text } : {});
    } catch (err) {
      // Presses older than Telegram keeps them (about 15 minutes) cannot be answered; nothing is lost.
      if (err instanceof GrammyError && err.error_code === 400 && err.description.includes('query is too old')) return;
      throw toChannelError(err);
    }
  }

  private render(message: OutboundMessage): { chunks: FormattedText[]; keyboard: InlineKeyboardMarkup | undefined } {
    // The keyboard is checked before anything is sent, so a bad button id never leaves half a reply.
    const keyboard = message.buttons?.length ? inlineKeyboard(message.buttons) : undefined;
    const chunks = splitFormatted(formatForTelegram(message, this.format));
    if (chunks.length === 0) throw new ValidationError('Cannot send an empty message');
    return { chunks, keyboard };
  }

  /**
   * Makes the chat show `chunks`: edits the messages already shown where they differ, sends the rest
   * in order and, for the final state, deletes messages left over from a longer preview.
   */
  private async show(
    chatId: number,
    shown: ShownMessage[],
    chunks: FormattedText[],
    keyboard: InlineKeyboardMarkup | undefined,
    { removeExtra = false, signal }: { removeExtra?: boolean; signal?: GrammySignal } = {},
  ): Promise<void> {
    for (const [index, chunk] of chunks.entries()) {
      const markup = index === chunks.length - 1 ? keyboard : undefined;
      const other = {
        ...(chunk.entities.length ? { entities: chunk.entities } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      };
      const content = JSON.stringify([chunk.text, chunk.entities, markup ?? null]);
      const existing = shown[index];
      if (!existing) {
        const sent = await callTelegram(() => this.api.sendMessage(chatId, chunk.text, other, signal));
        shown.push({ id: sent.message_id, content });
        continue;
      }
      if (existing.content === content) continue;
      try {
        await this.api.editMessageText(chatId, existing.id, chunk.text, other, signal);
      } catch (err) {
        if (!isNotModified(err)) throw toChannelError(err);
      }
      existing.content = content;
    }
    if (!removeExtra) return;
    for (const extra of shown.splice(chunks.length)) {
      try {
        await this.api.deleteMessage(chatId, extra.id);
      } catch (err) {
        const mapped = toChannelError(err);
        if (isFatal(mapped)) throw mapped;
      }
    }
  }
}
