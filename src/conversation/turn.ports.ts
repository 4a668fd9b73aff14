/**
 * Ports of the message pipeline around the engine: storing inbound messages, claiming them into
 * turns, the outbound ledger, locks and the work queue. Adapters live in src/db, workers/ and
 * src/platform.ts; the services here never see pg, BullMQ or grammY.
 */
import type { Attachment, ChannelName, ChannelSender, InboundMessage, OutboundMessage } from './channel.ports.js';
import type { BotProfile, TurnSource, UserDocument } from './types.js';

/** The bot as the pipeline needs it: its profile for the engine plus the settings around turns. */
export interface ConversationBot {
  creatorId: string;
  profile: BotProfile;
  mergeWindowMs: number;
  welcomeMessage?: string;
  /** Phrases with which a user asks for a person (besides /human). */
  handoffPhrases: string[];
}

/** Bots by id, not scoped to a creator: webhooks and workers know only the bot. */
export interface BotDirectory {
  find(botId: string): Promise<ConversationBot | null>;
}

export interface ReceivedInbound {
  inboundId: string;
  conversationId: string;
  /** False when the same (bot, channel, external id) was stored before: a redelivery. */
  created: boolean;
}

export interface InboundStore {
  /**
   * Upserts the contact and the conversation and inserts the message (ON CONFLICT DO NOTHING),
   * all in one transaction: either everything is committed or nothing is.
   */
  receive(botId: string, message: InboundMessage): Promise<ReceivedInbound>;
  /**
   * One inbound row per piece of unfinished work older than `olderThanMs`: rows not claimed into a
   * turn, and the first row of every turn still processing.
   */
  unfinished(olderThanMs: number, limit: number): Promise<Array<{ inboundId: string; botId: string }>>;
}

export type TurnKind = 'message' | 'command' | 'callback' | 'contact_status';
/** 'held': the turn came while a person had taken the conversation over, and the bot stayed silent. */
export type TurnStatus = 'processing' | 'answered' | 'failed' | 'held';

/** A turn with the messages it answers, oldest first. */
export interface ClaimedTurn {
  id: string;
  botId: string;
  conversationId: string;
  channel: ChannelName;
  /** Where replies go (Telegram: the chat id). */
  externalChatId: string;
  kind: TurnKind;
  messages: InboundMessage[];
  /** The inbound rows the turn answers, in the order of `messages`. */
  inboundIds: string[];
  /** The contact has blocked the bot (as of the claim): nothing is sent. */
  contactBlocked: boolean;
  /** The user shared a document within the window asked for when claiming: worth loading for the prompt. */
  sharedDocuments: boolean;
  /** A person has taken the conversation over (as of the claim): the bot answers nothing. */
  takenOver: boolean;
}

/** What a worker holding the conversation's lock is to do next for an inbound row. */
export type NextTurn =
  | { next: 'gone' }
  /** The row's turn is answered or failed, and no earlier turn is unfinished. */
  | { next: 'settled' }
  | { next: 'turn'; turn: ClaimedTurn };

export interface TurnStore {
  /**
   * In one step: nothing when `inboundId`'s turn is settled; otherwise the conversation's oldest
   * turn still processing (left behind by a crash or a failed attempt), or else its next unclaimed
   * rows claimed into a new turn (see `claimNext`). The attempt is counted. `documentWindowMs`
   * is how far back `sharedDocuments` looks.
   */
  next(inboundId: string, conversationId: string, documentWindowMs: number): Promise<NextTurn>;
  /**
   * Claims the conversation's next unclaimed rows, in arrival order, into a new turn (its first
   * attempt counted): one command, button press or status change alone, or every consecutive
   * ordinary message (a burst).
   */
  claimNext(conversationId: string): Promise<ClaimedTurn | null>;
  /**
   * Whether the burst `inboundId` waits in may still grow, so claiming it now would answer half of
   * it: 'closed' when the row is claimed already or its burst is complete (a command follows it, its
   * newest message is `quietMs` old, or its oldest has waited `maxWaitMs`); otherwise 'growing', or
   * 'growing_newer' when a newer message of the conversation has arrived since (whose job will come).
   */
  burstState(inboundId: string, conversationId: string, quietMs: number, maxWaitMs: number): Promise<'closed' | 'growing' | 'growing_newer'>;
  /**
   * The reply is complete: kept on the turn, and its ledger row turns `sending` with the final text —
   * unless a person has taken the conversation over, checked in the same statement (which waits for
   * a takeover being stored): then the turn is `held`, its unsent ledger row dropped, and false returned.
   */
  saveFinalReply(turn: { turnId: string; ledgerId: string }, reply: string, sources: TurnSource[]): Promise<boolean>;
  /** A fixed reply's ledger row turns `sending` with its text, guarded against a takeover as `saveFinalReply` is. */
  startSending(turn: { turnId: string; ledgerId: string }, text: string): Promise<boolean>;
  /** The reply arrived: its ledger row is `sent` with the channel's message ids and the turn `answered`, together. */
  finishSent(turn: { turnId: string; ledgerId: string }, messageIds: string[]): Promise<void>;
  finish(turnId: string, status: 'answered' | 'failed' | 'held', error?: string): Promise<void>;
  /** Marks the turn holding `inboundId` (or the conversation's oldest unfinished one) failed. */
  failFor(inboundId: string, error: string): Promise<void>;
}

export type OutboundStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboundRecord {
  id: string;
  status: OutboundStatus;
  /** The final text, recorded when delivery started. */
  text: string | null;
}

/** One ledger row per turn's reply (UNIQUE turn_id): what was sent, and whether it arrived. */
export interface OutboundLedger {
  /** The turn's ledger row, created `pending` on first use. */
  open(turn: { turnId: string; botId: string; conversationId: string }): Promise<OutboundRecord>;
  markSending(id: string, text: string): Promise<void>;
  markSent(id: string, messageIds: string[]): Promise<void>;
  markFailed(id: string, error: string): Promise<void>;
}

/**
 * Features consulted before a turn is answered (src/coaching: opt-out, time zone, reminders,
 * programs): a reply that answers the turn itself, or null to answer it as usual. Runs again when a
 * turn is retried, so what it stores must be keyed by the turn.
 */
export interface TurnInterceptor {
  intercept(turn: ClaimedTurn): Promise<OutboundMessage | null>;
}

/**
 * An end user asking for a person (`/human` or one of the bot's handoff phrases): the conversation is
 * flagged and the creator told, once per request. Runs again when a turn is retried: keyed by the turn.
 */
export interface HumanHandoff {
  request(turn: Pick<ClaimedTurn, 'id' | 'botId' | 'conversationId'>): Promise<void>;
}

/** The end user behind a conversation. */
export interface ContactStore {
  isBlocked(conversationId: string): Promise<boolean>;
  setBlocked(conversationId: string, blocked: boolean): Promise<void>;
  setDeepLinkPayload(conversationId: string, payload: string): Promise<void>;
  /**
   * Deletes what we hold about the conversation's contact (messages, turns, replies, memory,
   * profile) except the turn `keepTurnId`, which is still being answered.
   */
  forgetContact(conversationId: string, keepTurnId: string): Promise<void>;
}

export interface ConversationLease {
  release(): Promise<void>;
}

/** A worker's hold on an inbound row's conversation, with where the row belongs. */
export interface InboundLease extends ConversationLease {
  botId: string;
  conversationId: string;
  channel: ChannelName;
  /**
   * Releases, and names in the same step the conversation's oldest message not yet claimed into a
   * turn that was received at least `settledMs` ago (its merge window has passed), or null.
   */
  releaseFindingNext(settledMs: number): Promise<string | null>;
}

/** Serialises turns per conversation and caps turns per creator, across processes. */
export interface ConversationLocks {
  /** Null when the conversation is being answered elsewhere or the creator has no free slot. */
  tryAcquire(conversationId: string, creatorId: string, creatorSlots: number): Promise<ConversationLease | null>;
  /** As `tryAcquire` for the conversation and bot an inbound row belongs to: 'gone' when the row (or its bot) no longer exists. */
  acquireFor(inboundId: string, creatorSlots: number): Promise<InboundLease | 'gone' | null>;
}

/** Senders per bot and channel; null when the channel is not connected. */
export interface SenderDirectory {
  sender(botId: string, channel: ChannelName): Promise<ChannelSender | null>;
}

/** The `converse` queue, keyed by inbound row so duplicates collapse. */
export interface TurnQueue {
  enqueue(inboundId: string, botId: string, delayMs: number): Promise<void>;
  /** Adds the job unless a live one exists; a finished one with the same id is replaced. Returns whether it added. */
  ensure(inboundId: string, botId: string): Promise<boolean>;
}

/** Where a file a user sent comes from: their conversation and the channel's downloader. */
export interface SharedFileSource {
  botId: string;
  conversationId: string;
  channel: string;
  download(fileId: string, options: { maxBytes: number }): Promise<{ bytes: Buffer; mimeType: string }>;
}

/** Files users send (src/media): kept, and documents read so the coach can answer about them. */
export interface SharedFiles {
  /** Downloads and stores one attachment (once per file); a document's text when it could be read. */
  receive(source: SharedFileSource, attachment: Attachment): Promise<{ stored: true; text?: string } | { stored: false; reason: string }>;
  /** Documents shared in the conversation within `withinMs`, newest first. */
  recentDocuments(conversationId: string, withinMs: number): Promise<UserDocument[]>;
  /** Deletes the conversation's files (the user asked to be forgotten). */
  forgetConversation(botId: string, conversationId: string): Promise<void>;
}

/**
 * What the reply gate decided: answer with the coach, or send `message` instead (no model call).
 * `quiet`: the contact was told this already a moment ago; a channel that pushes messages sends
 * nothing, a request that waits for its answer (web chat) still shows it.
 */
export type ReplyGateDecision = { allow: true } | { allow: false; message: OutboundMessage; quiet?: boolean };

/**
 * Plans and paywalls (src/billing), consulted before the engine runs: the creator's monthly reply
 * quota, and a bot's end-user premium. An allowed turn's reply is counted once, whatever retries.
 */
export interface ReplyGate {
  check(turn: Pick<ClaimedTurn, 'id' | 'botId' | 'conversationId'>): Promise<ReplyGateDecision>;
  /** The turn's reply was delivered. */
  recordReply(turnId: string): Promise<void>;
}

/** How fast a contact writes, from the stored messages (so every process sees the same). */
export interface ContactRateStore {
  /** Messages stored in the conversation within the last `windowMs`, counted up to `atMost`. */
  recentMessages(conversationId: string, windowMs: number, atMost: number): Promise<number>;
  /**
   * Claims the conversation's one "slow down" notice per `windowMs` for `turnId`: true for the first
   * turn refused in a window, and for that same turn again when it is retried.
   */
  claimSlowDownNotice(conversationId: string, turnId: string, windowMs: number): Promise<boolean>;
}

/** Model calls a bot may make per minute, counted across every process (Redis or PostgreSQL). */
export interface ModelCallBudget {
  /** Takes one call from the bot's current minute; false (and nothing taken) when `perMinute` are spent. */
  take(botId: string, perMinute: number): Promise<boolean>;
  /** Gives back a call taken this minute that was not made after all. */
  giveBack(botId: string): Promise<void>;
}
