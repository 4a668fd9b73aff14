/**
 * The channel-free shapes at the edge. Everything past channels/ sees only these, never a Telegram
 * or WhatsApp payload, so the engine, workers and routes stay the same whichever channel a user is on.
 */
import { AppError } from '../errors/app.errors.js';

export type ChannelName = 'telegram' | 'whatsapp' | 'web';

export type AttachmentType = 'photo' | 'voice' | 'audio' | 'video' | 'document' | 'sticker' | 'location' | 'contact' | 'other';

/** A file or structured item the user sent; files are referenced by the channel's id, never downloaded here. */
export interface Attachment {
  type: AttachmentType;
  /** The channel's handle for downloading the file later. */
  fileId?: string | undefined;
  mimeType?: string | undefined;
  fileName?: string | undefined;
  sizeBytes?: number | undefined;
  caption?: string | undefined;
  durationSeconds?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** Sticker emoji. */
  emoji?: string | undefined;
  /** For `location`. */
  latitude?: number | undefined;
  longitude?: number | undefined;
  /** Venue title or address, for a `location` that names a place. */
  title?: string | undefined;
  /** For `contact`. */
  phoneNumber?: string | undefined;
  contactName?: string | undefined;
}

export interface InboundContact {
  /** The user's id on the channel (Telegram user id, WhatsApp phone number). */
  externalId: string;
  displayName?: string | undefined;
  username?: string | undefined;
  /** IETF language tag as the client reports it. */
  languageCode?: string | undefined;
}

export type InboundKind = 'text' | 'command' | 'callback' | 'attachment' | 'edited' | 'reaction' | 'contact_status' | 'unsupported';

/** One thing a user did on a channel, in one shape for every channel. */
export interface InboundMessage {
  channel: ChannelName;
  /** Unique per bot and channel (Telegram: update_id); the key that makes redelivery harmless. */
  externalId: string;
  /** Where replies go (Telegram: chat id). */
  conversationId: string;
  contact: InboundContact;
  kind: InboundKind;
  /** Message text or attachment caption. */
  text?: string | undefined;
  /** `/start abc` → `{ name: 'start', payload: 'abc' }`. */
  command?: { name: string; payload?: string } | undefined;
  attachments: Attachment[];
  /** A button press: `data` is the pressed button's id. */
  callback?: { id: string; data?: string | undefined; messageId?: string | undefined } | undefined;
  /** For `edited`: the channel's id of the message that changed. */
  editedMessageId?: string | undefined;
  /** For `reaction`: the message reacted to and the emoji; no emoji means the reaction was removed. */
  reaction?: { messageId: string; emoji?: string | undefined } | undefined;
  /** For `contact_status`: whether the user blocked the bot or came back. */
  contactStatus?: 'blocked' | 'unblocked' | undefined;
  /** The channel's id of the message itself (for replies and reactions). */
  externalMessageId?: string | undefined;
  replyToMessageId?: string | undefined;
  sentAt: Date;
}

/** What the channel reported about a message we sent (WhatsApp status webhooks). */
export interface DeliveryReport {
  /** The channel's id of the sent message (WhatsApp: wamid). */
  externalMessageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  at: Date;
  error?: { code: number; title: string; details?: string } | undefined;
  /** The failure is the recipient's choice to stop messages the business starts (WhatsApp: code 131050). */
  recipientOptedOut?: boolean | undefined;
}

/** A reply as the engine produces it; each sender renders it in its channel's own way. */
export interface OutboundMessage {
  text: string;
  /** Quick replies; a press comes back as an inbound `callback` whose data is the button id. */
  buttons?: Array<{ id: string; title: string }> | undefined;
  /** Source titles shown under the reply. */
  citations?: string[] | undefined;
  /** Written by a person (the creator in a conversation they took over), not generated. */
  byPerson?: boolean | undefined;
}

/** Which turn a reply answers: the web chat's waiting requests match replies to their messages by it. */
export interface DeliveryContext {
  turnId: string;
  /** The inbound rows the turn answers. */
  inboundIds: string[];
}

/**
 * What a sender publishes on a channel whose user pulls replies (web chat) rather than being sent
 * them: the growing draft of a turn's reply, then the reply itself. Notices and proactive messages carry no turn.
 */
export type ReplyEvent =
  /** The draft grows by `text`, which follows its first `offset` characters (0 again: generation restarted). */
  | { type: 'draft'; turn: DeliveryContext; offset: number; text: string }
  /**
   * A message that answers no turn (a notice, a proactive message, the creator's own) also carries
   * the id it is stored under and when it was sent, so a page that saw it live and again in its
   * history shows it once.
   */
  | { type: 'reply'; turn?: DeliveryContext; message: OutboundMessage; id?: string; at?: string };

/** Carries reply events from the process answering a turn to the processes waiting for it. */
export interface ReplyEventBus {
  publish(botId: string, conversationId: string, event: ReplyEvent): Promise<void>;
  /** Calls `listener` with the conversation's events from the moment this resolves; resolves to an unsubscribe. */
  subscribe(botId: string, conversationId: string, listener: (event: ReplyEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * A channel's send rate shared by every process sending for one key (a Telegram bot, a WhatsApp
 * business number), so several worker processes together stay within the limit one would keep.
 */
export interface SharedSendPace {
  /** Reserves the key's next slot, `intervalMs` after the one before; resolves how many ms to wait for it. */
  reserve(key: string, intervalMs: number): Promise<number>;
}

export interface SendResult {
  /** The channel's ids of the messages the user now sees, in order. */
  messageIds: string[];
}

export interface StreamOptions {
  /**
   * Builds the message that is finally delivered from the whole generated text (to add citations or
   * buttons, or to replace the text); defaults to the text as generated.
   */
  final?: (text: string) => OutboundMessage | Promise<OutboundMessage>;
  /** The turn being answered. */
  context?: DeliveryContext;
}

/**
 * Sends replies on one channel. Implementations handle the channel's limits (length, rate, retries)
 * and throw RecipientBlockedError, ChannelAuthError or ChannelRequestError.
 */
export interface ChannelSender {
  readonly channel: ChannelName;
  /** Sends one message; `context` names the turn it answers, when it answers one. */
  sendText(conversationId: string, message: OutboundMessage, context?: DeliveryContext): Promise<SendResult>;
  /**
   * Shows the reply growing while `tokens` are generated where the channel can, and always ends with
   * the complete reply delivered; channels that cannot stream just send the final message.
   */
  streamText(conversationId: string, tokens: AsyncIterable<string>, options?: StreamOptions): Promise<SendResult>;
  /**
   * Shows "typing…" for a few seconds, where the channel has such a thing. WhatsApp ties it to the
   * user's message (`inboundMessageId`), which it also marks read.
   */
  sendTyping(conversationId: string, inboundMessageId?: string): Promise<void>;
  /** Downloads a file the user sent, by its attachment `fileId`; absent where the channel cannot. */
  downloadMedia?(fileId: string, options: { maxBytes: number }): Promise<{ bytes: Buffer; mimeType: string }>;
  /** Acknowledges a button press so the client stops its spinner. */
  answerCallback(callbackId: string, text?: string): Promise<void>;
}

/**
 * The user blocked the bot, deleted their account or removed the bot from the chat. Retrying cannot
 * help: mark the contact blocked and stop sending until they come back.
 */
export class RecipientBlockedError extends AppError {
  constructor(
    readonly channel: ChannelName,
    readonly reason: 'blocked' | 'deactivated' | 'kicked' | 'forbidden',
    description: string,
  ) {
    super('RECIPIENT_BLOCKED', 409, `The ${channel} recipient cannot be reached: ${description}`, { channel, reason });
    this.name = 'RecipientBlockedError';
  }
}

/** The channel rejected our credentials (bot token revoked or mistyped). */
export class ChannelAuthError extends AppError {
  constructor(
    readonly channel: ChannelName,
    message: string,
  ) {
    super('CHANNEL_AUTH_FAILED', 400, message, { channel });
    this.name = 'ChannelAuthError';
  }
}

/** Any other failure talking to the channel; `retryable` says whether trying later may succeed. */
export class ChannelRequestError extends AppError {
  constructor(
    readonly channel: ChannelName,
    /** The channel's error code (Telegram: HTTP-like error_code); undefined for network failures. */
    readonly errorCode: number | undefined,
    readonly description: string,
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super('CHANNEL_REQUEST_FAILED', 502, `${channel} request failed: ${description}`, {
      channel,
      errorCode,
      retryAfterSeconds,
    });
    this.name = 'ChannelRequestError';
  }
}

/**
 * The channel takes no message of ours to this recipient now, and retrying will not change that until
 * they write again (WhatsApp: outside the 24-hour window with no approved template).
 */
export class OutsideWindowError extends ChannelRequestError {
  constructor(channel: ChannelName, errorCode: number | undefined, description: string) {
    super(channel, errorCode, description, false);
    this.name = 'OutsideWindowError';
  }
}

/**
 * The recipient told the channel they want no messages the business sends of its own accord (WhatsApp:
 * they stopped marketing messages, Graph code 131050). Retrying cannot help; like /stop, proactive
 * messages stop until they opt in again, while replies to their own messages still go out.
 */
export class RecipientOptedOutError extends ChannelRequestError {
  constructor(channel: ChannelName, errorCode: number | undefined, description: string) {
    super(channel, errorCode, description, false);
    this.name = 'RecipientOptedOutError';
  }
}
