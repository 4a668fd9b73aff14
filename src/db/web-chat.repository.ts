import type pg from 'pg';
import type { DailyScope, VisitorExchange, VisitorSession, VisitorStore } from '../conversation/visitor-chat.service.js';
import type { PublishedBot, WebPublication, WebPublicationStore } from '../conversation/web-publication.service.js';
import type { TurnSource } from '../conversation/types.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';

/** Rolls back the counting of a message that went over a cap. */
class DailyCapReached extends Error {
  constructor(readonly scope: DailyScope) {
    super(`daily ${scope} cap reached`);
  }
}

/** The public web chat's tables: publications, visitor sessions and daily counters. */
export class WebChatRepository implements WebPublicationStore, VisitorStore {
  constructor(private readonly pool: pg.Pool) {}

  async upsert(p: WebPublication): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.web_chat_publications (bot_id, allowed_origins, title, accent_color, welcome) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (bot_id) DO UPDATE
         SET allowed_origins = EXCLUDED.allowed_origins, title = EXCLUDED.title, accent_color = EXCLUDED.accent_color,
             welcome = EXCLUDED.welcome, updated_at = now()`,
      [p.botId, p.allowedOrigins, p.title, p.accentColor, p.welcome],
    );
  }

  async remove(botId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM public.web_chat_publications WHERE bot_id = $1`, [botId]);
    return (rowCount ?? 0) > 0;
  }

  async findPublished(botId: string): Promise<PublishedBot | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<PublishedBot>(
      `SELECT p.bot_id AS "botId", p.allowed_origins AS "allowedOrigins", p.title, p.accent_color AS "accentColor", p.welcome,
              b.name, b.creator_id AS "creatorId"
         FROM public.web_chat_publications p JOIN public.bots b ON b.id = p.bot_id
        WHERE p.bot_id = $1`,
      [botId],
    );
    return rows[0] ?? null;
  }

  async createSession(botId: string, tokenHash: string): Promise<VisitorSession> {
    const { rows } = await this.pool.query<VisitorSession>(
      `INSERT INTO public.web_visitor_sessions (bot_id, token_hash) VALUES ($1, $2) RETURNING id, bot_id AS "botId"`,
      [botId, tokenHash],
    );
    return rows[0]!;
  }

  async findSession(tokenHash: string): Promise<VisitorSession | null> {
    const { rows } = await this.pool.query<VisitorSession>(
      `UPDATE public.web_visitor_sessions SET last_seen_at = now() WHERE token_hash = $1 RETURNING id, bot_id AS "botId"`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async history(botId: string, conversationKey: string, limit: number): Promise<VisitorExchange[]> {
    const { rows } = await this.pool.query<{ texts: string[]; reply: string; sources: TurnSource[]; at: Date }>(
      `SELECT t.texts, t.reply, t.sources, t.created_at AS at
         FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
        WHERE c.bot_id = $1 AND c.channel = 'web' AND c.external_chat_id = $2 AND t.status = 'answered' AND t.reply IS NOT NULL
        ORDER BY t.created_at DESC LIMIT $3`,
      [botId, conversationKey, limit],
    );
    return rows.reverse().map((r) => ({ texts: r.texts, reply: r.reply, sources: r.sources, at: r.at.toISOString() }));
  }

  async takeDaily(entries: Array<{ scope: DailyScope; key: string; cap: number }>): Promise<DailyScope | null> {
    // Counted first, then checked, in one transaction: the counter rows stay locked until it ends, so
    // messages racing at a cap are let through one at a time and exactly the cap passes. A refused
    // message is rolled back and counts against nothing.
    try {
      await inTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ scope: DailyScope; key: string; count: number }>(
          `INSERT INTO public.web_chat_daily_counts (day, scope, key, count)
           SELECT (now() AT TIME ZONE 'UTC')::date, s, k, 1 FROM unnest($1::text[], $2::text[]) AS u(s, k)
           ON CONFLICT (day, scope, key) DO UPDATE SET count = public.web_chat_daily_counts.count + 1
           RETURNING scope, key, count`,
          [entries.map((e) => e.scope), entries.map((e) => e.key)],
        );
        const over = entries.find((e) => (rows.find((r) => r.scope === e.scope && r.key === e.key)?.count ?? 0) > e.cap);
        if (over) throw new DailyCapReached(over.scope);
      });
      return null;
    } catch (err) {
      if (err instanceof DailyCapReached) return err.scope;
      throw err;
    }
  }

  /**
   * Forgets what no visitor can use any more: sessions whose cookie has expired (`sessionMaxAgeDays`
   * after it was set) and the daily counters of days before yesterday. Returns what was removed.
   */
  async sweep(sessionMaxAgeDays: number): Promise<{ sessions: number; counters: number }> {
    const sessions = await this.pool.query(`DELETE FROM public.web_visitor_sessions WHERE created_at < now() - make_interval(days => $1)`, [sessionMaxAgeDays]);
    const counters = await this.pool.query(`DELETE FROM public.web_chat_daily_counts WHERE day < (now() AT TIME ZONE 'UTC')::date - 1`);
    return { sessions: sessions.rowCount ?? 0, counters: counters.rowCount ?? 0 };
  }
}
