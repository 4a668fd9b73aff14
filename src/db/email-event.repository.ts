import type pg from 'pg';
import type { EmailEventStore } from '../email/delivery.ports.js';
import type { EmailEvent } from '../email/ports.js';
import { normaliseEmail } from '../email/suppression.js';

/** Provider delivery feedback in `public.email_events`, once per provider event id. */
export class EmailEventRepository implements EmailEventStore {
  constructor(private readonly pool: pg.Pool) {}

  async record(event: EmailEvent): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO public.email_events (provider_event_id, type, provider_type, email, dedupe_key, provider_message_id, reason, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8))
       ON CONFLICT (provider_event_id) DO NOTHING`,
      [event.id, event.type, event.providerType, normaliseEmail(event.email), event.idempotencyKey, event.providerMessageId, event.reason, event.timestamp],
    );
    return rowCount === 1;
  }
}
