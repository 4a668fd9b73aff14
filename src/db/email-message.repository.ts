import type pg from 'pg';
import type { ClaimedEmailMessage, EmailMessageStore, EmailSettlement, EmailStatus, NewEmailMessage } from '../email/delivery.ports.js';
import type { EmailCategory } from '../email/ports.js';
import { isUuid } from '../postgres/ids.js';

interface MessageRow {
  id: string;
  dedupeKey: string;
  creatorId: string | null;
  category: EmailCategory;
  toEmail: string;
  toName: string | null;
  subject: string;
  text: string | null;
  html: string | null;
  unsubscribeUrl: string | null;
  attempts: number;
}

/** The email send queue in `public.email_messages`, one row per dedupe key. */
export class EmailMessageRepository implements EmailMessageStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(message: NewEmailMessage): Promise<{ id: string; status: EmailStatus; inserted: boolean }> {
    // The no-op update makes a conflicting insert return the existing row, in one round trip.
    const { rows } = await this.pool.query<{ id: string; status: EmailStatus; inserted: boolean }>(
      `INSERT INTO public.email_messages (dedupe_key, creator_id, category, to_email, to_name, subject, text_body, html_body, unsubscribe_url)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (dedupe_key) DO UPDATE SET dedupe_key = EXCLUDED.dedupe_key
       RETURNING id, status, (xmax = 0) AS inserted`,
      [
        message.dedupeKey,
        message.creatorId,
        message.category,
        message.to.email,
        message.to.name ?? null,
        message.subject,
        message.text,
        message.html,
        message.unsubscribeUrl ?? null,
      ],
    );
    return rows[0]!;
  }

  async claim(id: string): Promise<ClaimedEmailMessage | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<MessageRow>(
      `UPDATE public.email_messages SET status = 'sending', attempts = attempts + 1, updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'sending')
        RETURNING id, dedupe_key AS "dedupeKey", creator_id AS "creatorId", category, to_email AS "toEmail", to_name AS "toName",
                  subject, text_body AS text, html_body AS html, unsubscribe_url AS "unsubscribeUrl", attempts`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      dedupeKey: row.dedupeKey,
      creatorId: row.creatorId,
      category: row.category,
      to: { email: row.toEmail, ...(row.toName ? { name: row.toName } : {}) },
      subject: row.subject,
      text: row.text ?? '',
      html: row.html ?? '',
      ...(row.unsubscribeUrl ? { unsubscribeUrl: row.unsubscribeUrl } : {}),
      attempts: row.attempts,
    };
  }

  async settle(id: string, outcome: EmailSettlement): Promise<void> {
    const error = outcome.status === 'failed' ? outcome.error : outcome.status === 'suppressed' ? `suppressed: ${outcome.reason}` : null;
    const providerMessageId = outcome.status === 'sent' ? outcome.providerMessageId : null;
    // Bodies go once settled: reset and verification links must not outlive their email in the database.
    await this.pool.query(
      `UPDATE public.email_messages
          SET status = $2, error = $3, provider_message_id = $4, text_body = NULL, html_body = NULL, settled_at = now(), updated_at = now()
        WHERE id = $1`,
      [id, outcome.status, error, providerMessageId],
    );
  }

  async release(id: string, error: string): Promise<void> {
    await this.pool.query(`UPDATE public.email_messages SET status = 'queued', error = $2, updated_at = now() WHERE id = $1 AND status = 'sending'`, [id, error]);
  }

  async unsettled(before: Date, limit: number): Promise<Array<{ id: string; dedupeKey: string }>> {
    const { rows } = await this.pool.query<{ id: string; dedupeKey: string }>(
      `SELECT id, dedupe_key AS "dedupeKey" FROM public.email_messages
        WHERE status IN ('queued', 'sending') AND created_at < $1 ORDER BY created_at LIMIT $2`,
      [before, limit],
    );
    return rows;
  }
}
