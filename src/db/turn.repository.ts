import type pg from 'pg';
import type { ChannelName, InboundKind } from '../../channels/types.js';
import type { ClaimedTurn, TurnKind, TurnStatus, TurnStore } from '../conversation/turn.ports.js';
import type { TurnSource } from '../conversation/types.js';
import { inboundFromPayload } from './inbound.repository.js';
import { inTransaction } from './transaction.js';

// Ordinary messages arriving together are answered as one turn; anything else is a turn of its own.
const burstKinds = new Set<InboundKind>(['text', 'attachment', 'edited', 'unsupported']);

function turnKindOf(kind: InboundKind): TurnKind {
  if (kind === 'command') return 'command';
  if (kind === 'callback') return 'callback';
  if (kind === 'contact_status') return 'contact_status';
  return 'message';
}

interface TurnRow {
  id: string;
  bot_id: string;
  conversation_id: string;
  channel: ChannelName;
  external_chat_id: string;
  kind: TurnKind;
}

/** Turns: bursts of inbound messages claimed for one answer (`public.turns`). */
export class TurnRepository implements TurnStore {
  constructor(private readonly pool: pg.Pool) {}

  async statusOf(inboundId: string): Promise<TurnStatus | null | 'gone'> {
    const { rows } = await this.pool.query<{ status: TurnStatus | null }>(
      `SELECT t.status FROM public.inbound_messages i LEFT JOIN public.turns t ON t.id = i.turn_id WHERE i.id = $1`,
      [inboundId],
    );
    if (rows.length === 0) return 'gone';
    return rows[0]!.status;
  }

  private async load(row: TurnRow | undefined, client: pg.Pool | pg.PoolClient = this.pool): Promise<ClaimedTurn | null> {
    if (!row) return null;
    const { rows } = await client.query<{ payload: unknown }>(`SELECT payload FROM public.inbound_messages WHERE turn_id = $1 ORDER BY seq`, [row.id]);
    return {
      id: row.id,
      botId: row.bot_id,
      conversationId: row.conversation_id,
      channel: row.channel,
      externalChatId: row.external_chat_id,
      kind: row.kind,
      messages: rows.map((r) => inboundFromPayload(r.payload)),
    };
  }

  async unfinished(conversationId: string): Promise<ClaimedTurn | null> {
    const { rows } = await this.pool.query<TurnRow>(
      `SELECT t.id, t.bot_id, t.conversation_id, c.channel, c.external_chat_id, t.kind
         FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
        WHERE t.conversation_id = $1 AND t.status = 'processing'
        ORDER BY t.created_at LIMIT 1`,
      [conversationId],
    );
    return this.load(rows[0]);
  }

  async claimNext(conversationId: string): Promise<ClaimedTurn | null> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; kind: InboundKind; text: string | null; bot_id: string }>(
        `SELECT id, kind, text, bot_id FROM public.inbound_messages
          WHERE conversation_id = $1 AND turn_id IS NULL ORDER BY seq LIMIT 200 FOR UPDATE`,
        [conversationId],
      );
      const first = rows[0];
      if (!first) {
        return null;
      }
      let end = 1;
      if (burstKinds.has(first.kind)) while (end < rows.length && burstKinds.has(rows[end]!.kind)) end += 1;
      const group = rows.slice(0, end);
      const texts = group.filter((r) => r.kind !== 'edited' && r.text).map((r) => r.text as string);
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO public.turns (bot_id, conversation_id, kind, texts) VALUES ($1, $2, $3, $4) RETURNING id`,
        [first.bot_id, conversationId, turnKindOf(first.kind), texts],
      );
      const turnId = inserted.rows[0]!.id;
      await client.query(`UPDATE public.inbound_messages SET turn_id = $1 WHERE id = ANY($2::uuid[])`, [turnId, group.map((r) => r.id)]);
      const turn = await client.query<TurnRow>(
        `SELECT t.id, t.bot_id, t.conversation_id, c.channel, c.external_chat_id, t.kind
           FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id WHERE t.id = $1`,
        [turnId],
      );
      const claimed = await this.load(turn.rows[0], client);
      return claimed;
    });
  }

  async recordAttempt(turnId: string): Promise<void> {
    await this.pool.query(`UPDATE public.turns SET attempts = attempts + 1, updated_at = now() WHERE id = $1`, [turnId]);
  }

  async saveReply(turnId: string, reply: string, sources: TurnSource[]): Promise<void> {
    await this.pool.query(`UPDATE public.turns SET reply = $2, sources = $3, updated_at = now() WHERE id = $1`, [turnId, reply, JSON.stringify(sources)]);
  }

  async finish(turnId: string, status: 'answered' | 'failed', error?: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.turns SET status = $2, error = $3, updated_at = now(), answered_at = CASE WHEN $2 = 'answered' THEN now() END
        WHERE id = $1`,
      [turnId, status, error ?? null],
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
