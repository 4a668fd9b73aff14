import type pg from 'pg';
import type { ChannelName } from '../conversation/channel.ports.js';
import type { ContactStore } from '../conversation/turn.ports.js';
import { inTransaction } from '../postgres/transaction.js';

// The contact a conversation belongs to (in a private chat: the user).
const CONTACT_OF = `(SELECT contact_id FROM public.conversations WHERE id = $1)`;

/** End users (`public.contacts`), addressed through their conversation. */
export class ContactRepository implements ContactStore {
  constructor(private readonly pool: pg.Pool) {}

  /** When the user last wrote to the bot on this channel (their messages' own timestamps). */
  async lastInboundAt(botId: string, channel: ChannelName, externalId: string): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ last_inbound_at: Date | null }>(
      `SELECT last_inbound_at FROM public.contacts WHERE bot_id = $1 AND channel = $2 AND external_id = $3`,
      [botId, channel, externalId],
    );
    return rows[0]?.last_inbound_at ?? undefined;
  }

  async isBlocked(conversationId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ blocked: boolean }>(
      `SELECT c.blocked_at IS NOT NULL AS blocked FROM public.contacts c WHERE c.id = ${CONTACT_OF}`,
      [conversationId],
    );
    return rows[0]?.blocked ?? false;
  }

  async setBlocked(conversationId: string, blocked: boolean): Promise<void> {
    await this.pool.query(
      `UPDATE public.contacts SET blocked_at = CASE WHEN $2 THEN COALESCE(blocked_at, now()) END, updated_at = now() WHERE id = ${CONTACT_OF}`,
      [conversationId, blocked],
    );
  }

  async setDeepLinkPayload(conversationId: string, payload: string): Promise<void> {
    await this.pool.query(`UPDATE public.contacts SET deep_link_payload = $2, updated_at = now() WHERE id = ${CONTACT_OF}`, [conversationId, payload]);
  }

  async forgetContact(conversationId: string, keepTurnId: string): Promise<void> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ contact_id: string }>(`SELECT contact_id FROM public.conversations WHERE id = $1 FOR UPDATE`, [conversationId]);
      const contactId = rows[0]?.contact_id;
      if (contactId) {
        // First, so a proactive send in flight (which holds this row) finishes before anything is
        // deleted, and every later one sees the contact forgotten.
        await client.query(
          `INSERT INTO public.contact_coaching (contact_id, bot_id, forgotten_at) SELECT id, bot_id, now() FROM public.contacts WHERE id = $1
           ON CONFLICT (contact_id) DO UPDATE SET forgotten_at = now(), opted_out_at = NULL, time_zone = NULL, time_zone_source = NULL, updated_at = now()`,
          [contactId],
        );
        await client.query(
          `UPDATE public.proactive_sends SET status = 'cancelled', reason = 'The contact asked to be forgotten', message = NULL, settled_at = now(), updated_at = now()
            WHERE contact_id = $1 AND status = 'scheduled'`,
          [contactId],
        );
        await client.query(`DELETE FROM public.reminders WHERE contact_id = $1`, [contactId]);
        // Tags say where the contact came from and what they are interested in.
        await client.query(`DELETE FROM public.contact_tags WHERE contact_id = $1`, [contactId]);
        // Enrollments and the answers given in them.
        await client.query(`DELETE FROM public.program_enrollments WHERE contact_id = $1`, [contactId]);
        // Every conversation of the contact with this bot, e.g. a private chat and groups they started.
        const scope = `SELECT id FROM public.conversations WHERE contact_id = $1`;
        await client.query(
          `DELETE FROM public.outbound_messages WHERE conversation_id IN (${scope}) AND turn_id IS DISTINCT FROM $2`,
          [contactId, keepTurnId],
        );
        await client.query(
          `DELETE FROM public.inbound_messages WHERE (contact_id = $1 OR conversation_id IN (${scope})) AND turn_id IS DISTINCT FROM $2`,
          [contactId, keepTurnId],
        );
        await client.query(`DELETE FROM public.turns WHERE conversation_id IN (${scope}) AND id <> $2`, [contactId, keepTurnId]);
        await client.query(`DELETE FROM public.media_files WHERE conversation_id IN (${scope})`, [contactId]);
        // The button press being answered stays, stripped of the person's profile.
        await client.query(
          `UPDATE public.inbound_messages SET text = NULL,
             payload = payload || jsonb_build_object('contact', jsonb_build_object('externalId', payload->'contact'->>'externalId'))
           WHERE turn_id = $1`,
          [keepTurnId],
        );
        await client.query(
          `UPDATE public.conversations SET summary = NULL, summary_through = NULL, memory_reset_at = clock_timestamp(), search_words = ''::tsvector,
                  updated_at = now()
            WHERE contact_id = $1`,
          [contactId],
        );
        await client.query(
          `UPDATE public.contacts SET display_name = NULL, username = NULL, language_code = NULL, deep_link_payload = NULL, updated_at = now()
            WHERE id = $1`,
          [contactId],
        );
      }
    });
  }
}
