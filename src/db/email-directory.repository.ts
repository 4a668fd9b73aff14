import type pg from 'pg';
import type { EmailRecipient, RecipientDirectory } from '../email/delivery.ports.js';
import type { FailedDocumentDirectory, HumanRequestDirectory } from '../email/email-notifications.js';
import { isUuid } from '../postgres/ids.js';

/** Who emails go to and what they are about: creators, and the bot and document behind a failure. */
export class EmailDirectoryRepository implements RecipientDirectory, FailedDocumentDirectory, HumanRequestDirectory {
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

  async describeRequest(
    botId: string,
    conversationId: string,
    turnId: string,
  ): Promise<{ creator: EmailRecipient; botName: string; contactName: string; channel: string; message: string | null } | null> {
    if (!isUuid(botId) || !isUuid(conversationId) || !isUuid(turnId)) return null;
    const { rows } = await this.pool.query<{
      id: string;
      email: string;
      name: string;
      botName: string;
      channel: string;
      displayName: string | null;
      username: string | null;
      externalId: string;
      message: string | null;
    }>(
      `SELECT cr.id, cr.email, cr.name, b.name AS "botName", cv.channel, k.display_name AS "displayName", k.username, k.external_id AS "externalId",
              (SELECT string_agg(i.text, ' ' ORDER BY i.seq) FROM public.inbound_messages i WHERE i.turn_id = $3 AND i.kind = 'text') AS message
         FROM public.conversations cv
         JOIN public.bots b ON b.id = cv.bot_id
         JOIN public.creators cr ON cr.id = b.creator_id
         JOIN public.contacts k ON k.id = cv.contact_id
        WHERE cv.id = $2 AND cv.bot_id = $1`,
      [botId, conversationId, turnId],
    );
    const row = rows[0];
    if (!row) return null;
    // The names the inbox gives contacts (src/db/inbox.repository.ts).
    const contactName =
      row.displayName?.trim() ||
      (row.username ? `@${row.username}` : row.channel === 'whatsapp' ? `+${row.externalId}` : row.channel === 'web' ? 'A web chat visitor' : `Telegram user ${row.externalId}`);
    return {
      creator: { id: row.id, email: row.email, name: row.name },
      botName: row.botName,
      contactName,
      channel: row.channel,
      message: row.message,
    };
  }
}
