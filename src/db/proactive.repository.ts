import type pg from 'pg';
import type { OutboundRecord } from '../conversation/turn.ports.js';
import type { BotEventPublisher } from '../events/bot-event.types.js';
import { DEFAULT_QUIET_HOURS, parseClockTime, type QuietHours } from '../coaching/local-time.js';
import type {
  CoachingContact,
  CoachingContacts,
  CoachingSettings,
  ContactGate,
  OptOutSource,
  ProactiveSend,
  ProactiveStatus,
  ProactiveStore,
  ScheduleInput,
} from '../coaching/proactive.ports.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';
import { LEDGER_EVENT_COLUMNS, publishLedgerChanges, type LedgerEventRow } from './ledger-events.js';
import { openLedgerRow } from './outbound.repository.js';

const SEND_COLUMNS = `s.id, s.bot_id AS "botId", s.contact_id AS "contactId", s.conversation_id AS "conversationId",
  c.channel, c.external_chat_id AS "externalChatId", s.effect_key AS "effectKey", s.kind, s.due_at AS "dueAt",
  s.message, s.status, s.reason, s.created_at AS "createdAt", s.held_at AS "heldAt"`;


const CONTACT_COLUMNS = `k.id, k.bot_id AS "botId", k.channel, k.external_id AS "externalId",
  cc.time_zone AS "timeZone", cc.time_zone_source AS "timeZoneSource", cc.opted_out_at IS NOT NULL AS "optedOut"`;

/** Serialises work per key inside one process (the embedded database runs one process). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Proactive sends (`public.proactive_sends`), their ledger rows (`outbound_messages.dedupe_key` =
 * effect key) and the contacts' coaching rows (`public.contact_coaching`).
 *
 * `whileHeld` holds the contact's coaching row FOR SHARE in a transaction while a send talks to the
 * channel, and an opt-out's UPDATE of that row waits for it. The embedded database serialises
 * transactions across connections (the ledger writes inside would wait on the hold), so there the
 * hold is an in-process lock instead, which is enough for its single process.
 */
export class ProactiveRepository implements ProactiveStore, CoachingContacts, CoachingSettings {
  private readonly local = new KeyedMutex();

  constructor(
    private readonly pool: pg.Pool,
    /** `events`: told when a ledger row changes (the creators' live events). */
    private readonly options: { embedded: boolean; events?: BotEventPublisher },
  ) {}

  async schedule(input: ScheduleInput): Promise<ProactiveSend> {
    await this.pool.query(
      `INSERT INTO public.proactive_sends (bot_id, contact_id, conversation_id, effect_key, kind, due_at, message)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (effect_key) DO UPDATE SET status = 'scheduled', reason = NULL, due_at = EXCLUDED.due_at,
         message = EXCLUDED.message, conversation_id = EXCLUDED.conversation_id, settled_at = NULL, updated_at = now()
       WHERE proactive_sends.status = 'cancelled'`,
      [input.botId, input.contactId, input.conversationId, input.effectKey, input.kind, input.dueAt, input.message ? JSON.stringify(input.message) : null],
    );
    const { rows } = await this.pool.query<ProactiveSend>(
      `SELECT ${SEND_COLUMNS} FROM public.proactive_sends s JOIN public.conversations c ON c.id = s.conversation_id WHERE s.effect_key = $1`,
      [input.effectKey],
    );
    return rows[0]!;
  }

  async find(sendId: string): Promise<ProactiveSend | null> {
    if (!isUuid(sendId)) return null;
    const { rows } = await this.pool.query<ProactiveSend>(
      `SELECT ${SEND_COLUMNS} FROM public.proactive_sends s JOIN public.conversations c ON c.id = s.conversation_id WHERE s.id = $1`,
      [sendId],
    );
    return rows[0] ?? null;
  }

  /** A bot's proactive sends, newest due first (what creators see). */
  async list(botId: string, filter: { contactId?: string; status?: ProactiveStatus; limit: number }): Promise<ProactiveSend[]> {
    const { rows } = await this.pool.query<ProactiveSend>(
      `SELECT ${SEND_COLUMNS} FROM public.proactive_sends s JOIN public.conversations c ON c.id = s.conversation_id
        WHERE s.bot_id = $1 AND ($2::uuid IS NULL OR s.contact_id = $2) AND ($3::text IS NULL OR s.status = $3)
        ORDER BY s.due_at DESC LIMIT $4`,
      [botId, filter.contactId ?? null, filter.status ?? null, filter.limit],
    );
    return rows;
  }

  async moveDue(sendId: string, dueAt: Date): Promise<void> {
    await this.pool.query(`UPDATE public.proactive_sends SET due_at = $2, updated_at = now() WHERE id = $1 AND status = 'scheduled'`, [sendId, dueAt]);
  }

  async settle(sendId: string, status: Exclude<ProactiveStatus, 'scheduled'>, reason: string | null, outboundId?: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.proactive_sends SET status = $2, reason = $3, outbound_id = COALESCE($4, outbound_id), settled_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'scheduled'`,
      [sendId, status, reason, outboundId ?? null],
    );
    return (rowCount ?? 0) > 0;
  }

  async cancelByPrefix(botId: string, prefix: string, reason: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.proactive_sends SET status = 'cancelled', reason = $3, settled_at = now(), updated_at = now()
        WHERE bot_id = $1 AND status = 'scheduled' AND starts_with(effect_key, $2)`,
      [botId, prefix, reason],
    );
    return rowCount ?? 0;
  }

  async due(now: Date, graceMs: number, limit: number): Promise<Array<{ id: string; botId: string; dueAt: Date }>> {
    const { rows } = await this.pool.query<{ id: string; botId: string; dueAt: Date }>(
      `SELECT s.id, s.bot_id AS "botId", s.due_at AS "dueAt" FROM public.proactive_sends s
        WHERE s.status = 'scheduled' AND s.due_at <= $1::timestamptz - $2 * interval '1 millisecond'
          AND NOT (s.held_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM public.conversations c WHERE c.id = s.conversation_id AND c.taken_over_at IS NOT NULL))
        ORDER BY s.due_at LIMIT $3`,
      [now, graceMs, limit],
    );
    return rows;
  }

  async whileHeld<T>(contactId: string, work: (gate: ContactGate) => Promise<T>): Promise<T> {
    await this.ensureCoachingRow(contactId);
    const gateQuery = `SELECT cc.opted_out_at IS NOT NULL AS "optedOut", cc.opted_out_by AS "optedOutBy", cc.forgotten_at AS "forgottenAt",
        (SELECT k.blocked_at IS NOT NULL FROM public.contacts k WHERE k.id = cc.contact_id) AS blocked
       FROM public.contact_coaching cc WHERE cc.contact_id = $1`;
    if (this.options.embedded) {
      return this.local.run(contactId, async () => {
        const { rows } = await this.pool.query<ContactGate>(gateQuery, [contactId]);
        return work(rows[0] ?? { optedOut: false, forgottenAt: null, blocked: false });
      });
    }
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<ContactGate>(`${gateQuery} FOR SHARE OF cc`, [contactId]);
      return work(rows[0] ?? { optedOut: false, forgottenAt: null, blocked: false });
    });
  }

  openLedger(send: Pick<ProactiveSend, 'botId' | 'conversationId' | 'effectKey'>): Promise<OutboundRecord> {
    return openLedgerRow(this.pool, 'dedupe_key', { botId: send.botId, conversationId: send.conversationId, key: send.effectKey });
  }

  async claimLedger(id: string, text: string, staleMs: number, options: { unlessTakenOver?: boolean } = {}): Promise<'claimed' | 'busy' | 'taken_over'> {
    const { rows } = await this.pool.query<{ held: boolean; changed: LedgerEventRow | null }>(
      // The send must still be scheduled, read FOR SHARE: a cancel (an UPDATE of that row) either ends
      // before the claim, which then finds it cancelled, or waits for it and then sees the claim. The
      // conversation is read FOR SHARE too (as a reply's guard does, src/db/turn.repository.ts): a
      // takeover stored first is seen, one arriving meanwhile waits until the claim has decided.
      `WITH guard AS (
         SELECT $4::boolean AND COALESCE((SELECT c.taken_over_at IS NOT NULL FROM public.outbound_messages o
                  JOIN public.conversations c ON c.id = o.conversation_id WHERE o.id = $1 FOR SHARE OF c), false) AS held
       ),
       dropped AS (
         DELETE FROM public.outbound_messages WHERE id = $1 AND status = 'pending' AND (SELECT held FROM guard) RETURNING id
       ),
       claimed AS (
         UPDATE public.outbound_messages SET status = 'sending', text = $2, attempts = attempts + 1, updated_at = now()
          WHERE id = $1 AND NOT (SELECT held FROM guard)
            AND (status = 'pending' OR (status = 'sending' AND updated_at < now() - $3 * interval '1 millisecond'))
            AND EXISTS (SELECT 1 FROM public.proactive_sends p WHERE p.effect_key = outbound_messages.dedupe_key AND p.status = 'scheduled' FOR SHARE)
         RETURNING ${LEDGER_EVENT_COLUMNS}
       )
       SELECT EXISTS (SELECT 1 FROM dropped) AS held, (SELECT to_jsonb(c) FROM claimed c) AS changed`,
      [id, text, staleMs, options.unlessTakenOver ?? false],
    );
    const changed = rows[0]?.changed;
    if (changed) {
      publishLedgerChanges(this.options.events, [changed]);
      return 'claimed';
    }
    // A row another attempt is sending is left to it, taken over or not.
    return rows[0]?.held ? 'taken_over' : 'busy';
  }

  async takenOver(conversationId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ held: boolean }>(`SELECT taken_over_at IS NOT NULL AS held FROM public.conversations WHERE id = $1`, [conversationId]);
    return rows[0]?.held ?? false;
  }

  async hold(sendId: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.proactive_sends SET held_at = COALESCE(held_at, now()), reason = $2, updated_at = now() WHERE id = $1 AND status = 'scheduled'`,
      [sendId, reason],
    );
  }

  async heldBefore(send: Pick<ProactiveSend, 'id' | 'conversationId' | 'dueAt'>): Promise<boolean> {
    const { rows } = await this.pool.query<{ waiting: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM public.proactive_sends
                       WHERE conversation_id = $1 AND status = 'scheduled' AND held_at IS NOT NULL AND (due_at, id) < ($2::timestamptz, $3::uuid)) AS waiting`,
      [send.conversationId, send.dueAt, send.id],
    );
    return rows[0]?.waiting ?? false;
  }

  async heldSends(conversationId: string): Promise<Array<{ id: string; botId: string }>> {
    const { rows } = await this.pool.query<{ id: string; botId: string }>(
      `SELECT id, bot_id AS "botId" FROM public.proactive_sends
        WHERE conversation_id = $1 AND status = 'scheduled' AND held_at IS NOT NULL ORDER BY due_at, id`,
      [conversationId],
    );
    return rows;
  }

  async releaseLedger(id: string): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'pending', updated_at = now() WHERE id = $1 AND status = 'sending' RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id],
    );
    publishLedgerChanges(this.options.events, rows);
  }

  async markSent(id: string, messageIds: string[]): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'sent', external_message_ids = $2, error = NULL, sent_at = now(), updated_at = now() WHERE id = $1
       RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id, messageIds],
    );
    publishLedgerChanges(this.options.events, rows);
  }

  async markFailed(id: string, error: string): Promise<void> {
    const { rows } = await this.pool.query<LedgerEventRow>(
      `UPDATE public.outbound_messages SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 RETURNING ${LEDGER_EVENT_COLUMNS}`,
      [id, error],
    );
    publishLedgerChanges(this.options.events, rows);
  }

  async recipientOfSent(botId: string, externalMessageId: string): Promise<string | null> {
    // Replies (ledger rows with a turn) are not proactive: only a send's own ledger row counts. No
    // LIMIT: with one the planner prefers scanning the ledger to outbound_messages_external_ids_idx.
    const { rows } = await this.pool.query<{ contactId: string }>(
      `SELECT p.contact_id AS "contactId" FROM public.outbound_messages o
         JOIN public.proactive_sends p ON p.effect_key = o.dedupe_key
        WHERE o.external_message_ids @> ARRAY[$2::text] AND o.bot_id = $1`,
      [botId, externalMessageId],
    );
    return rows[0]?.contactId ?? null;
  }

  // ---- contacts ----

  private async ensureCoachingRow(contactId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.contact_coaching (contact_id, bot_id) SELECT id, bot_id FROM public.contacts WHERE id = $1 ON CONFLICT (contact_id) DO NOTHING`,
      [contactId],
    );
  }

  async ofConversation(conversationId: string): Promise<CoachingContact | null> {
    if (!isUuid(conversationId)) return null;
    const { rows } = await this.pool.query<{ id: string }>(`SELECT contact_id AS id FROM public.conversations WHERE id = $1`, [conversationId]);
    const contactId = rows[0]?.id;
    if (!contactId) return null;
    await this.ensureCoachingRow(contactId);
    return this.contact(`k.id = $1`, [contactId]);
  }

  async findContact(botId: string, contactId: string): Promise<CoachingContact | null> {
    if (!isUuid(botId) || !isUuid(contactId)) return null;
    return this.contact(`k.bot_id = $1 AND k.id = $2`, [botId, contactId]);
  }

  private async contact(where: string, params: unknown[]): Promise<CoachingContact | null> {
    const { rows } = await this.pool.query<CoachingContact>(
      `SELECT ${CONTACT_COLUMNS} FROM public.contacts k LEFT JOIN public.contact_coaching cc ON cc.contact_id = k.id WHERE ${where}`,
      params,
    );
    const row = rows[0];
    return row ? { ...row, optedOut: row.optedOut ?? false } : null;
  }

  async latestConversation(botId: string, contactId: string): Promise<string | null> {
    if (!isUuid(botId) || !isUuid(contactId)) return null;
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM public.conversations WHERE bot_id = $1 AND contact_id = $2 ORDER BY updated_at DESC, created_at DESC LIMIT 1`,
      [botId, contactId],
    );
    return rows[0]?.id ?? null;
  }

  async setTimeZone(contactId: string, zone: string, source: 'phone' | 'user' | 'api'): Promise<void> {
    await this.ensureCoachingRow(contactId);
    await this.pool.query(`UPDATE public.contact_coaching SET time_zone = $2, time_zone_source = $3, updated_at = now() WHERE contact_id = $1`, [
      contactId,
      zone,
      source,
    ]);
  }

  async setOptedOut(contactId: string, optedOut: boolean, by: OptOutSource = 'user'): Promise<void> {
    await this.ensureCoachingRow(contactId);
    // The row lock is taken first and the time read after it: a plain UPDATE computes its new values
    // (clock_timestamp() included) before it waits on the send in flight.
    const update = () =>
      inTransaction(this.pool, async (client) => {
        await client.query(`SELECT 1 FROM public.contact_coaching WHERE contact_id = $1 FOR UPDATE`, [contactId]);
        await client.query(
          `UPDATE public.contact_coaching SET opted_out_at = CASE WHEN $2 THEN COALESCE(opted_out_at, clock_timestamp()) END,
             opted_out_by = CASE WHEN $2 THEN COALESCE(CASE WHEN opted_out_at IS NOT NULL THEN opted_out_by END, $3) END, updated_at = now()
            WHERE contact_id = $1`,
          [contactId, optedOut, by],
        );
      });
    // On PostgreSQL the row lock makes the opt-out wait for a send in flight; embedded, the local lock does.
    if (this.options.embedded) await this.local.run(contactId, update);
    else await update();
  }

  // ---- settings ----

  async quietHours(botId: string): Promise<QuietHours> {
    const { rows } = await this.pool.query<{ start: string | null; end: string | null }>(
      `SELECT settings->>'quietHoursStart' AS start, settings->>'quietHoursEnd' AS "end" FROM public.bots WHERE id = $1`,
      [botId],
    );
    const start = rows[0]?.start ? parseClockTime(rows[0].start) : null;
    const end = rows[0]?.end ? parseClockTime(rows[0].end) : null;
    return { startMinute: start ?? DEFAULT_QUIET_HOURS.startMinute, endMinute: end ?? DEFAULT_QUIET_HOURS.endMinute };
  }
}
