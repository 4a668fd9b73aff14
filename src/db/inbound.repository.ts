import type pg from 'pg';
import type { InboundMessage } from '../../channels/types.js';
import type { InboundStore, ReceivedInbound, StoredInbound } from '../conversation/turn.ports.js';
import { inTransaction } from './transaction.js';
import { isUuid } from './ids.js';

/** Reads a stored payload back into an InboundMessage (dates travel through JSON as strings). */
export function inboundFromPayload(payload: unknown): InboundMessage {
  const message = payload as InboundMessage & { sentAt: string | Date };
  return { ...message, sentAt: new Date(message.sentAt) };
}

/** Inbound messages with their contacts and conversations (`public.inbound_messages`). */
export class InboundRepository implements InboundStore {
  constructor(private readonly pool: pg.Pool) {}

  async receive(botId: string, message: InboundMessage): Promise<ReceivedInbound> {
    return inTransaction(this.pool, async (client) => {
      const { contact } = message;
      const contactRow = await client.query<{ id: string }>(
        `INSERT INTO public.contacts (bot_id, channel, external_id, display_name, username, language_code, last_inbound_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (bot_id, channel, external_id) DO UPDATE SET
           display_name = COALESCE(EXCLUDED.display_name, contacts.display_name),
           username = COALESCE(EXCLUDED.username, contacts.username),
           language_code = COALESCE(EXCLUDED.language_code, contacts.language_code),
           last_inbound_at = GREATEST(contacts.last_inbound_at, EXCLUDED.last_inbound_at),
           updated_at = now()
         RETURNING id`,
        [botId, message.channel, contact.externalId, contact.displayName ?? null, contact.username ?? null, contact.languageCode ?? null, message.sentAt],
      );
      const contactId = contactRow.rows[0]!.id;
      const conversationRow = await client.query<{ id: string }>(
        `INSERT INTO public.conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (bot_id, channel, external_chat_id) DO UPDATE SET updated_at = now()
         RETURNING id`,
        [botId, contactId, message.channel, message.conversationId],
      );
      const conversationId = conversationRow.rows[0]!.id;
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO public.inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (bot_id, channel, external_id) DO NOTHING
         RETURNING id`,
        [botId, message.channel, message.externalId, conversationId, contactId, message.kind, message.text ?? null, JSON.stringify(message)],
      );
      let inboundId = inserted.rows[0]?.id;
      const created = inboundId !== undefined;
      if (!inboundId) {
        const existing = await client.query<{ id: string }>(
          `SELECT id FROM public.inbound_messages WHERE bot_id = $1 AND channel = $2 AND external_id = $3`,
          [botId, message.channel, message.externalId],
        );
        inboundId = existing.rows[0]!.id;
      }
      return { inboundId, conversationId, created };
    });
  }

  async find(inboundId: string): Promise<StoredInbound | null> {
    if (!isUuid(inboundId)) return null;
    const { rows } = await this.pool.query<{ id: string; bot_id: string; conversation_id: string; payload: unknown }>(
      `SELECT id, bot_id, conversation_id, payload FROM public.inbound_messages WHERE id = $1`,
      [inboundId],
    );
    const row = rows[0];
    return row ? { id: row.id, botId: row.bot_id, conversationId: row.conversation_id, message: inboundFromPayload(row.payload) } : null;
  }

  async unfinished(olderThanMs: number, limit: number): Promise<Array<{ inboundId: string; botId: string }>> {
    const { rows } = await this.pool.query<{ id: string; bot_id: string }>(
      `SELECT id, bot_id FROM (
         (SELECT id, bot_id, received_at FROM public.inbound_messages
           WHERE turn_id IS NULL AND received_at < clock_timestamp() - $1 * interval '1 millisecond'
           ORDER BY received_at LIMIT $2)
         UNION ALL
         (SELECT DISTINCT ON (t.id) i.id, i.bot_id, i.received_at
            FROM public.turns t JOIN public.inbound_messages i ON i.turn_id = t.id
           WHERE t.status = 'processing' AND t.updated_at < clock_timestamp() - $1 * interval '1 millisecond'
           ORDER BY t.id, i.seq LIMIT $2)
       ) pending
       ORDER BY received_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((r) => ({ inboundId: r.id, botId: r.bot_id }));
  }
}
