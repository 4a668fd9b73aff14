import type pg from 'pg';
import type { OutboundLedger, OutboundRecord } from '../conversation/turn.ports.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';
import { LEDGER_EVENT_COLUMNS, publishLedgerChanges, type LedgerEventRow } from './ledger-events.js';
import { PreparedStatements } from './prepared-statement.js';
import { REPLY_LATENCY_SQL } from './reply-latency.js';

/**
 * The ledger row keyed by `column` (a reply's turn, or a notice's own dedupe key), created `pending`
 * on first use: concurrent or repeated opens all get the same row.
 */
export async function openLedgerRow(
  pool: pg.Pool,
  column: 'turn_id' | 'dedupe_key',
  row: { botId: string; conversationId: string; key: string },
  statements = new PreparedStatements(false),
): Promise<OutboundRecord> {
  const { rows } = await pool.query<OutboundRecord>(
    statements.query(
      `ledger_open_by_${column}`,
      `WITH inserted AS (
       INSERT INTO public.outbound_messages (bot_id, conversation_id, ${column}) VALUES ($1, $2, $3)
       ON CONFLICT (${column}) DO NOTHING
       RETURNING id, status, text, created_at
     ),
     -- The new message is the conversation's latest: it moves up the inbox.
     moved AS (
       UPDATE public.conversations SET last_message_at = GREATEST(last_message_at, (SELECT created_at FROM inserted))
        WHERE id = $2 AND bot_id = $1 AND EXISTS (SELECT 1 FROM inserted)
     )
     SELECT id, status, text FROM inserted
     UNION ALL
     SELECT id, status, text FROM public.outbound_messages WHERE ${column} = $3
     LIMIT 1`,
      [row.botId, row.conversationId, row.key],
    ),
  );
  return rows[0]!;
}

/** The outbound ledger (`public.outbound_messages`): one row per reply, keyed by the turn it answers. */
export class OutboundRepository implements OutboundLedger {
  private readonly statements: PreparedStatements;
  private readonly events: BotEventPublisher | undefined;

  /**
   * `prepared`: prepare the per-turn statement once per connection (PostgreSQL; not the embedded
   * database); `events`: told of every state change (the creators' live events).
   */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean; events?: BotEventPublisher } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
    this.events = options.events;
  }

  async open(turn: { turnId: string; botId: string; conversationId: string }): Promise<OutboundRecord> {
    return openLedgerRow(this.pool, 'turn_id', { botId: turn.botId, conversationId: turn.conversationId, key: turn.turnId }, this.statements);
  }

  async markSending(id: string, text: string): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'sending', text = $2, attempts = attempts + 1, updated_at = now() WHERE id = $1
       RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id, text],
    );
    publishLedgerChanges(this.events, rows);
  }

  async markSent(id: string, messageIds: string[]): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'sent', external_message_ids = $2, error = NULL, sent_at = now(), updated_at = now(),
              reply_latency_ms = ${REPLY_LATENCY_SQL}
        WHERE id = $1
       RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id, messageIds],
    );
    publishLedgerChanges(this.events, rows);
  }

  async markFailed(id: string, error: string): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id, error],
    );
    publishLedgerChanges(this.events, rows);
  }
}
