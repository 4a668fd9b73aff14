import type { BotEventPublisher, DeliveryEventStatus } from '../events/bot-event.types.js';

/** The ledger columns a changed row returns for its events (`RETURNING ${LEDGER_EVENT_COLUMNS}`). */
export const LEDGER_EVENT_COLUMNS = 'id, bot_id, conversation_id, status, error, text';

/** A ledger row as it is after a change. */
export interface LedgerEventRow {
  id: string;
  bot_id: string;
  conversation_id: string;
  status: DeliveryEventStatus;
  error: string | null;
  text: string | null;
}

/**
 * Tells the bots' dashboards about changed ledger rows: a `delivery` event each, preceded by a
 * `reply` when the row just got its final text (it turned `sending`); `sources` counts the reply's sources.
 */
export function publishLedgerChanges(events: BotEventPublisher | undefined, rows: LedgerEventRow[], sources = 0): void {
  if (!events) return;
  const at = new Date().toISOString();
  for (const row of rows) {
    if (row.status === 'sending' && row.text !== null) {
      events.publish(row.bot_id, { type: 'reply', deliveryId: row.id, conversationId: row.conversation_id, text: row.text, sources, at });
    }
    events.publish(row.bot_id, {
      type: 'delivery',
      id: row.id,
      conversationId: row.conversation_id,
      status: row.status,
      ...(row.error ? { error: row.error } : {}),
      at,
    });
  }
}
