/**
 * Ports of broadcasts: one message sent to a segment of a bot's contacts. Each recipient is a
 * proactive send keyed `broadcast:<id>:<contactId>`; adapters live in src/db.
 */
import type { ChannelName } from '../conversation/channel.ports.js';
import type { ProactiveStatus } from './proactive.ports.js';

/** Who receives a broadcast: every contact, a program's active enrollments, or one channel's contacts. */
export type BroadcastSegment = { type: 'all' } | { type: 'program'; programId: string } | { type: 'habit'; habitId: string } | { type: 'channel'; channel: ChannelName };

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
  cancelledAt: Date | null;
  createdAt: Date;
}

export interface BroadcastRecipient {
  sendId: string;
  contactId: string;
  channel: ChannelName;
  status: ProactiveStatus;
  reason: string | null;
  settledAt: Date | null;
}

export interface BroadcastStore {
  /**
   * Stores the broadcast and, in the same transaction, one scheduled proactive send per recipient
   * (one INSERT … SELECT); resolves to the broadcast and how many recipients it has.
   */
  create(input: { botId: string; text: string; segment: BroadcastSegment; sendAt: Date }): Promise<{ broadcast: Broadcast; recipients: number }>;
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
}
