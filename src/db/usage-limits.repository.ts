import type pg from 'pg';
import type { ContactRateStore, ModelCallBudget } from '../conversation/turn.ports.js';
import { PreparedStatements } from './prepared-statement.js';

/**
 * A contact's pace from `public.inbound_messages` (their messages are stored anyway) and the
 * "slow down" notices in `public.contact_slow_downs`.
 */
export class ContactRateRepository implements ContactRateStore {
  private readonly statements: PreparedStatements;

  /** `prepared`: prepare the per-turn statement once per connection (PostgreSQL; not the embedded database). */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  async recentMessages(conversationId: string, windowMs: number, atMost: number): Promise<number> {
    // The newest `atMost` rows by arrival (the conversation index), so a long history is never scanned.
    const { rows } = await this.pool.query<{ n: number }>(
      this.statements.query(
        'contact_recent_messages',
        `SELECT count(*)::int AS n FROM (
           SELECT received_at FROM public.inbound_messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $3
         ) recent WHERE received_at > clock_timestamp() - $2 * interval '1 millisecond'`,
        [conversationId, windowMs, atMost],
      ),
    );
    return rows[0]?.n ?? 0;
  }

  async claimSlowDownNotice(conversationId: string, turnId: string, windowMs: number): Promise<boolean> {
    // The row names the turn that holds this window's notice: a new window hands it to this turn;
    // the same turn asking again (a retry) still holds it. Reads of `contact_slow_downs` in the
    // outer SELECT see the row as it was before this statement.
    const { rows } = await this.pool.query<{ mine: boolean }>(
      `WITH claimed AS (
         INSERT INTO public.contact_slow_downs AS s (conversation_id, turn_id, notified_at)
         SELECT $1, $2, now() WHERE EXISTS (SELECT 1 FROM public.conversations WHERE id = $1)
         ON CONFLICT (conversation_id) DO UPDATE SET turn_id = EXCLUDED.turn_id, notified_at = EXCLUDED.notified_at
           WHERE s.turn_id <> EXCLUDED.turn_id AND s.notified_at <= now() - $3 * interval '1 millisecond'
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM claimed)
           OR EXISTS (SELECT 1 FROM public.contact_slow_downs WHERE conversation_id = $1 AND turn_id = $2) AS mine`,
      [conversationId, turnId, windowMs],
    );
    return rows[0]?.mine ?? false;
  }
}

/**
 * A bot's model calls in the current minute, in `public.bot_model_calls` (one row per bot): the
 * budget when there is no Redis. One statement takes a call unless the minute's are spent.
 */
export class PgModelCallBudget implements ModelCallBudget {
  private readonly statements: PreparedStatements;

  /** `prepared`: prepare the per-turn statement once per connection (PostgreSQL; not the embedded database). */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  async take(botId: string, perMinute: number): Promise<boolean> {
    // The database's clock names the minute, so every process counts the same one. A new minute
    // starts the count again; within one, the row lock taken by ON CONFLICT DO UPDATE makes
    // concurrent takers wait, and its WHERE reads the latest count: never more than perMinute.
    const { rows } = await this.pool.query(
      this.statements.query(
        'bot_model_call_take',
        `INSERT INTO public.bot_model_calls AS b (bot_id, window_start, calls)
         SELECT $1, date_trunc('minute', clock_timestamp()), 1 WHERE $2::integer > 0 AND EXISTS (SELECT 1 FROM public.bots WHERE id = $1)
         ON CONFLICT (bot_id) DO UPDATE
           SET window_start = EXCLUDED.window_start,
               calls = CASE WHEN b.window_start = EXCLUDED.window_start THEN b.calls + 1 ELSE 1 END
           WHERE b.window_start < EXCLUDED.window_start OR b.calls < $2::integer
         RETURNING calls`,
        [botId, perMinute],
      ),
    );
    return rows.length > 0;
  }

  async giveBack(botId: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.bot_model_calls SET calls = calls - 1 WHERE bot_id = $1 AND window_start = date_trunc('minute', clock_timestamp()) AND calls > 0`,
      [botId],
    );
  }
}
