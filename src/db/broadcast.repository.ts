import type pg from 'pg';
import type { Broadcast, BroadcastRecipient, BroadcastSegment, BroadcastStore, BroadcastTotals } from '../coaching/broadcast.ports.js';
import type { ProactiveStatus } from '../coaching/proactive.ports.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';
import { contactName } from './inbox.repository.js';

/** The contact columns a recipient's name is made from. */
interface ContactNameColumns {
  display_name: string | null;
  username: string | null;
  external_id: string;
}

interface BroadcastRow {
  id: string;
  botId: string;
  text: string;
  segmentType: BroadcastSegment['type'];
  segmentValue: string | null;
  sendAt: Date;
  startedAt: Date | null;
  cancelledAt: Date | null;
  createdAt: Date;
}

const COLUMNS = `id, bot_id AS "botId", text, segment_type AS "segmentType", segment_value AS "segmentValue",
  send_at AS "sendAt", started_at AS "startedAt", cancelled_at AS "cancelledAt", created_at AS "createdAt"`;

function toBroadcast(row: BroadcastRow): Broadcast {
  const segment: BroadcastSegment =
    row.segmentType === 'program'
      ? { type: 'program', programId: row.segmentValue ?? '' }
      : row.segmentType === 'habit'
        ? { type: 'habit', habitId: row.segmentValue ?? '' }
        : row.segmentType === 'tag'
          ? { type: 'tag', tag: row.segmentValue ?? '' }
          : row.segmentType === 'channel'
            ? { type: 'channel', channel: row.segmentValue as 'telegram' | 'whatsapp' | 'web' }
            : { type: 'all' };
  return {
    id: row.id,
    botId: row.botId,
    text: row.text,
    segment,
    sendAt: row.sendAt,
    startedAt: row.startedAt,
    cancelledAt: row.cancelledAt,
    createdAt: row.createdAt,
  };
}

// The recipients of each segment: contact ids of the bot ($1), the segment's value in $2 (null for all).
const SEGMENT_CONTACTS: Record<BroadcastSegment['type'], string> = {
  all: `SELECT k.id FROM public.contacts k WHERE k.bot_id = $1 AND $2::text IS NULL`,
  channel: `SELECT k.id FROM public.contacts k WHERE k.bot_id = $1 AND k.channel = $2`,
  program: `SELECT e.contact_id FROM public.program_enrollments e WHERE e.bot_id = $1 AND e.program_id = $2::uuid AND e.status = 'active'`,
  habit: `SELECT s.contact_id FROM public.habit_subscriptions s WHERE s.bot_id = $1 AND s.habit_id = $2::uuid AND s.status = 'active'`,
  // One range of contact_tags_bot_tag_idx.
  tag: `SELECT t.contact_id FROM public.contact_tags t WHERE t.bot_id = $1 AND t.tag = $2`,
};

function segmentValue(segment: BroadcastSegment): string | null {
  switch (segment.type) {
    case 'program':
      return segment.programId;
    case 'habit':
      return segment.habitId;
    case 'tag':
      return segment.tag;
    case 'channel':
      return segment.channel;
    case 'all':
      return null;
  }
}

/** Broadcasts (`public.broadcasts`) and their recipients, which are proactive sends with `broadcast_id`, stored when it starts. */
export class BroadcastRepository implements BroadcastStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: { botId: string; text: string; segment: BroadcastSegment; sendAt: Date }): Promise<Broadcast> {
    const { rows } = await this.pool.query<BroadcastRow>(
      `INSERT INTO public.broadcasts (bot_id, text, segment_type, segment_value, send_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [input.botId, input.text, input.segment.type, segmentValue(input.segment), input.sendAt],
    );
    return toBroadcast(rows[0]!);
  }

  async start(broadcastId: string): Promise<number | null> {
    if (!isUuid(broadcastId)) return null;
    return inTransaction(this.pool, async (client) => {
      // The row lock orders a start and a cancel: whichever comes second sees what the first did.
      const { rows } = await client.query<BroadcastRow>(
        `UPDATE public.broadcasts SET started_at = now() WHERE id = $1 AND started_at IS NULL AND cancelled_at IS NULL RETURNING ${COLUMNS}`,
        [broadcastId],
      );
      const row = rows[0];
      if (!row) return null;
      const broadcast = toBroadcast(row);
      // One statement for every recipient, each keyed by its effect: running it again adds nobody twice.
      // The message goes to the conversation the contact used last.
      const { rowCount } = await client.query(
        `INSERT INTO public.proactive_sends (bot_id, contact_id, conversation_id, effect_key, kind, due_at, message, broadcast_id)
         SELECT $1, r.id, conv.id, 'broadcast:' || $3::text || ':' || r.id, 'broadcast', $4, jsonb_build_object('text', $5::text), $3::uuid
           FROM (${SEGMENT_CONTACTS[broadcast.segment.type]}) AS r (id)
           CROSS JOIN LATERAL (
             SELECT c.id FROM public.conversations c WHERE c.bot_id = $1 AND c.contact_id = r.id ORDER BY c.updated_at DESC, c.created_at DESC LIMIT 1
           ) conv
         ON CONFLICT (effect_key) DO NOTHING`,
        [broadcast.botId, segmentValue(broadcast.segment), broadcast.id, broadcast.sendAt, broadcast.text],
      );
      return rowCount ?? 0;
    });
  }

  async unstarted(now: Date, graceMs: number, limit: number): Promise<Broadcast[]> {
    const { rows } = await this.pool.query<BroadcastRow>(
      `SELECT ${COLUMNS} FROM public.broadcasts
        WHERE started_at IS NULL AND cancelled_at IS NULL AND send_at <= $1::timestamptz - $2 * interval '1 millisecond'
        ORDER BY send_at LIMIT $3`,
      [now, graceMs, limit],
    );
    return rows.map(toBroadcast);
  }

  async find(botId: string, broadcastId: string): Promise<Broadcast | null> {
    if (!isUuid(broadcastId)) return null;
    const { rows } = await this.pool.query<BroadcastRow>(`SELECT ${COLUMNS} FROM public.broadcasts WHERE bot_id = $1 AND id = $2`, [botId, broadcastId]);
    return rows[0] ? toBroadcast(rows[0]) : null;
  }

  async list(botId: string, page: { limit: number; before?: string }): Promise<Broadcast[]> {
    const { rows } = await this.pool.query<BroadcastRow>(
      `SELECT ${COLUMNS} FROM public.broadcasts b
        WHERE bot_id = $1 AND ($2::uuid IS NULL OR (b.created_at, b.id) < (SELECT created_at, id FROM public.broadcasts WHERE id = $2 AND bot_id = $1))
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      [botId, page.before ?? null, page.limit],
    );
    return rows.map(toBroadcast);
  }

  async totals(broadcastIds: string[]): Promise<Map<string, BroadcastTotals>> {
    const { rows } = await this.pool.query<{ id: string } & BroadcastTotals>(
      `SELECT broadcast_id AS id, count(*)::int AS total,
              count(*) FILTER (WHERE status = 'sent')::int AS sent,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
              count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
              count(*) FILTER (WHERE status = 'scheduled')::int AS pending
         FROM public.proactive_sends WHERE broadcast_id = ANY($1::uuid[]) GROUP BY broadcast_id`,
      [broadcastIds],
    );
    return new Map(rows.map(({ id, ...totals }) => [id, totals]));
  }

  async scheduledSends(broadcastId: string, afterSendId: string | null, limit: number): Promise<Array<{ id: string; dueAt: Date }>> {
    const { rows } = await this.pool.query<{ id: string; dueAt: Date }>(
      `SELECT id, due_at AS "dueAt" FROM public.proactive_sends
        WHERE broadcast_id = $1 AND status = 'scheduled' AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
      [broadcastId, afterSendId, limit],
    );
    return rows;
  }

  async recipients(broadcastId: string, filter: { status?: ProactiveStatus; limit: number; before?: string }): Promise<BroadcastRecipient[]> {
    const { rows } = await this.pool.query<Omit<BroadcastRecipient, 'displayName'> & ContactNameColumns>(
      `SELECT s.id AS "sendId", s.contact_id AS "contactId", k.channel, s.status, s.reason, s.settled_at AS "settledAt", k.display_name, k.username, k.external_id
         FROM public.proactive_sends s JOIN public.contacts k ON k.id = s.contact_id
        WHERE s.broadcast_id = $1 AND ($2::text IS NULL OR s.status = $2) AND ($3::uuid IS NULL OR s.id < $3)
        ORDER BY s.id DESC LIMIT $4`,
      [broadcastId, filter.status ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map(({ display_name, username, external_id, ...r }) => ({
      ...r,
      displayName: contactName({ display_name, username, external_id, channel: r.channel, contact_id: r.contactId }),
    }));
  }

  async cancel(botId: string, broadcastId: string, reason: string): Promise<number | null> {
    if (!isUuid(broadcastId)) return null;
    return inTransaction(this.pool, async (client) => {
      const found = await client.query(`SELECT 1 FROM public.broadcasts WHERE id = $1 AND bot_id = $2 FOR UPDATE`, [broadcastId, botId]);
      if ((found.rowCount ?? 0) === 0) return null;
      // A broadcast already delivered to everyone stays done; one whose recipients are not chosen yet never starts.
      await client.query(
        `UPDATE public.broadcasts SET cancelled_at = COALESCE(cancelled_at, now())
          WHERE id = $1 AND (started_at IS NULL OR EXISTS (SELECT 1 FROM public.proactive_sends WHERE broadcast_id = $1 AND status = 'scheduled'))`,
        [broadcastId],
      );
      // Locking the scheduled sends first makes a claim in progress finish (or wait and then find the
      // send cancelled); the ledger is read after the locks, so a message being sent is left alone.
      await client.query(`SELECT 1 FROM public.proactive_sends WHERE broadcast_id = $1 AND status = 'scheduled' FOR UPDATE`, [broadcastId]);
      const { rows } = await client.query<{ key: string }>(
        `UPDATE public.proactive_sends s SET status = 'cancelled', reason = $2, settled_at = now(), updated_at = now()
          WHERE s.broadcast_id = $1 AND s.status = 'scheduled'
            AND NOT EXISTS (SELECT 1 FROM public.outbound_messages o WHERE o.dedupe_key = s.effect_key AND o.status IN ('sending', 'sent'))
          RETURNING s.effect_key AS key`,
        [broadcastId, reason],
      );
      // A ledger row opened but not claimed is closed with the same reason.
      await client.query(`UPDATE public.outbound_messages SET status = 'failed', error = $2, updated_at = now() WHERE dedupe_key = ANY($1::text[]) AND status = 'pending'`, [
        rows.map((r) => r.key),
        reason,
      ]);
      return rows.length;
    });
  }

  async habitExists(botId: string, habitId: string): Promise<boolean> {
    if (!isUuid(habitId)) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM public.habits WHERE bot_id = $1 AND id = $2`, [botId, habitId]);
    return rows.length > 0;
  }

  async programExists(botId: string, programId: string): Promise<boolean> {
    if (!isUuid(programId)) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM public.programs WHERE bot_id = $1 AND id = $2`, [botId, programId]);
    return rows.length > 0;
  }
}
