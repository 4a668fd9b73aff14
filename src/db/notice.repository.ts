import type pg from 'pg';
import type { ChannelName } from '../conversation/channel.ports.js';
import type { NoticeStore, NoticeTarget } from '../conversation/notice.service.js';
import type { OutboundRecord } from '../conversation/turn.ports.js';
import { isUuid } from '../postgres/ids.js';
import { openLedgerRow } from './outbound.repository.js';

/**
 * Messages that answer no turn (e.g. "you're unlocked") in the outbound ledger, keyed by their own
 * `dedupe_key`, and the conversation they go to.
 */
export class NoticeRepository implements NoticeStore {
  constructor(private readonly pool: pg.Pool) {}

  async target(botId: string, contactId: string): Promise<NoticeTarget | null> {
    if (!isUuid(botId) || !isUuid(contactId)) return null;
    // The conversation the contact used last (normally their private chat with the bot).
    const { rows } = await this.pool.query<NoticeTarget>(
      `SELECT id AS "conversationId", channel, external_chat_id AS "externalChatId"
         FROM public.conversations WHERE bot_id = $1 AND contact_id = $2
        ORDER BY updated_at DESC, created_at DESC LIMIT 1`,
      [botId, contactId],
    );
    const row = rows[0];
    return row ? { ...row, channel: row.channel as ChannelName } : null;
  }

  open(notice: { botId: string; conversationId: string; dedupeKey: string }): Promise<OutboundRecord> {
    return openLedgerRow(this.pool, 'dedupe_key', { botId: notice.botId, conversationId: notice.conversationId, key: notice.dedupeKey });
  }
}
