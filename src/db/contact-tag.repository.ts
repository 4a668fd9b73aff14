import type pg from 'pg';
import type { ContactSummary, ContactTagStore, TagChangeRefusal } from '../coaching/contact-tag.ports.js';
import type { ChannelName } from '../conversation/channel.ports.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';
import { contactName } from './inbox.repository.js';

interface ContactRow {
  contact_id: string;
  channel: ChannelName;
  display_name: string | null;
  username: string | null;
  external_id: string;
  tags: string[];
  opted_out: boolean;
  blocked: boolean;
  created_at: Date;
}

const TAGS_OF = `ARRAY(SELECT t.tag FROM public.contact_tags t WHERE t.contact_id = $1 ORDER BY t.tag COLLATE "C")`;

/** Contacts' tags (`public.contact_tags`) and the contact list. */
export class ContactTagRepository implements ContactTagStore {
  constructor(private readonly pool: pg.Pool) {}

  async tagsOf(botId: string, contactId: string): Promise<string[] | null> {
    if (!isUuid(contactId)) return null;
    const { rows } = await this.pool.query<{ tags: string[] }>(`SELECT ${TAGS_OF} AS tags FROM public.contacts WHERE id = $1 AND bot_id = $2`, [contactId, botId]);
    return rows[0]?.tags ?? null;
  }

  /**
   * Runs `work` with the contact's row locked, so two changes to one contact's tags (and the count
   * they are checked against) follow each other; 'no_contact' when the bot has no such contact.
   */
  private withContact<T>(botId: string, contactId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T | 'no_contact'> {
    if (!isUuid(contactId)) return Promise.resolve('no_contact');
    return inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(`SELECT 1 FROM public.contacts WHERE id = $1 AND bot_id = $2 FOR UPDATE`, [contactId, botId]);
      if ((rowCount ?? 0) === 0) return 'no_contact' as const;
      return work(client);
    });
  }

  private async current(client: pg.PoolClient, contactId: string): Promise<string[]> {
    const { rows } = await client.query<{ tags: string[] }>(`SELECT ${TAGS_OF} AS tags`, [contactId]);
    return rows[0]!.tags;
  }

  replace(botId: string, contactId: string, tags: string[]): Promise<string[] | 'no_contact'> {
    return this.withContact(botId, contactId, async (client) => {
      await client.query(`DELETE FROM public.contact_tags WHERE contact_id = $1 AND NOT (tag = ANY($2::text[]))`, [contactId, tags]);
      await client.query(
        `INSERT INTO public.contact_tags (contact_id, bot_id, tag) SELECT $1, $2, unnest($3::text[]) ON CONFLICT (contact_id, tag) DO NOTHING`,
        [contactId, botId, tags],
      );
      return this.current(client, contactId);
    });
  }

  add(botId: string, contactId: string, tags: string[], max: number): Promise<string[] | TagChangeRefusal> {
    return this.withContact(botId, contactId, async (client): Promise<string[] | TagChangeRefusal> => {
      const existing = await this.current(client, contactId);
      const added = tags.filter((t) => !existing.includes(t));
      if (added.length === 0) return existing;
      if (existing.length + added.length > max) return 'too_many';
      await client.query(
        `INSERT INTO public.contact_tags (contact_id, bot_id, tag) SELECT $1, $2, unnest($3::text[]) ON CONFLICT (contact_id, tag) DO NOTHING`,
        [contactId, botId, added],
      );
      return this.current(client, contactId);
    });
  }

  remove(botId: string, contactId: string, tag: string): Promise<string[] | 'no_contact'> {
    return this.withContact(botId, contactId, async (client) => {
      await client.query(`DELETE FROM public.contact_tags WHERE contact_id = $1 AND tag = $2`, [contactId, tag]);
      return this.current(client, contactId);
    });
  }

  async list(botId: string, filter: { tag?: string; before?: string; limit: number }): Promise<ContactSummary[]> {
    const { rows } = await this.pool.query<ContactRow>(
      `SELECT k.id AS contact_id, k.channel, k.display_name, k.username, k.external_id, k.created_at,
              ARRAY(SELECT t.tag FROM public.contact_tags t WHERE t.contact_id = k.id ORDER BY t.tag COLLATE "C") AS tags,
              COALESCE(cc.opted_out_at IS NOT NULL, false) AS opted_out, k.blocked_at IS NOT NULL AS blocked
         FROM public.contacts k
         LEFT JOIN public.contact_coaching cc ON cc.contact_id = k.id
        WHERE k.bot_id = $1
          AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM public.contact_tags t WHERE t.bot_id = $1 AND t.tag = $2 AND t.contact_id = k.id))
          AND ($3::uuid IS NULL OR (k.created_at, k.id) < (SELECT created_at, id FROM public.contacts WHERE id = $3 AND bot_id = $1))
        ORDER BY k.created_at DESC, k.id DESC LIMIT $4`,
      [botId, filter.tag ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map((row) => ({
      id: row.contact_id,
      channel: row.channel,
      displayName: contactName(row),
      username: row.username,
      tags: row.tags,
      optedOut: row.opted_out,
      blocked: row.blocked,
      createdAt: row.created_at,
    }));
  }
}
