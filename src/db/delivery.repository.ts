import type pg from 'pg';
import type { DeliveryReport } from '../conversation/channel.ports.js';
import type { DeliveryListFilter, DeliveryRecord, DeliveryStore } from '../conversation/delivery.service.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';

// Reports can arrive out of order; a state only ever moves forward (sent → delivered → read), and failed is final.
const rank = (column: string) => `CASE ${column} WHEN 'failed' THEN 4 WHEN 'read' THEN 3 WHEN 'delivered' THEN 2 ELSE 1 END`;

interface DeliveryRow {
  id: string;
  conversation_id: string;
  channel: string;
  contact_external_id: string;
  contact_name: string | null;
  ledger_status: string;
  text: string | null;
  error: string | null;
  external_message_ids: string[];
  created_at: Date;
  sent_at: Date | null;
  delivery_status: string | null;
  error_code: number | null;
  error_title: string | null;
  error_details: string | null;
  status_at: Date | null;
  status: string;
}

/** Delivery reports (`public.message_deliveries`) and the outbound ledger as creators see it. */
export class DeliveryRepository implements DeliveryStore {
  /** `events`: told when a channel's report moves a ledger row on (the creators' live events). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { events?: BotEventPublisher } = {},
  ) {}

  async record(botId: string, report: DeliveryReport): Promise<void> {
    const { rows } = await this.pool.query<{ id: string; conversation_id: string }>(
      `WITH recorded AS (
         INSERT INTO public.message_deliveries (bot_id, external_message_id, status, error_code, error_title, error_details, status_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (bot_id, external_message_id) DO UPDATE SET
           status = EXCLUDED.status, error_code = EXCLUDED.error_code, error_title = EXCLUDED.error_title,
           error_details = EXCLUDED.error_details, status_at = EXCLUDED.status_at, updated_at = now()
         WHERE ${rank('EXCLUDED.status')} > ${rank('message_deliveries.status')}
         RETURNING external_message_id
       )
       -- The ledger row the report is about, when it moved on (an older or repeated report changes nothing).
       SELECT o.id, o.conversation_id FROM public.outbound_messages o
        WHERE o.external_message_ids @> ARRAY[$2::text] AND o.bot_id = $1 AND EXISTS (SELECT 1 FROM recorded)`,
      [botId, report.externalMessageId, report.status, report.error?.code ?? null, report.error?.title ?? null, report.error?.details ?? null, report.at],
    );
    const events = this.options.events;
    if (!events || report.status === 'sent') return;
    for (const row of rows) {
      events.publish(botId, {
        type: 'delivery',
        id: row.id,
        conversationId: row.conversation_id,
        status: report.status,
        ...(report.error ? { error: report.error.title } : {}),
        at: new Date().toISOString(),
      });
    }
  }

  async list(botId: string, filter: DeliveryListFilter): Promise<DeliveryRecord[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT * FROM (
         SELECT o.id, o.conversation_id, c.channel, ct.external_id AS contact_external_id, ct.display_name AS contact_name,
                o.status AS ledger_status, o.text, o.error, o.external_message_ids, o.created_at, o.sent_at,
                d.status AS delivery_status, d.error_code, d.error_title, d.error_details, d.status_at,
                CASE WHEN o.status = 'failed' OR d.status = 'failed' THEN 'failed'
                     WHEN d.status IN ('delivered', 'read') THEN d.status
                     ELSE o.status END AS status
           FROM public.outbound_messages o
           JOIN public.conversations c ON c.id = o.conversation_id
           JOIN public.contacts ct ON ct.id = c.contact_id
           -- A reply split into several messages is as far along as its least advanced part, unless one failed.
           LEFT JOIN LATERAL (
             SELECT md.status, md.error_code, md.error_title, md.error_details, md.status_at
               FROM public.message_deliveries md
              WHERE md.bot_id = o.bot_id AND md.external_message_id = ANY (o.external_message_ids)
              ORDER BY (md.status = 'failed') DESC, ${rank('md.status')} ASC
              LIMIT 1
           ) d ON true
          WHERE o.bot_id = $1 AND ($2::timestamptz IS NULL OR o.created_at < $2)
       ) deliveries
       WHERE ($3::text IS NULL OR status = $3)
       ORDER BY created_at DESC
       LIMIT $4`,
      [botId, filter.before ?? null, filter.status ?? null, filter.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      conversationId: r.conversation_id,
      channel: r.channel,
      contact: { externalId: r.contact_external_id, ...(r.contact_name ? { displayName: r.contact_name } : {}) },
      status: r.status as DeliveryRecord['status'],
      text: r.text,
      externalMessageIds: r.external_message_ids,
      createdAt: r.created_at,
      sentAt: r.sent_at,
      error:
        r.delivery_status === 'failed'
          ? { code: r.error_code, title: r.error_title ?? 'Delivery failed', ...(r.error_details ? { details: r.error_details } : {}) }
          : r.error
            ? { code: null, title: r.error }
            : null,
      reportedAt: r.status_at,
    }));
  }
}
