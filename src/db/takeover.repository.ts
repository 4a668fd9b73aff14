import type pg from 'pg';
import type { ChannelName } from '../conversation/channel.ports.js';
import type { CreatorMessage, TakeoverState, TakeoverStore, TakeoverTarget } from '../conversation/takeover.ports.js';
import type { BotEventPublisher, ConversationChange, ConversationChangeBy } from '../events/bot-event.types.js';
import { isUuid } from '../postgres/ids.js';

// The conversation row `c` as a TakeoverState.
const STATE_COLUMNS = `c.id AS "conversationId", c.taken_over_at IS NOT NULL AS "takenOver", c.taken_over_at AS "takenOverAt",
  c.human_requested_at IS NOT NULL AS "wantsHuman"`;

/**
 * Takeovers and requests for a person on `public.conversations`, their events
 * (`public.conversation_events`) and the creator's messages in the ledger. Every statement that a
 * creator's request reaches is scoped by the bot id it is given.
 *
 * A takeover is an UPDATE of the conversation row: a turn's reply is marked for sending only in a
 * statement that reads that row FOR SHARE (src/db/turn.repository.ts), so the two are ordered.
 * `updated_at` is left alone: it says which conversation a contact used last (where notices go).
 * Each change that records a conversation event is also published to the bot's live events, once,
 * when it happened (a repeated takeover or release changes nothing and publishes nothing).
 */
export class TakeoverRepository implements TakeoverStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { events?: BotEventPublisher } = {},
  ) {}

  private changed(botId: string, conversationId: string, change: ConversationChange, by: ConversationChangeBy): void {
    this.options.events?.publish(botId, { type: 'conversation', conversationId, change, by, at: new Date().toISOString() });
  }

  async takeOver(botId: string, conversationId: string, creatorId: string, activeAt: Date): Promise<TakeoverState | null> {
    if (!isUuid(conversationId)) return null;
    const { rows } = await this.pool.query<TakeoverState & { changed: boolean }>(
      `WITH before AS (
         SELECT id, taken_over_at IS NULL AS fresh FROM public.conversations WHERE id = $1 AND bot_id = $2 FOR UPDATE
       ),
       taken AS (
         UPDATE public.conversations c
            SET taken_over_at = COALESCE(c.taken_over_at, clock_timestamp()), taken_over_by = COALESCE(c.taken_over_by, $3),
                takeover_active_at = GREATEST(c.takeover_active_at, $4), human_requested_at = NULL, human_request_turn_id = NULL
           FROM before b
          WHERE c.id = b.id
         RETURNING ${STATE_COLUMNS}
       ),
       event AS (
         INSERT INTO public.conversation_events (bot_id, conversation_id, kind, actor)
         SELECT $2, b.id, 'takeover', 'creator' FROM before b WHERE b.fresh
       )
       SELECT t.*, b.fresh AS "changed" FROM taken t CROSS JOIN before b`,
      [conversationId, botId, creatorId, activeAt],
    );
    return this.stateAfter(botId, rows[0], 'takeover');
  }

  async release(botId: string, conversationId: string): Promise<TakeoverState | null> {
    if (!isUuid(conversationId)) return null;
    const { rows } = await this.pool.query<TakeoverState & { changed: boolean }>(
      `WITH before AS (
         SELECT id, taken_over_at IS NOT NULL AS was FROM public.conversations WHERE id = $1 AND bot_id = $2 FOR UPDATE
       ),
       released AS (
         UPDATE public.conversations c SET taken_over_at = NULL, taken_over_by = NULL, takeover_active_at = NULL
           FROM before b
          WHERE c.id = b.id
         RETURNING ${STATE_COLUMNS}
       ),
       event AS (
         INSERT INTO public.conversation_events (bot_id, conversation_id, kind, actor)
         SELECT $2, b.id, 'release', 'creator' FROM before b WHERE b.was
       )
       SELECT r.*, b.was AS "changed" FROM released r CROSS JOIN before b`,
      [conversationId, botId],
    );
    return this.stateAfter(botId, rows[0], 'release');
  }

  /** The state a takeover or release left, published when it changed something. */
  private stateAfter(botId: string, row: (TakeoverState & { changed: boolean }) | undefined, change: 'takeover' | 'release'): TakeoverState | null {
    if (!row) return null;
    const { changed, ...state } = row;
    if (changed) this.changed(botId, state.conversationId, change, 'creator');
    return state;
  }

  async target(botId: string, conversationId: string): Promise<TakeoverTarget | null> {
    if (!isUuid(conversationId)) return null;
    const { rows } = await this.pool.query<TakeoverTarget & { channel: ChannelName }>(
      `SELECT id AS "conversationId", contact_id AS "contactId", channel, taken_over_at IS NOT NULL AS "takenOver"
         FROM public.conversations WHERE id = $1 AND bot_id = $2`,
      [conversationId, botId],
    );
    return rows[0] ?? null;
  }

  async touch(conversationId: string, activeAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE public.conversations SET takeover_active_at = GREATEST(takeover_active_at, $2) WHERE id = $1 AND taken_over_at IS NOT NULL`,
      [conversationId, activeAt],
    );
  }

  async creatorMessage(botId: string, conversationId: string, effectKey: string): Promise<CreatorMessage | null> {
    const { rows } = await this.pool.query<CreatorMessage>(
      `SELECT id, text, status, error, created_at AS at, sent_at AS "sentAt"
         FROM public.outbound_messages WHERE dedupe_key = $1 AND bot_id = $2 AND conversation_id = $3`,
      [effectKey, botId, conversationId],
    );
    return rows[0] ?? null;
  }

  async releaseIdle(idleSince: Date, limit: number): Promise<string[]> {
    // SKIP LOCKED: a creator taking over or writing right now is left for the next pass.
    const { rows } = await this.pool.query<{ id: string; bot_id: string }>(
      `WITH idle AS (
         SELECT id, bot_id FROM public.conversations
          WHERE taken_over_at IS NOT NULL AND takeover_active_at < $1
          ORDER BY takeover_active_at LIMIT $2
          FOR UPDATE SKIP LOCKED
       ),
       released AS (
         UPDATE public.conversations c SET taken_over_at = NULL, taken_over_by = NULL, takeover_active_at = NULL
           FROM idle i WHERE c.id = i.id
         RETURNING c.id, c.bot_id
       ),
       event AS (
         INSERT INTO public.conversation_events (bot_id, conversation_id, kind, actor) SELECT bot_id, id, 'release', 'idle' FROM released
       )
       SELECT id, bot_id FROM released`,
      [idleSince, limit],
    );
    for (const row of rows) this.changed(row.bot_id, row.id, 'release', 'idle');
    return rows.map((row) => row.id);
  }

  async requestHuman(conversationId: string, turnId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ open: boolean; flagged_bot_id: string | null }>(
      `WITH flagged AS (
         UPDATE public.conversations SET human_requested_at = clock_timestamp(), human_request_turn_id = $2
          WHERE id = $1 AND human_requested_at IS NULL AND taken_over_at IS NULL
         RETURNING bot_id
       ),
       event AS (
         INSERT INTO public.conversation_events (bot_id, conversation_id, kind, actor, turn_id)
         SELECT bot_id, $1, 'human_requested', 'contact', $2 FROM flagged
         ON CONFLICT (turn_id) DO NOTHING
       )
       SELECT EXISTS (SELECT 1 FROM flagged)
           OR EXISTS (SELECT 1 FROM public.conversations WHERE id = $1 AND human_request_turn_id = $2) AS open,
              (SELECT bot_id FROM flagged) AS flagged_bot_id`,
      [conversationId, turnId],
    );
    // Only the statement that flagged it publishes: a retried turn finds it flagged already.
    const flaggedBot = rows[0]?.flagged_bot_id;
    if (flaggedBot) this.changed(flaggedBot, conversationId, 'human_requested', 'contact');
    return rows[0]?.open ?? false;
  }
}
