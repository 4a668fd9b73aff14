/**
 * Ports of proactive messages: messages the bot sends of its own accord (program steps, reminders,
 * later habit check-ins and broadcasts). Adapters live in src/db and workers/; nothing here sees pg
 * or BullMQ.
 */
import type { ChannelName, OutboundMessage } from '../conversation/channel.ports.js';
import type { OutboundRecord } from '../conversation/turn.ports.js';
import type { QuietHours } from './local-time.js';

/** What time it is; injected so tests can travel in time. */
export type Clock = () => Date;

/** `creator_message`: what the creator writes themselves into a conversation they took over. */
export type ProactiveKind = 'reminder' | 'program_step' | 'habit_ask' | 'broadcast' | 'creator_message';
export type ProactiveStatus = 'scheduled' | 'sent' | 'skipped' | 'failed' | 'cancelled';
/** Who stopped proactive messages: the user in the chat, or the channel reporting the user's choice. */
export type OptOutSource = 'user' | 'channel';

/** One proactive message due to a contact, keyed by its effect (`reminder:<id>`, `program:<enrollmentId>:<step>`). */
export interface ProactiveSend {
  id: string;
  botId: string;
  contactId: string;
  conversationId: string;
  channel: ChannelName;
  /** Where the message goes (Telegram: the chat id; WhatsApp: the number). */
  externalChatId: string;
  effectKey: string;
  kind: ProactiveKind;
  dueAt: Date;
  /** The message fixed when scheduled (reminders); null for kinds whose content is read at send time. */
  message: OutboundMessage | null;
  status: ProactiveStatus;
  reason: string | null;
  createdAt: Date;
  /** Since when it waits for a person to hand its conversation back (see `ProactiveContent.duringTakeover`). */
  heldAt?: Date | null;
}

export interface ScheduleInput {
  botId: string;
  contactId: string;
  conversationId: string;
  effectKey: string;
  kind: ProactiveKind;
  dueAt: Date;
  message?: OutboundMessage;
}

/** The contact's state as read while their coaching row is held (see `ProactiveStore.whileHeld`). */
export interface ContactGate {
  blocked: boolean;
  optedOut: boolean;
  /** Who opted out: the user (/stop, STOP) or the channel on their behalf (WhatsApp's marketing opt-out). */
  optedOutBy?: OptOutSource | null;
  forgottenAt: Date | null;
}

export interface ProactiveStore {
  /**
   * The send for `effectKey`, created `scheduled` on first use; a `cancelled` one is scheduled again
   * at the new time. Any other existing row is returned unchanged, so scheduling twice is harmless.
   */
  schedule(input: ScheduleInput): Promise<ProactiveSend>;
  find(sendId: string): Promise<ProactiveSend | null>;
  /** Moves a still scheduled send to a new due time (quiet hours, a pause). */
  moveDue(sendId: string, dueAt: Date): Promise<void>;
  /** Settles a scheduled send; false when it was settled already. */
  settle(sendId: string, status: Exclude<ProactiveStatus, 'scheduled'>, reason: string | null, outboundId?: string): Promise<boolean>;
  /** Cancels the scheduled sends whose effect key starts with `prefix` (e.g. one enrollment's steps). */
  cancelByPrefix(botId: string, prefix: string, reason: string): Promise<number>;
  /**
   * Scheduled sends due at `now` (at least `graceMs` ago), earliest first; those held while their
   * conversation is still taken over are left out (the release wakes them).
   */
  due(now: Date, graceMs: number, limit: number): Promise<Array<{ id: string; botId: string; dueAt: Date }>>;
  /**
   * Runs `work` while holding the contact's coaching row: an opt-out or /forget, which update it,
   * is stored only after `work` ends, so nothing is sent after it is stored.
   */
  whileHeld<T>(contactId: string, work: (gate: ContactGate) => Promise<T>): Promise<T>;
  /** The send's ledger row (dedupe key = effect key), created `pending` on first use. */
  openLedger(send: Pick<ProactiveSend, 'botId' | 'conversationId' | 'effectKey'>): Promise<OutboundRecord>;
  /**
   * Takes the ledger row for one delivery attempt: `pending` → `sending` with the text, or a
   * `sending` row left over `staleMs` ago by a crashed attempt; 'busy' when another attempt holds it.
   * With `unlessTakenOver`, the conversation is read in the same statement, ordered against a
   * takeover: when a person has it, a pending row is dropped and the answer is 'taken_over'.
   */
  claimLedger(id: string, text: string, staleMs: number, options?: { unlessTakenOver?: boolean }): Promise<'claimed' | 'busy' | 'taken_over'>;
  /** Whether a person has taken the conversation over (a plain read; `claimLedger` decides). */
  takenOver(conversationId: string): Promise<boolean>;
  /** Keeps a scheduled send waiting for the release, with `reason` for the creator to see. */
  hold(sendId: string, reason: string): Promise<void>;
  /** Whether a send held before `send` (due earlier) in its conversation is still to go: held sends go out in order. */
  heldBefore(send: Pick<ProactiveSend, 'id' | 'conversationId' | 'dueAt'>): Promise<boolean>;
  /** The conversation's held sends still scheduled, earliest due first. */
  heldSends(conversationId: string): Promise<Array<{ id: string; botId: string }>>;
  /** Gives a claimed row back (`pending`) after an attempt that failed before the channel took the message. */
  releaseLedger(id: string): Promise<void>;
  markSent(id: string, messageIds: string[]): Promise<void>;
  markFailed(id: string, error: string): Promise<void>;
  /** The contact a proactive message went to, by the channel's id of the message; null for any other message. */
  recipientOfSent(botId: string, externalMessageId: string): Promise<string | null>;
}

/** Proactive jobs in the work queue; Postgres keeps the schedule, the queue only wakes a worker. */
export interface ProactiveQueue {
  /** Makes sure a job delivers the send `delayMs` from now: added, or a waiting one moved. */
  schedule(sendId: string, botId: string, delayMs: number): Promise<void>;
  /** The same for the reconciler: adds the job unless a live one exists, or wakes a delayed one; whether it changed anything. */
  ensureDue(sendId: string, botId: string): Promise<boolean>;
}

/** The contact behind a conversation as coaching needs them. */
export interface CoachingContact {
  id: string;
  botId: string;
  channel: ChannelName;
  externalId: string;
  timeZone: string | null;
  timeZoneSource: 'phone' | 'user' | 'api' | null;
  optedOut: boolean;
}

export interface CoachingContacts {
  /** The contact a conversation belongs to (their coaching row created on first use), or null. */
  ofConversation(conversationId: string): Promise<CoachingContact | null>;
  /** A contact of `botId`, or null when the bot has no such contact. */
  findContact(botId: string, contactId: string): Promise<CoachingContact | null>;
  /** The conversation proactive messages to the contact go to: the one they used last. */
  latestConversation(botId: string, contactId: string): Promise<string | null>;
  setTimeZone(contactId: string, zone: string, source: 'phone' | 'user' | 'api'): Promise<void>;
  /** Stores an opt-out (waiting for a send in flight) or clears it; `by` defaults to the user. */
  setOptedOut(contactId: string, optedOut: boolean, by?: OptOutSource): Promise<void>;
}

/** Per-bot coaching settings. */
export interface CoachingSettings {
  quietHours(botId: string): Promise<QuietHours>;
}
