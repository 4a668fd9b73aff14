import type pg from 'pg';
import type { ContactStanding, ContactStandingQuery, CreatorUsageCounts, ReplyClaim, ReplyClaimInput, UsageStore } from '../billing/ports.js';
import type { SubscriptionRecord } from '../billing/subscription-state.js';
import { isUuid } from '../postgres/ids.js';
import { PreparedStatements } from './prepared-statement.js';

/**
 * What creators use of their plans: bots, documents, storage and contacts counted from their rows,
 * replies from `public.usage_counters` (one row per creator and period) and `public.reply_usage`
 * (one row per counted turn).
 */
export class UsageRepository implements UsageStore {
  private readonly statements: PreparedStatements;

  /** `prepared`: prepare the per-turn statement once per connection (PostgreSQL; not the embedded database). */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

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

  async creatorOf(botId: string): Promise<string | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<{ creator_id: string }>(`SELECT creator_id FROM public.bots WHERE id = $1`, [botId]);
    return rows[0]?.creator_id ?? null;
  }

  async contactStanding(query: ContactStandingQuery): Promise<ContactStanding | null> {
    const { turnId, conversationId, botId, creatorId, contacts, deliveredSince } = query;
    // The parts not asked for are NULL, and their subqueries never run. Deliveries are recorded only
    // while the bot has premium, so replies counted before it was switched on count as delivered.
    const { rows } = await this.pool.query<{
      counted: boolean;
      contactId: string;
      contactsBefore: number | null;
      delivered: number | null;
      unlock: SubscriptionRecord | null;
    }>(
      `SELECT EXISTS (SELECT 1 FROM public.reply_usage WHERE turn_id = $1) AS counted,
              cv.contact_id AS "contactId",
              CASE WHEN $5::boolean THEN (
                SELECT count(*) FROM public.contacts c JOIN public.bots b ON b.id = c.bot_id
                 WHERE b.creator_id = $4
                   AND (c.created_at, c.id) < (SELECT created_at, id FROM public.contacts WHERE id = cv.contact_id)
              ) END AS "contactsBefore",
              CASE WHEN $6::timestamptz IS NOT NULL THEN (
                SELECT count(*) FROM public.reply_usage u
                 WHERE u.bot_id = cv.bot_id AND u.contact_id = cv.contact_id AND u.created_at >= $6
                   AND (u.replied_at IS NOT NULL OR u.created_at < (SELECT created_at FROM public.bot_premium WHERE bot_id = cv.bot_id))
              ) END AS delivered,
              CASE WHEN $6::timestamptz IS NOT NULL THEN (SELECT record FROM public.contact_unlocks WHERE contact_id = cv.contact_id) END AS unlock
         FROM public.conversations cv
        WHERE cv.id = $2 AND cv.bot_id = $3`,
      [turnId, conversationId, botId, creatorId, contacts, deliveredSince],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      counted: row.counted,
      contactId: row.contactId,
      ...(contacts ? { contactsBefore: row.contactsBefore ?? 0 } : {}),
      ...(deliveredSince ? { delivered: row.delivered ?? 0, unlock: row.unlock } : {}),
    };
  }

  async claimReply(input: ReplyClaimInput): Promise<ReplyClaim> {
    const { turnId, conversationId, botId, creatorId, period, limit } = input;
    // One statement, so one round trip: a turn counted before is left alone; otherwise the creator's
    // counter goes up unless it is at the limit, and only then is the turn's row written. The row
    // lock taken by ON CONFLICT DO UPDATE serialises concurrent turns of one creator, and its WHERE
    // is evaluated on the latest count: the counter can never pass the limit. A limit of 0 must stop
    // the first reply too, which the INSERT's own WHERE does.
    const { rows } = await this.pool.query<{ already: boolean; found: boolean; counted: boolean; claimed: boolean }>(
      this.statements.query(
        'usage_claim_reply',
        `WITH prior AS (
         SELECT 1 FROM public.reply_usage WHERE turn_id = $1
       ), parties AS (
         SELECT cv.contact_id FROM public.conversations cv
          WHERE cv.id = $2 AND cv.bot_id = $3 AND NOT EXISTS (SELECT 1 FROM prior)
       ), counter AS (
         INSERT INTO public.usage_counters AS u (creator_id, period_start, period_end, replies)
         SELECT $4, $5, $6, 1 FROM parties WHERE $7::integer IS NULL OR $7::integer > 0
         ON CONFLICT (creator_id, period_start) DO UPDATE SET replies = u.replies + 1, updated_at = now()
           WHERE $7::integer IS NULL OR u.replies < $7::integer
         RETURNING replies
       ), claimed AS (
         INSERT INTO public.reply_usage (turn_id, creator_id, bot_id, contact_id, period_start)
         SELECT $1, $4, $3, parties.contact_id, $5 FROM parties, counter
         ON CONFLICT (turn_id) DO NOTHING
         RETURNING turn_id
       )
       SELECT EXISTS (SELECT 1 FROM prior) AS already, EXISTS (SELECT 1 FROM parties) AS found,
              EXISTS (SELECT 1 FROM counter) AS counted, EXISTS (SELECT 1 FROM claimed) AS claimed`,
        [turnId, conversationId, botId, creatorId, period.start, period.end, limit],
      ),
    );
    const { already, found, counted, claimed } = rows[0]!;
    if (already) return 'already';
    if (!found) return 'gone';
    if (!counted) return 'limit_reached';
    if (claimed) return 'counted';
    // Another attempt of the same turn counted it between our read and our write (turns of one
    // conversation are serialised, so only a lost lock gets here): give our increment back.
    await this.pool.query(`UPDATE public.usage_counters SET replies = replies - 1, updated_at = now() WHERE creator_id = $1 AND period_start = $2`, [
      creatorId,
      period.start,
    ]);
    return 'already';
  }

  async markDelivered(turnId: string): Promise<void> {
    await this.pool.query(`UPDATE public.reply_usage SET replied_at = COALESCE(replied_at, now()) WHERE turn_id = $1`, [turnId]);
  }
}
