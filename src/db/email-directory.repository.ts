import type pg from 'pg';
import type { EmailRecipient, RecipientDirectory } from '../email/delivery.ports.js';
import type { FailedDocumentDirectory } from '../email/email-notifications.js';
import { isUuid } from '../postgres/ids.js';

/** Who emails go to and what they are about: creators, and the bot and document behind a failure. */
export class EmailDirectoryRepository implements RecipientDirectory, FailedDocumentDirectory {
  constructor(private readonly pool: pg.Pool) {}

  async creator(creatorId: string): Promise<EmailRecipient | null> {
    if (!isUuid(creatorId)) return null;
    const { rows } = await this.pool.query<EmailRecipient>(`SELECT id, email, name FROM public.creators WHERE id = $1`, [creatorId]);
    return rows[0] ?? null;
  }

  async describe(botId: string, documentId: string): Promise<{ creator: EmailRecipient; botName: string; documentTitle: string } | null> {
    if (!isUuid(botId) || !isUuid(documentId)) return null;
    const { rows } = await this.pool.query<{ id: string; email: string; name: string; botName: string; documentTitle: string }>(
      `SELECT c.id, c.email, c.name, b.name AS "botName", d.title AS "documentTitle"
         FROM public.documents d
         JOIN public.bots b ON b.id = d.bot_id
         JOIN public.creators c ON c.id = b.creator_id
        WHERE d.id = $1 AND d.bot_id = $2`,
      [documentId, botId],
    );
    const row = rows[0];
    return row ? { creator: { id: row.id, email: row.email, name: row.name }, botName: row.botName, documentTitle: row.documentTitle } : null;
  }
}
