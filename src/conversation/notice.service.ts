import { ChannelAuthError, RecipientBlockedError, type ChannelName, type OutboundMessage } from './channel.ports.js';
import type { ContactStore, OutboundLedger, OutboundRecord, SenderDirectory } from './turn.ports.js';

/** Where a notice to a contact goes: the conversation they used last. */
export interface NoticeTarget {
  conversationId: string;
  channel: ChannelName;
  externalChatId: string;
}

/** Ledger rows of messages that answer no turn, keyed by their own dedupe key. */
export interface NoticeStore {
  target(botId: string, contactId: string): Promise<NoticeTarget | null>;
  /** The notice's ledger row, created `pending` on first use. */
  open(notice: { botId: string; conversationId: string; dedupeKey: string }): Promise<OutboundRecord>;
}

export interface NoticeServiceDeps {
  store: NoticeStore;
  ledger: Pick<OutboundLedger, 'markSending' | 'markSent' | 'markFailed'>;
  contacts: Pick<ContactStore, 'isBlocked' | 'setBlocked'>;
  senders: SenderDirectory;
}

/** What became of a notice. */
export type NoticeOutcome = 'sent' | 'already' | 'undeliverable';

/**
 * Sends a contact a message of our own accord (not a reply), e.g. that a payment unlocked the bot.
 * The ledger row is keyed by the notice's dedupe key, so running it again after a crash or retry
 * sends nothing twice once the channel has accepted it.
 */
export class NoticeService {
  constructor(private readonly deps: NoticeServiceDeps) {}

  async send(botId: string, contactId: string, message: OutboundMessage, dedupeKey: string): Promise<NoticeOutcome> {
    const { store, ledger, contacts } = this.deps;
    const target = await store.target(botId, contactId);
    // A contact who never wrote has no conversation to write into.
    if (!target) return 'undeliverable';
    const record = await store.open({ botId, conversationId: target.conversationId, dedupeKey });
    if (record.status === 'sent' || record.status === 'failed') return 'already';
    if (await contacts.isBlocked(target.conversationId)) {
      await ledger.markFailed(record.id, 'The recipient has blocked the bot');
      return 'undeliverable';
    }
    // Web chat shows replies to a page waiting for them: no one would see a message of our own accord.
    const sender = target.channel === 'web' ? null : await this.deps.senders.sender(botId, target.channel);
    if (!sender) {
      // A disconnected channel cannot deliver either.
      await ledger.markFailed(record.id, `The ${target.channel} channel cannot deliver messages of our own accord`);
      return 'undeliverable';
    }
    try {
      await ledger.markSending(record.id, message.text);
      const result = await sender.sendText(target.externalChatId, message);
      await ledger.markSent(record.id, result.messageIds);
      return 'sent';
    } catch (err) {
      if (err instanceof RecipientBlockedError) {
        await contacts.setBlocked(target.conversationId, true);
        await ledger.markFailed(record.id, err.message);
        return 'undeliverable';
      }
      if (err instanceof ChannelAuthError) {
        await ledger.markFailed(record.id, err.message);
        return 'undeliverable';
      }
      throw err;
    }
  }
}
