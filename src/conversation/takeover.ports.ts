/**
 * Ports of human takeover: a creator answering a conversation themselves while the bot stays
 * silent, and end users asking for a person. Adapters live in src/db (the store), src/coaching (the
 * proactive path the creator's messages take) and src/email (telling the creator).
 */
import type { ChannelName } from './channel.ports.js';

/** Who a conversation is answered by, as the inbox shows it. */
export interface TakeoverState {
  conversationId: string;
  takenOver: boolean;
  /** Since when a person has had it; null when the bot answers. */
  takenOverAt: Date | null;
  /** The contact asked for a person and no one has taken over since. */
  wantsHuman: boolean;
}

/** A conversation the creator may write into. */
export interface TakeoverTarget {
  conversationId: string;
  contactId: string;
  channel: ChannelName;
  takenOver: boolean;
}

/** A message the creator wrote, as its ledger row holds it. */
export interface CreatorMessage {
  id: string;
  text: string | null;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  error: string | null;
  at: Date;
  sentAt: Date | null;
}

export interface TakeoverStore {
  /**
   * Takes the bot's conversation over for `creatorId` (and clears a request for a person), recording
   * a takeover event when it was not taken over yet; null when the bot has no such conversation.
   * `activeAt` starts the idle timer.
   */
  takeOver(botId: string, conversationId: string, creatorId: string, activeAt: Date): Promise<TakeoverState | null>;
  /** Hands the conversation back to the bot, recording a release event when it was taken over; null when there is no such conversation. */
  release(botId: string, conversationId: string): Promise<TakeoverState | null>;
  /** The bot's conversation as a place to write into; null when there is none. */
  target(botId: string, conversationId: string): Promise<TakeoverTarget | null>;
  /** The creator was active in a conversation they took over (a message): the idle timer starts again. */
  touch(conversationId: string, activeAt: Date): Promise<void>;
  /** The creator's message stored under `effectKey` in the bot's conversation, or null. */
  creatorMessage(botId: string, conversationId: string, effectKey: string): Promise<CreatorMessage | null>;
  /** Releases (with an `idle` event) takeovers whose creator was last active before `idleSince`; the conversations released. */
  releaseIdle(idleSince: Date, limit: number): Promise<string[]>;
  /**
   * Flags the conversation as wanting a person on behalf of turn `turnId`. True when this turn's
   * request is the open one (newly, or already by this same turn on a retry): the creator is to be
   * told; false when a request by an earlier turn is still open.
   */
  requestHuman(conversationId: string, turnId: string): Promise<boolean>;
}

/** What became of a message the creator sent. */
export type CreatorSendOutcome =
  | { status: 'sent' }
  /** The channel failed in a way worth retrying: the worker tries again. */
  | { status: 'retrying' }
  /** The channel or the contact takes no such message now (closed WhatsApp window without a template, blocked, web chat…). */
  | { status: 'refused'; reason: string; outsideWindow: boolean };

/** Sends the creator's own messages through the conversation's channel, keyed by `effectKey` (exactly once). */
export interface CreatorMessageChannel {
  send(message: { botId: string; contactId: string; conversationId: string; effectKey: string; text: string }): Promise<CreatorSendOutcome>;
}

/** The bot's own messages held while a person had a conversation (src/coaching): sent once it is handed back. */
export interface HeldMessages {
  resume(conversationIds: string[]): Promise<void>;
}

/** Tells the creator a contact asked for a person (once per request: `turnId` keys it). */
export interface HumanRequestNotifier {
  humanRequested(request: { botId: string; conversationId: string; turnId: string }): Promise<void>;
}
