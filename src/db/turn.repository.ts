import type pg from 'pg';
import type { ChannelName, InboundKind } from '../conversation/channel.ports.js';
import type { ClaimedTurn, NextTurn, TurnKind, TurnStore } from '../conversation/turn.ports.js';
import type { TurnSource } from '../conversation/types.js';
import { defaultUnknownAnswers } from '../conversation/phrases.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';
import { LEDGER_EVENT_COLUMNS, publishLedgerChanges, type LedgerEventRow } from './ledger-events.js';
import { inboundFromPayload } from './inbound.repository.js';
import { PreparedStatements } from './prepared-statement.js';
import { REPLY_LATENCY_SQL } from './reply-latency.js';

// The default "I don't know" replies, by language, as one JSON parameter.
const UNKNOWN_ANSWERS = JSON.stringify(defaultUnknownAnswers());

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
  contact_blocked: boolean;
  shared_documents: boolean;
  taken_over: boolean;
}

/** One row per message of a turn (inbound id and payload null for a turn whose messages are gone), in arrival order. */
function toTurn(rows: Array<TurnRow & { inbound_id: string | null; payload: unknown }>): ClaimedTurn | null {
  const row = rows[0];
  if (!row?.id) return null;
  const present = rows.filter((r) => r.inbound_id !== null && r.payload !== null);
  return {
    id: row.id,
    botId: row.bot_id,
    conversationId: row.conversation_id,
    channel: row.channel,
    externalChatId: row.external_chat_id,
    kind: row.kind,
    messages: present.map((r) => inboundFromPayload(r.payload)),
    inboundIds: present.map((r) => r.inbound_id as string),
    contactBlocked: row.contact_blocked,
    sharedDocuments: row.shared_documents,
    takenOver: row.taken_over ?? false,
  };
}

// The oldest unclaimed message of conversation $1 and, when it is an ordinary message, every
// consecutive ordinary one after it (a burst; $2 = the ordinary kinds), claimed into a new turn
// whose first attempt is counted. Rows are locked in arrival order; callers hold the
// conversation's lock as well. `claimable` gates the whole claim (a CTE of the including statement).
function claimCtes(claimable: string): string {
  return `
candidates AS (
  SELECT id, seq, kind, text, bot_id, payload, received_at FROM public.inbound_messages
   WHERE conversation_id = $1 AND turn_id IS NULL AND ${claimable}
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
  INSERT INTO public.turns (bot_id, conversation_id, kind, texts, attempts, last_message_at)
  SELECT f.bot_id, $1, ${TURN_KIND_SQL},
         COALESCE((SELECT array_agg(g.text ORDER BY g.seq) FROM grp g WHERE g.kind <> 'edited' AND g.text <> ''), '{}'), 1,
         (SELECT max(g.received_at) FROM grp g)
    FROM f
  RETURNING id, bot_id, conversation_id, kind
),
claimed AS (
  UPDATE public.inbound_messages i SET turn_id = t.id FROM turn t WHERE i.id IN (SELECT id FROM grp) RETURNING i.id
)`;
}

// The turn's columns around its conversation, contact and (in \`msgs\`) messages; $3 = the shared-document window in ms.
const TURN_COLUMNS = `ch.id, ch.bot_id, ch.conversation_id, c.channel, c.external_chat_id, ch.kind,
       (ct.blocked_at IS NOT NULL) AS contact_blocked, (c.taken_over_at IS NOT NULL) AS taken_over,
       EXISTS (SELECT 1 FROM public.media_files mf
                WHERE mf.conversation_id = ch.conversation_id AND mf.extracted_text IS NOT NULL
                  AND mf.created_at > now() - $3 * interval '1 millisecond') AS shared_documents,
       m.id AS inbound_id, m.payload`;
const TURN_JOINS = `LEFT JOIN public.conversations c ON c.id = ch.conversation_id
  LEFT JOIN public.contacts ct ON ct.id = c.contact_id
  LEFT JOIN msgs m ON ch.id IS NOT NULL`;

const CLAIM_SQL = `
WITH ${claimCtes('true')},
ch AS (SELECT * FROM turn),
msgs AS (SELECT id, seq, payload FROM grp)
SELECT ${TURN_COLUMNS}
  FROM ch ${TURN_JOINS}
 ORDER BY m.seq`;

// What a worker holding conversation $1's lock does next for inbound row $4: nothing when the
// row's turn is settled; else the oldest turn still processing (its attempt counted), else a claim.
// A claim's message rows are read from \`grp\`: the statement cannot see its own UPDATE of turn_id.
const NEXT_SQL = `
WITH target AS (
  SELECT t.status FROM public.inbound_messages i LEFT JOIN public.turns t ON t.id = i.turn_id WHERE i.id = $4
),
pending AS (
  SELECT EXISTS (SELECT 1 FROM target WHERE status IS NULL OR status = 'processing') AS yes
),
open_turn AS (
  SELECT t.id FROM public.turns t, pending
   WHERE pending.yes AND t.conversation_id = $1 AND t.status = 'processing'
   ORDER BY t.created_at LIMIT 1
),
retried AS (
  UPDATE public.turns SET attempts = attempts + 1, updated_at = now()
   WHERE id = (SELECT id FROM open_turn)
  RETURNING id, bot_id, conversation_id, kind
),
${claimCtes('(SELECT yes FROM pending) AND NOT EXISTS (SELECT 1 FROM open_turn)').trim()},
ch AS (SELECT * FROM retried UNION ALL SELECT * FROM turn),
msgs AS (
  SELECT id, seq, payload FROM grp
  UNION ALL
  SELECT i.id, i.seq, i.payload FROM public.inbound_messages i, retried r WHERE i.conversation_id = $1 AND i.turn_id = r.id
)
SELECT EXISTS (SELECT 1 FROM target) AS found, ${TURN_COLUMNS}
  FROM (SELECT 1) AS one
  LEFT JOIN ch ON true
  ${TURN_JOINS}
 ORDER BY m.seq`;

// Whether turn $1's conversation has been taken over by a person, read FOR SHARE: a takeover (an
// UPDATE of that row) stored first is seen here, and one arriving meanwhile waits until this
// statement has decided, so no reply starts going out after a takeover is stored. When it is taken
// over, the turn ends held and its ledger row $2, not yet sent, is dropped: no reply was written
// to the user. (A turn that is gone reads as not held: nothing is updated either way.)
const TAKEOVER_GUARD_CTES = `guard AS (
  SELECT COALESCE((SELECT c.taken_over_at IS NOT NULL
                     FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
                    WHERE t.id = $1 FOR SHARE OF c), false) AS held
),
held_turn AS (
  UPDATE public.turns SET status = 'held', error = NULL, updated_at = now() WHERE id = $1 AND (SELECT held FROM guard)
),
dropped AS (
  DELETE FROM public.outbound_messages WHERE id = $2 AND status = 'pending' AND (SELECT held FROM guard)
)`;

// The ledger row ($2) turns `sending` with its text ($3) unless the guard found the conversation
// taken over; answers whether it did, and the row as changed for the live events.
const SENDING_UNLESS_HELD = `sending AS (
  UPDATE public.outbound_messages SET status = 'sending', text = $3, attempts = attempts + 1, updated_at = now()
   WHERE id = $2 AND NOT (SELECT held FROM guard)
  RETURNING ${LEDGER_EVENT_COLUMNS}
)
SELECT NOT (SELECT held FROM guard) AS sending, (SELECT to_jsonb(s) FROM sending s) AS changed`;

/** Turns: bursts of inbound messages claimed for one answer (`public.turns`). */
export class TurnRepository implements TurnStore {
  private readonly statements: PreparedStatements;
  private readonly events: BotEventPublisher | undefined;

  /**
   * `prepared`: prepare the per-turn statements once per connection (PostgreSQL; not the embedded
   * database); `events`: told when a reply's ledger row changes (the creators' live events).
   */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean; events?: BotEventPublisher } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
    this.events = options.events;
  }

  async next(inboundId: string, conversationId: string, documentWindowMs: number): Promise<NextTurn> {
    const { rows } = await this.pool.query<TurnRow & { found: boolean; inbound_id: string | null; payload: unknown }>(
      this.statements.query('turn_next', NEXT_SQL, [conversationId, [...burstKinds], documentWindowMs, inboundId]),
    );
    const turn = toTurn(rows);
    if (turn) return { next: 'turn', turn };
    return rows[0]?.found ? { next: 'settled' } : { next: 'gone' };
  }

  async burstState(inboundId: string, conversationId: string, quietMs: number, maxWaitMs: number): Promise<'closed' | 'growing' | 'growing_newer'> {
    // The conversation's unclaimed rows are few (a burst or two): read them all. Times are the
    // database's, the same clock that stamped received_at.
    const { rows } = await this.pool.query<{ state: 'closed' | 'growing' | 'growing_newer' }>(
      this.statements.query(
        'turn_burst_state',
        `WITH u AS (
           SELECT id, seq, kind, received_at FROM public.inbound_messages WHERE conversation_id = $2 AND turn_id IS NULL
         ), s AS (
           SELECT EXISTS (SELECT 1 FROM u WHERE id = $1) AS mine,
                  COALESCE(bool_and(kind = ANY($3::text[])), false) AS ordinary,
                  max(received_at) > clock_timestamp() - $4 * interval '1 millisecond' AS recent,
                  min(received_at) > clock_timestamp() - $5 * interval '1 millisecond' AS young,
                  max(seq) > (SELECT seq FROM u WHERE id = $1) AS newer
             FROM u
         )
         SELECT CASE WHEN mine AND ordinary AND recent AND young THEN (CASE WHEN newer THEN 'growing_newer' ELSE 'growing' END) ELSE 'closed' END AS state
           FROM s`,
        [inboundId, conversationId, [...burstKinds], quietMs, maxWaitMs],
      ),
    );
    return rows[0]?.state ?? 'closed';
  }

  async claimNext(conversationId: string): Promise<ClaimedTurn | null> {
    const { rows } = await this.pool.query<TurnRow & { inbound_id: string | null; payload: unknown }>(
      // The web chat loads no shared documents: the window is empty.
      this.statements.query('turn_claim_next', CLAIM_SQL, [conversationId, [...burstKinds], 0]),
    );
    return toTurn(rows);
  }

  async saveFinalReply(turn: { turnId: string; ledgerId: string }, reply: string, sources: TurnSource[]): Promise<boolean> {
    const { rows } = await this.pool.query<{ sending: boolean; changed: LedgerEventRow | null }>(
      this.statements.query(
        'turn_save_final_reply',
        // Uncovered: a user's message answered with the bot's own "I don't know" (its setting, else the
        // default in its language), which the engine writes without sources when the material has nothing.
        `WITH ${TAKEOVER_GUARD_CTES},
         saved AS (
           UPDATE public.turns t SET reply = $3, sources = $4, updated_at = now(),
                  uncovered = (t.kind = 'message' AND $4::jsonb = '[]'::jsonb AND $3 = COALESCE(
                    NULLIF(btrim(b.settings->>'unknownAnswer'), ''), $5::jsonb->>split_part(lower(b.language), '-', 1), $5::jsonb->>'en'))
             FROM public.bots b
            WHERE t.id = $1 AND b.id = t.bot_id AND NOT (SELECT held FROM guard)
         ),
         ${SENDING_UNLESS_HELD}`,
        [turn.turnId, turn.ledgerId, reply, JSON.stringify(sources), UNKNOWN_ANSWERS],
      ),
    );
    if (rows[0]?.changed) publishLedgerChanges(this.events, [rows[0].changed], sources.length);
    return rows[0]?.sending ?? true;
  }

  async startSending(turn: { turnId: string; ledgerId: string }, text: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ sending: boolean; changed: LedgerEventRow | null }>(
      this.statements.query(
        'turn_start_sending',
        `WITH ${TAKEOVER_GUARD_CTES},
         ${SENDING_UNLESS_HELD}`,
        [turn.turnId, turn.ledgerId, text],
      ),
    );
    if (rows[0]?.changed) publishLedgerChanges(this.events, [rows[0].changed]);
    return rows[0]?.sending ?? true;
  }

  async finishSent(turn: { turnId: string; ledgerId: string }, messageIds: string[]): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      this.statements.query(
        'turn_finish_sent',
        `WITH sent AS (
           UPDATE public.outbound_messages SET status = 'sent', external_message_ids = $3, error = NULL, sent_at = now(), updated_at = now(),
                  reply_latency_ms = ${REPLY_LATENCY_SQL}
            WHERE id = $2
           RETURNING ${LEDGER_EVENT_COLUMNS}
         ),
         answered AS (
           UPDATE public.turns SET status = 'answered', error = NULL, updated_at = now(), answered_at = now() WHERE id = $1
         )
         SELECT * FROM sent`,
        [turn.turnId, turn.ledgerId, messageIds],
      ),
    );
    publishLedgerChanges(this.events, rows);
  }

  async finish(turnId: string, status: 'answered' | 'failed' | 'held', error?: string): Promise<void> {
    const { rows } = await this.pool.query<{ bot_id: string; conversation_id: string }>(
      this.statements.query(
        'turn_finish',
        `UPDATE public.turns SET status = $2, error = $3, updated_at = now(), answered_at = CASE WHEN $2 = 'answered' THEN now() END
          WHERE id = $1
          RETURNING bot_id, conversation_id`,
        [turnId, status, error ?? null],
      ),
    );
    // A held turn sends nothing, so no ledger event says the message is settled: the inbox is told here.
    const held = status === 'held' ? rows[0] : undefined;
    if (held) this.events?.publish(held.bot_id, { type: 'conversation', conversationId: held.conversation_id, change: 'message_held', by: 'contact', at: new Date().toISOString() });
  }

  async failFor(inboundId: string, error: string): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
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
        WHERE turn_id IN (SELECT id FROM failed) AND status IN ('pending', 'sending')
       RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [inboundId, error],
    );
    publishLedgerChanges(this.events, rows);
  }
}
