import type pg from 'pg';
import type { OutboundLedger, OutboundRecord } from '../conversation/turn.ports.js';

/** The outbound ledger (`public.outbound_messages`): one row per reply, keyed by the turn it answers. */
export class OutboundRepository implements OutboundLedger {
  constructor(private readonly pool: pg.Pool) {}

  async open(turn: { turnId: string; botId: string; conversationId: string }): Promise<OutboundRecord> {
    const { rows } = await this.pool.query<OutboundRecord>(
      `WITH inserted AS (
         INSERT INTO public.outbound_messages (bot_id, conversation_id, turn_id) VALUES ($1, $2, $3)
         ON CONFLICT (turn_id) DO NOTHING
         RETURNING id, status, text
       )
       SELECT id, status, text FROM inserted
       UNION ALL
       SELECT id, status, text FROM public.outbound_messages WHERE turn_id = $3
       LIMIT 1`,
      [turn.botId, turn.conversationId, turn.turnId],
    );
    return rows[0]!;
  }

  async markSending(id: string, text: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.outbound_messages SET status = 'sending', text = $2, attempts = attempts + 1, updated_at = now() WHERE id = $1`,
      [id, text],
    );
  }

  async markSent(id: string, messageIds: string[]): Promise<void> {
    await this.pool.query(
      `UPDATE public.outbound_messages SET status = 'sent', external_message_ids = $2, error = NULL, sent_at = now(), updated_at = now() WHERE id = $1`,
      [id, messageIds],
    );
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.pool.query(`UPDATE public.outbound_messages SET status = 'failed', error = $2, updated_at = now() WHERE id = $1`, [id, error]);
  }
}
