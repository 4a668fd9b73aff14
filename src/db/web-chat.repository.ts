import type pg from 'pg';
import type { DailyScope, StoredExchange, VisitorSession, VisitorStore } from '../conversation/visitor-chat.service.js';
import type { PublishedBot, WebPublication, WebPublicationStore } from '../conversation/web-publication.service.js';
import type { TurnSource } from '../conversation/types.js';
import type { OutboundStatus } from '../conversation/turn.ports.js';
import type { WebMessageOutcome, WebMessageStore } from '../conversation/web-chat.service.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';

interface ExchangeRow {
  texts: string[];
  turn_status: 'processing' | 'answered' | 'failed' | 'held';
  sources: TurnSource[];
  reply_status: OutboundStatus | null;
  reply_text: string | null;
  at: Date;
  external_ids: string[];
  /** Messages of no turn: the id the page saw it under live, and whether a person wrote it. */
  standalone: boolean;
  message_id: string | null;
  by_person: boolean;
}

/**
 * Where a web exchange stands. Its reply is final once the ledger holds its text for delivery
 * (`sending`): on the web, that text is what the page shows, whether or not it was published.
 */
function exchangeState(row: Pick<ExchangeRow, 'turn_status' | 'reply_status' | 'reply_text'>): 'pending' | 'answered' | 'silent' | 'failed' {
  if ((row.reply_status === 'sending' || row.reply_status === 'sent') && row.reply_text !== null) return 'answered';
  if (row.turn_status === 'failed' || row.reply_status === 'failed') return 'failed';
  // Settled without a reply (a button press that needed none, or a person had the conversation).
  if (row.turn_status === 'answered' || row.turn_status === 'held') return 'silent';
  return 'pending';
}

/** Rolls back the counting of a message that went over a cap. */
class DailyCapReached extends Error {
  constructor(readonly scope: DailyScope) {
    super(`daily ${scope} cap reached`);
  }
}

/** The public web chat's tables: publications, visitor sessions and daily counters. */
export class WebChatRepository implements WebPublicationStore, VisitorStore, WebMessageStore {
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

  async history(botId: string, conversationKey: string, limit: number): Promise<StoredExchange[]> {
    // Turns with their replies, messages not yet claimed into a turn (queued a moment ago), and the
    // messages sent of no turn (the creator's own, notices, proactive ones) once delivered.
    const { rows } = await this.pool.query<ExchangeRow>(
      `SELECT * FROM (
         SELECT t.texts, t.status AS turn_status, t.sources, o.status AS reply_status, o.text AS reply_text, t.created_at AS at,
                ARRAY(SELECT i.external_id FROM public.inbound_messages i WHERE i.turn_id = t.id ORDER BY i.seq) AS external_ids,
                false AS standalone, NULL::text AS message_id, false AS by_person
           FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
           LEFT JOIN public.outbound_messages o ON o.turn_id = t.id
          WHERE c.bot_id = $1 AND c.channel = 'web' AND c.external_chat_id = $2 AND t.kind <> 'contact_status'
         UNION ALL
         SELECT ARRAY[i.text], 'processing', '[]'::jsonb, NULL, NULL, i.received_at, ARRAY[i.external_id], false, NULL, false
           FROM public.inbound_messages i JOIN public.conversations c ON c.id = i.conversation_id
          WHERE c.bot_id = $1 AND c.channel = 'web' AND c.external_chat_id = $2 AND i.turn_id IS NULL AND i.text IS NOT NULL
         UNION ALL
         SELECT ARRAY[]::text[], 'answered', '[]'::jsonb, o.status, o.text, COALESCE(o.sent_at, o.created_at), ARRAY[]::text[],
                true, o.external_message_ids[1],
                EXISTS (SELECT 1 FROM public.proactive_sends p WHERE p.effect_key = o.dedupe_key AND p.kind = 'creator_message')
           FROM public.outbound_messages o JOIN public.conversations c ON c.id = o.conversation_id
          WHERE c.bot_id = $1 AND c.channel = 'web' AND c.external_chat_id = $2 AND o.turn_id IS NULL AND o.status = 'sent' AND o.text IS NOT NULL
       ) exchanges
       ORDER BY at DESC LIMIT $3`,
      [botId, conversationKey, limit],
    );
    return rows
      .reverse()
      .map((r) => {
        const state = exchangeState(r);
        return {
          ...(r.standalone ? { ...(r.message_id ? { id: r.message_id } : {}), from: r.by_person ? ('person' as const) : ('coach' as const) } : {}),
          externalIds: r.external_ids,
          texts: r.texts,
          state: state === 'silent' ? 'answered' : state,
          reply: state === 'answered' ? r.reply_text : null,
          sources: state === 'answered' ? r.sources : [],
          at: r.at.toISOString(),
        };
      })
      // A button press that needed no reply leaves nothing to show.
      .filter((e) => e.texts.length > 0 || e.reply !== null);
  }

  async outcome(botId: string, conversationId: string, externalId: string): Promise<WebMessageOutcome> {
    if (!isUuid(botId)) return { state: 'unknown' };
    const { rows } = await this.pool.query<Omit<ExchangeRow, 'texts' | 'at' | 'external_ids' | 'standalone' | 'message_id' | 'by_person'> & { inbound_id: string }>(
      `SELECT i.id AS inbound_id, t.status AS turn_status, t.sources, o.status AS reply_status, o.text AS reply_text
         FROM public.inbound_messages i
         JOIN public.conversations c ON c.id = i.conversation_id
         LEFT JOIN public.turns t ON t.id = i.turn_id
         LEFT JOIN public.outbound_messages o ON o.turn_id = t.id
        WHERE i.bot_id = $1 AND i.channel = 'web' AND i.external_id = $3 AND c.external_chat_id = $2`,
      [botId, conversationId, externalId],
    );
    const row = rows[0];
    if (!row) return { state: 'unknown' };
    const state = exchangeState(row);
    if (state === 'answered') return { state, inboundId: row.inbound_id, text: row.reply_text as string, sources: row.sources };
    return { state, inboundId: row.inbound_id };
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
