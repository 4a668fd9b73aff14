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

/** Delivery reports from channels, and what creators see of their bots' outgoing messages. */
export class DeliveryService {
  constructor(private readonly deps: { store: DeliveryStore; bots: Pick<BotService, 'get'> }) {}

  /** Records a channel's report on a message sent by `botId`. */
  record(botId: string, report: DeliveryReport): Promise<void> {
    return this.deps.store.record(botId, report);
  }

  /** The creator's bot's outgoing messages, newest first; NOT_FOUND for another creator's bot. */
  async list(creatorId: string, botId: string, filter: DeliveryListFilter): Promise<DeliveryRecord[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.store.list(bot.id, filter);
  }
}
