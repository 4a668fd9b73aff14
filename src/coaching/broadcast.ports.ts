/**
 * Ports of broadcasts: one message sent to a segment of a bot's contacts. The recipients are chosen
 * when the broadcast starts sending (at once, or at its `sendAt`); each is a proactive send keyed
 * `broadcast:<id>:<contactId>`. Adapters live in src/db and workers/.
 */
import type { ChannelName } from '../conversation/channel.ports.js';
import type { ProactiveStatus } from './proactive.ports.js';

/** Who receives a broadcast: every contact, a program's active enrollments, a habit's subscribers, the contacts with a tag, or one channel's contacts. */
export type BroadcastSegment =
  | { type: 'all' }
  | { type: 'program'; programId: string }
  | { type: 'habit'; habitId: string }
  | { type: 'tag'; tag: string }
  | { type: 'channel'; channel: ChannelName };

export type BroadcastStatus = 'scheduled' | 'sending' | 'done' | 'cancelled';

export interface BroadcastTotals {
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  cancelled: number;
  /** Recipients not settled yet. */
  pending: number;
}

export interface Broadcast {
  id: string;
  botId: string;
  text: string;
  segment: BroadcastSegment;
  sendAt: Date;
  /** When the recipients were chosen; null while it waits for its time. */
  startedAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
}

export interface BroadcastRecipient {
  sendId: string;
  contactId: string;
  /** The contact's name on the channel, or a stand-in that tells them apart. */
  displayName: string;
  channel: ChannelName;
  status: ProactiveStatus;
  reason: string | null;
  settledAt: Date | null;
}

export interface BroadcastStore {
  /** Stores the broadcast, its recipients not chosen yet. */
  create(input: { botId: string; text: string; segment: BroadcastSegment; sendAt: Date }): Promise<Broadcast>;
  /**
   * Chooses the recipients: marks the broadcast started and, in the same transaction, stores one
   * scheduled proactive send per contact the segment holds now (one INSERT … SELECT). Resolves to
   * how many, or null when it had started already, was cancelled, or does not exist.
   */
  start(broadcastId: string): Promise<number | null>;
  /** Broadcasts due at `now` (at least `graceMs` ago) whose recipients were never chosen (their start job was lost). */
  unstarted(now: Date, graceMs: number, limit: number): Promise<Broadcast[]>;
  find(botId: string, broadcastId: string): Promise<Broadcast | null>;
  /** The bot's broadcasts, newest first; `before` is the id of the last one of the previous page. */
  list(botId: string, page: { limit: number; before?: string }): Promise<Broadcast[]>;
  totals(broadcastIds: string[]): Promise<Map<string, BroadcastTotals>>;
  /** Recipients still scheduled, after `afterSendId` in id order (batches of jobs to queue). */
  scheduledSends(broadcastId: string, afterSendId: string | null, limit: number): Promise<Array<{ id: string; dueAt: Date }>>;
  recipients(broadcastId: string, filter: { status?: ProactiveStatus; limit: number; before?: string }): Promise<BroadcastRecipient[]>;
  /**
   * Marks the broadcast cancelled and cancels its recipients whose message has not been claimed for
   * delivery; resolves to how many were cancelled (null when it does not exist).
   */
  cancel(botId: string, broadcastId: string, reason: string): Promise<number | null>;
  /** Whether the program belongs to the bot. */
  programExists(botId: string, programId: string): Promise<boolean>;
  habitExists(botId: string, habitId: string): Promise<boolean>;
}

/** Wakes recipients' proactive jobs in batches (job id from the send id: queueing twice is harmless). */
export interface BroadcastQueue {
  wakeMany(sends: Array<{ id: string; botId: string; delayMs: number }>): Promise<void>;
  /** Makes sure a job starts the broadcast `delayMs` from now (job id from the broadcast id). */
  scheduleStart(broadcastId: string, botId: string, delayMs: number): Promise<void>;
}
