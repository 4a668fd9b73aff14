import type pg from 'pg';
import type { CreatorUsageCounts, TurnParties, UsageStore } from '../billing/ports.js';
import { isUuid } from './ids.js';
import { inTransaction } from './transaction.js';

/**
 * What creators use of their plans: bots, documents, storage and contacts counted from their rows,
 * replies from `public.usage_counters` (one row per creator and period) and `public.reply_usage`
 * (one row per counted turn).
 */
export class UsageRepository implements UsageStore {
  constructor(private readonly pool: pg.Pool) {}

  async counts(creatorId: string): Promise<CreatorUsageCounts> {
    if (!isUuid(creatorId)) return { bots: 0, documents: 0, storageBytes: 0, contacts: 0 };
    const { rows } = await this.pool.query<CreatorUsageCounts>(
      `SELECT (SELECT count(*) FROM public.bots WHERE creator_id = $1) AS bots,
              (SELECT count(*) FROM public.documents d JOIN public.bots b ON b.id = d.bot_id WHERE b.creator_id = $1) AS documents,
              (SELECT COALESCE(sum(d.size_bytes), 0)::bigint FROM public.documents d JOIN public.bots b ON b.id = d.bot_id WHERE b.creator_id = $1) AS "storageBytes",
              (SELECT count(*) FROM public.contacts c JOIN public.bots b ON b.id = c.bot_id WHERE b.creator_id = $1) AS contacts`,
      [creatorId],
    );
    return rows[0]!;
  }

  async repliesIn(creatorId: string, periodStart: Date): Promise<number> {
    if (!isUuid(creatorId)) return 0;
    const { rows } = await this.pool.query<{ replies: number }>(
      `SELECT replies FROM public.usage_counters WHERE creator_id = $1 AND period_start = $2`,
      [creatorId, periodStart],
    );
    return rows[0]?.replies ?? 0;
  }

  async parties(conversationId: string): Promise<TurnParties | null> {
    const { rows } = await this.pool.query<TurnParties>(
      `SELECT b.creator_id AS "creatorId", cv.bot_id AS "botId", cv.contact_id AS "contactId"
         FROM public.conversations cv JOIN public.bots b ON b.id = cv.bot_id WHERE cv.id = $1`,
      [conversationId],
    );
    return rows[0] ?? null;
  }

  async isCounted(turnId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM public.reply_usage WHERE turn_id = $1`, [turnId]);
    return rowCount === 1;
  }

  async countReply(input: {
    turnId: string;
    parties: TurnParties;
    period: { start: Date; end: Date };
    limit: number | null;
  }): Promise<{ counted: boolean; used: number }> {
    const { turnId, parties, period, limit } = input;
    return inTransaction(this.pool, async (client) => {
      const claimed = await client.query(
        `INSERT INTO public.reply_usage (turn_id, creator_id, bot_id, contact_id, period_start) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (turn_id) DO NOTHING`,
        [turnId, parties.creatorId, parties.botId, parties.contactId, period.start],
      );
      const current = async () => {
        const { rows } = await client.query<{ replies: number }>(`SELECT replies FROM public.usage_counters WHERE creator_id = $1 AND period_start = $2`, [
          parties.creatorId,
          period.start,
        ]);
        return rows[0]?.replies ?? 0;
      };
      // Counted by an earlier attempt of the same turn.
      if (claimed.rowCount === 0) return { counted: true, used: await current() };
      if (limit === 0) {
        await client.query(`DELETE FROM public.reply_usage WHERE turn_id = $1`, [turnId]);
        return { counted: false, used: await current() };
      }
      // The row lock taken by ON CONFLICT DO UPDATE serialises concurrent turns of one creator, and
      // the WHERE is evaluated on the latest count: the counter can never pass the limit.
      const { rows } = await client.query<{ replies: number }>(
        `INSERT INTO public.usage_counters (creator_id, period_start, period_end, replies) VALUES ($1, $2, $3, 1)
         ON CONFLICT (creator_id, period_start) DO UPDATE SET replies = usage_counters.replies + 1, updated_at = now()
           WHERE $4::integer IS NULL OR usage_counters.replies < $4::integer
         RETURNING replies`,
        [parties.creatorId, period.start, period.end, limit],
      );
      if (rows[0]) return { counted: true, used: rows[0].replies };
      await client.query(`DELETE FROM public.reply_usage WHERE turn_id = $1`, [turnId]);
      return { counted: false, used: await current() };
    });
  }

  async markDelivered(turnId: string): Promise<void> {
    await this.pool.query(`UPDATE public.reply_usage SET replied_at = COALESCE(replied_at, now()) WHERE turn_id = $1`, [turnId]);
  }

  async deliveredToContact(botId: string, contactId: string, since: Date): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM public.reply_usage WHERE bot_id = $1 AND contact_id = $2 AND created_at >= $3 AND replied_at IS NOT NULL`,
      [botId, contactId, since],
    );
    return rows[0]?.n ?? 0;
  }

  async contactsBefore(creatorId: string, contactId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*) AS n FROM public.contacts c JOIN public.bots b ON b.id = c.bot_id
        WHERE b.creator_id = $1
          AND (c.created_at, c.id) < (SELECT created_at, id FROM public.contacts WHERE id = $2)`,
      [creatorId, contactId],
    );
    return rows[0]?.n ?? 0;
  }
}
