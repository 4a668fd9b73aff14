import type { DeliveryReport } from './channel.ports.js';
import type { BotService } from '../bots/bot.service.js';

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface DeliveryListFilter {
  status?: DeliveryStatus;
  /** Only messages created before this instant (paging). */
  before?: Date;
  limit: number;
}

/** One outgoing message with how far it got. */
export interface DeliveryRecord {
  id: string;
  conversationId: string;
  channel: string;
  contact: { externalId: string; displayName?: string };
  /** The ledger's state, advanced by the channel's reports (delivered, read) and failed if either failed. */
  status: DeliveryStatus;
  text: string | null;
  externalMessageIds: string[];
  createdAt: Date;
  sentAt: Date | null;
  /** Why it failed: the channel's code and title, or our own reason (code null). */
  error: { code: number | null; title: string; details?: string } | null;
  /** When the channel last reported on it. */
  reportedAt: Date | null;
}

export interface DeliveryStore {
  /** Keeps the furthest state reported for a sent message; older or repeated reports change nothing. */
  record(botId: string, report: DeliveryReport): Promise<void>;
  list(botId: string, filter: DeliveryListFilter): Promise<DeliveryRecord[]>;
}

/** Told when a channel reports that a proactive message failed because its recipient opted out there. */
export interface ChannelOptOuts {
  /** Stops proactive messages to the contact the message went to, if it was a proactive one. */
  stoppedByChannel(botId: string, externalMessageId: string): Promise<void>;
}

/** Delivery reports from channels, and what creators see of their bots' outgoing messages. */
export class DeliveryService {
  constructor(private readonly deps: { store: DeliveryStore; bots: Pick<BotService, 'get'>; optOuts?: ChannelOptOuts | undefined }) {}

  /** Records a channel's report on a message sent by `botId`; a failure that is the recipient's opt-out stops proactive messages to them. */
  async record(botId: string, report: DeliveryReport): Promise<void> {
    await this.deps.store.record(botId, report);
    if (report.status === 'failed' && report.recipientOptedOut) await this.deps.optOuts?.stoppedByChannel(botId, report.externalMessageId);
  }

  /** The creator's bot's outgoing messages, newest first; NOT_FOUND for another creator's bot. */
  async list(creatorId: string, botId: string, filter: DeliveryListFilter): Promise<DeliveryRecord[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.store.list(bot.id, filter);
  }
}
