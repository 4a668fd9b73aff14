import type pg from 'pg';
import type { ChannelName, InboundKind } from '../../channels/types.js';
import type { ClaimedTurn, TurnKind, TurnStatus, TurnStore } from '../conversation/turn.ports.js';
import type { TurnSource } from '../conversation/types.js';
import { inboundFromPayload } from './inbound.repository.js';
import { PreparedStatements } from './prepared-statement.js';

// Ordinary messages arriving together are answered as one turn; anything else is a turn of its own.
const burstKinds = new Set<InboundKind>(['text', 'attachment', 'edited', 'reaction', 'unsupported']);

// The turn an inbound kind starts: commands, button presses and status changes are turns of their own kind.
const TURN_KIND_SQL = `CASE WHEN f.kind IN ('command', 'callback', 'contact_status') THEN f.kind ELSE 'message' END`;

interface TurnRow {
  id: string;
  bot_id: string;
  conversation_id: string;
  channel: ChannelName;
  external_chat_id: string;
  kind: TurnKind;
}

/** One row per message of a turn (payload null for a turn whose messages are gone), in arrival order. */
function toTurn(rows: Array<TurnRow & { payload: unknown }>): ClaimedTurn | null {
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    botId: row.bot_id,
    conversationId: row.conversation_id,
    channel: row.channel,
    externalChatId: row.external_chat_id,
    kind: row.kind,
    messages: rows.filter((r) => r.payload !== null).map((r) => inboundFromPayload(r.payload)),
  };
}

// Claims the conversation's next unclaimed messages into a new turn, in one statement: the oldest
// unclaimed message, and when it is an ordinary message every consecutive ordinary one after it (a
// burst). Rows are locked in arrival order; callers hold the conversation's lock as well.
const CLAIM_SQL = `
WITH candidates AS (
  SELECT id, seq, kind, text, bot_id, payload FROM public.inbound_messages
   WHERE conversation_id = $1 AND turn_id IS NULL
   ORDER BY seq LIMIT 200
   FOR UPDATE
),
f AS (SELECT * FROM candidates ORDER BY seq LIMIT 1),
burst_end AS (
  SELECT min(c.seq) AS seq FROM candidates c, f
   WHERE c.seq > f.seq AND NOT (f.kind = ANY($2::text[]) AND c.kind = ANY($2::text[]))
),
grp AS (
  SELECT c.* FROM candidates c, f, burst_end e WHERE c.seq >= f.seq AND (e.seq IS NULL OR c.seq < e.seq)
),
turn AS (
  INSERT INTO public.turns (bot_id, conversation_id, kind, texts)
  SELECT f.bot_id, $1, ${TURN_KIND_SQL},
         COALESCE((SELECT array_agg(g.text ORDER BY g.seq) FROM grp g WHERE g.kind <> 'edited' AND g.text <> ''), '{}')
    FROM f
  RETURNING id, bot_id, conversation_id, kind
),
claimed AS (
  UPDATE public.inbound_messages i SET turn_id = t.id FROM turn t WHERE i.id IN (SELECT id FROM grp) RETURNING i.id
)
SELECT t.id, t.bot_id, t.conversation_id, c.channel, c.external_chat_id, t.kind, g.payload
  FROM turn t JOIN public.conversations c ON c.id = t.conversation_id CROSS JOIN grp g
 ORDER BY g.seq`;

/** Turns: bursts of inbound messages claimed for one answer (`public.turns`). */
export class TurnRepository implements TurnStore {
  private readonly statements: PreparedStatements;

  /** `prepared`: prepare the per-turn statements once per connection (PostgreSQL; not the embedded database). */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  async statusOf(inboundId: string): Promise<TurnStatus | null | 'gone'> {
    const { rows } = await this.pool.query<{ status: TurnStatus | null }>(
      this.statements.query('turn_status_of', `SELECT t.status FROM public.inbound_messages i LEFT JOIN public.turns t ON t.id = i.turn_id WHERE i.id = $1`, [
        inboundId,
      ]),
    );
    if (rows.length === 0) return 'gone';
    return rows[0]!.status;
  }

  async unfinished(conversationId: string): Promise<ClaimedTurn | null> {
    // The messages are found through the conversation's index (there is none on turn_id alone).
    const { rows } = await this.pool.query<TurnRow & { payload: unknown }>(
      this.statements.query(
        'turn_unfinished',
        `WITH t AS (
         SELECT t.id, t.bot_id, t.conversation_id, c.channel, c.external_chat_id, t.kind
           FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
          WHERE t.conversation_id = $1 AND t.status = 'processing'
          ORDER BY t.created_at LIMIT 1
       )
       SELECT t.*, i.payload FROM t
         LEFT JOIN public.inbound_messages i ON i.conversation_id = t.conversation_id AND i.turn_id = t.id
        ORDER BY i.seq`,
        [conversationId],
      ),
    );
    return toTurn(rows);
  }

  async claimNext(conversationId: string): Promise<ClaimedTurn | null> {
    const { rows } = await this.pool.query<TurnRow & { payload: unknown }>(this.statements.query('turn_claim_next', CLAIM_SQL, [conversationId, [...burstKinds]]));
    return toTurn(rows);
  }

  async recordAttempt(turnId: string): Promise<void> {
    await this.pool.query(this.statements.query('turn_record_attempt', `UPDATE public.turns SET attempts = attempts + 1, updated_at = now() WHERE id = $1`, [turnId]));
  }

  async saveReply(turnId: string, reply: string, sources: TurnSource[]): Promise<void> {
    await this.pool.query(
      this.statements.query('turn_save_reply', `UPDATE public.turns SET reply = $2, sources = $3, updated_at = now() WHERE id = $1`, [turnId, reply, JSON.stringify(sources)]),
    );
  }

  async finish(turnId: string, status: 'answered' | 'failed', error?: string): Promise<void> {
    await this.pool.query(
      this.statements.query(
        'turn_finish',
        `UPDATE public.turns SET status = $2, error = $3, updated_at = now(), answered_at = CASE WHEN $2 = 'answered' THEN now() END
          WHERE id = $1`,
        [turnId, status, error ?? null],
      ),
    );
  }

  async failFor(inboundId: string, error: string): Promise<void> {
    await this.pool.query(
      `WITH target AS (
         SELECT COALESCE(
           (SELECT t.id FROM public.inbound_messages i JOIN public.turns t ON t.id = i.turn_id WHERE i.id = $1 AND t.status = 'processing'),
           (SELECT t.id FROM public.turns t JOIN public.inbound_messages i ON i.conversation_id = t.conversation_id
             WHERE i.id = $1 AND t.status = 'processing' ORDER BY t.created_at LIMIT 1)
         ) AS id
       ), failed AS (
         UPDATE public.turns SET status = 'failed', error = $2, updated_at = now() WHERE id = (SELECT id FROM target) RETURNING id
       )
       UPDATE public.outbound_messages SET status = 'failed', error = $2, updated_at = now()
        WHERE turn_id IN (SELECT id FROM failed) AND status IN ('pending', 'sending')`,
      [inboundId, error],
    );
  }
}
