import type pg from 'pg';
import type { OutboxReader, StoredOutboxEntry } from '../email/delivery.ports.js';
import type { EmailCategory, OutboxEntry, OutboxStore } from '../email/ports.js';
import { isUuid } from '../postgres/ids.js';

interface OutboxRow {
  id: string;
  idempotencyKey: string;
  category: EmailCategory;
  toEmail: string;
  toName: string | null;
  fromEmail: string;
  fromName: string | null;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl: string | null;
  createdAt: Date;
}

/** The development outbox in `public.email_outbox`: mail that would have been sent, once per key. */
export class EmailOutboxRepository implements OutboxStore, OutboxReader {
  constructor(private readonly pool: pg.Pool) {}

  async append(entry: OutboxEntry): Promise<{ inserted: boolean }> {
    // The owning creator comes from the send queue's row with the same key.
    const { rowCount } = await this.pool.query(
      `INSERT INTO public.email_outbox (dedupe_key, creator_id, category, to_email, to_name, from_email, from_name, subject, text_body, html_body, unsubscribe_url)
       SELECT $1, (SELECT m.creator_id FROM public.email_messages m WHERE m.dedupe_key = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        entry.idempotencyKey,
        entry.category,
        entry.to.email,
        entry.to.name ?? null,
        entry.from.email,
        entry.from.name ?? null,
        entry.subject,
        entry.text,
        entry.html,
        entry.unsubscribeUrl ?? null,
      ],
    );
    return { inserted: rowCount === 1 };
  }

  /** The creator's own entries, newest first. */
  async listForCreator(creatorId: string, limit: number): Promise<StoredOutboxEntry[]> {
    if (!isUuid(creatorId)) return [];
    const { rows } = await this.pool.query<OutboxRow>(
      `SELECT id, dedupe_key AS "idempotencyKey", category, to_email AS "toEmail", to_name AS "toName", from_email AS "fromEmail",
              from_name AS "fromName", subject, text_body AS text, html_body AS html, unsubscribe_url AS "unsubscribeUrl", created_at AS "createdAt"
         FROM public.email_outbox WHERE creator_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
      [creatorId, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      idempotencyKey: r.idempotencyKey,
      category: r.category,
      to: { email: r.toEmail, ...(r.toName ? { name: r.toName } : {}) },
      from: { email: r.fromEmail, ...(r.fromName ? { name: r.fromName } : {}) },
      subject: r.subject,
      text: r.text,
      html: r.html,
      ...(r.unsubscribeUrl ? { unsubscribeUrl: r.unsubscribeUrl } : {}),
      createdAt: r.createdAt,
    }));
  }
}
