import type pg from 'pg';
import type { InboundMessage } from '../conversation/channel.ports.js';
import type { InboundStore, ReceivedInbound } from '../conversation/turn.ports.js';
import { PreparedStatements } from './prepared-statement.js';

/** Reads a stored payload back into an InboundMessage (dates travel through JSON as strings). */
export function inboundFromPayload(payload: unknown): InboundMessage {
  const message = payload as InboundMessage & { sentAt: string | Date };
  return { ...message, sentAt: new Date(message.sentAt) };
}

interface PendingReceive {
  botId: string;
  message: InboundMessage;
  resolve(result: ReceivedInbound): void;
  reject(error: unknown): void;
}

export interface InboundRepositoryOptions {
  /** Messages written by one statement at most. */
  maxBatch?: number;
  /** Statements writing messages at once; further messages wait and go together in the next one. */
  maxInFlight?: number;
  /** Prepare the hot statements once per connection (PostgreSQL; not the embedded database). */
  prepared?: boolean;
}

// Upserts every message's contact and conversation and inserts the messages, in one statement
// (so in one implicit transaction: all of it is committed or none). Contacts and conversations are
// locked in key order, so two batches touching the same rows cannot deadlock on them. It answers
// one row per message inserted and one per message stored before (a redelivery), keyed by bot,
// channel and external id. Both read the snapshot taken before the statement, so a message committed
// concurrently by another writer shows as neither and is looked up afterwards.
// The messages stored by one statement share one arrival time (their order is seq), which is also
// their conversation's last_message_at, the inbox's order; a redelivery moves nothing.
const RECEIVE_SQL = `
WITH arrived AS (SELECT clock_timestamp() AS at),
input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
    WITH ORDINALITY AS i(bot_id, channel, contact_external_id, display_name, username, language_code, sent_at,
                         external_chat_id, external_id, kind, text, payload, ord)
),
contacts_upserted AS (
  INSERT INTO public.contacts (bot_id, channel, external_id, display_name, username, language_code, last_inbound_at)
  SELECT bot_id, channel, contact_external_id,
         (array_agg(display_name ORDER BY ord DESC) FILTER (WHERE display_name IS NOT NULL))[1],
         (array_agg(username ORDER BY ord DESC) FILTER (WHERE username IS NOT NULL))[1],
         (array_agg(language_code ORDER BY ord DESC) FILTER (WHERE language_code IS NOT NULL))[1],
         max(sent_at)
    FROM input GROUP BY bot_id, channel, contact_external_id ORDER BY bot_id, channel, contact_external_id
  ON CONFLICT (bot_id, channel, external_id) DO UPDATE SET
    display_name = COALESCE(EXCLUDED.display_name, contacts.display_name),
    username = COALESCE(EXCLUDED.username, contacts.username),
    language_code = COALESCE(EXCLUDED.language_code, contacts.language_code),
    last_inbound_at = GREATEST(contacts.last_inbound_at, EXCLUDED.last_inbound_at),
    updated_at = now()
  RETURNING id, bot_id, channel, external_id
),
-- Ids by key as jsonb objects: the planner cannot estimate how many rows an upsert returns and
-- would join them row by row against every message (quadratic in the batch size).
contact_ids AS (
  SELECT jsonb_object_agg(bot_id || ' ' || channel || ' ' || external_id, id) AS ids FROM contacts_upserted
),
messages AS (
  SELECT i.*, ((SELECT ids FROM contact_ids) ->> (i.bot_id || ' ' || i.channel || ' ' || i.contact_external_id))::uuid AS contact_id,
         NOT EXISTS (SELECT 1 FROM public.inbound_messages old
                      WHERE old.bot_id = i.bot_id AND old.channel = i.channel AND old.external_id = i.external_id) AS fresh
    FROM input i
),
conversations_upserted AS (
  -- A new conversation belongs to the contact of its first message. Only new messages move it up
  -- the inbox (the epoch stands for "no new message" and loses every GREATEST).
  INSERT INTO public.conversations (bot_id, contact_id, channel, external_chat_id, last_message_at)
  SELECT DISTINCT ON (bot_id, channel, external_chat_id) bot_id, contact_id, channel, external_chat_id,
         CASE WHEN bool_or(fresh) OVER (PARTITION BY bot_id, channel, external_chat_id) THEN (SELECT at FROM arrived)
              ELSE timestamptz 'epoch' END
    FROM messages ORDER BY bot_id, channel, external_chat_id, ord
  ON CONFLICT (bot_id, channel, external_chat_id) DO UPDATE SET
    updated_at = now(),
    last_message_at = GREATEST(conversations.last_message_at, EXCLUDED.last_message_at)
  RETURNING id, bot_id, channel, external_chat_id
),
conversation_ids AS (
  SELECT jsonb_object_agg(bot_id || ' ' || channel || ' ' || external_chat_id, id) AS ids FROM conversations_upserted
),
inserted AS (
  INSERT INTO public.inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at)
  SELECT m.bot_id, m.channel, m.external_id,
         ((SELECT ids FROM conversation_ids) ->> (m.bot_id || ' ' || m.channel || ' ' || m.external_chat_id))::uuid,
         m.contact_id, m.kind, m.text, m.payload::jsonb, (SELECT at FROM arrived)
    FROM messages m
   ORDER BY m.ord
  ON CONFLICT (bot_id, channel, external_id) DO NOTHING
  RETURNING id, bot_id, channel, external_id, conversation_id
)
SELECT true AS created, id, bot_id, channel, external_id, conversation_id FROM inserted
UNION ALL
SELECT false, old.id, old.bot_id, old.channel, old.external_id, old.conversation_id
  FROM input i JOIN public.inbound_messages old ON old.bot_id = i.bot_id AND old.channel = i.channel AND old.external_id = i.external_id`;

/**
 * The oldest message of conversation $1 not yet claimed into a turn and received at least $2 ms ago
 * (its merge window has passed): what a job waiting behind a finished turn may be answered for.
 */
export const NEXT_DUE_MESSAGE_SQL = `SELECT id FROM public.inbound_messages
  WHERE conversation_id = $1 AND turn_id IS NULL AND received_at <= clock_timestamp() - $2 * interval '1 millisecond'
  ORDER BY seq LIMIT 1`;

/** SQLSTATE classes caused by one row's data (22 data exception, 23 constraint violation). */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** Deadlock or serialization failure: the same statement succeeds when run again. */
function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

const keyOf = (botId: string, message: InboundMessage) => `${botId}\u0000${message.channel}\u0000${message.externalId}`;

/**
 * Inbound messages with their contacts and conversations (`public.inbound_messages`).
 *
 * Webhooks arrive many at a time under load, and each must be committed before it is acknowledged.
 * Messages that arrive while earlier writes are in flight are written together by one statement (a
 * group commit): one round trip and one commit for the lot instead of a transaction each. A lone
 * message is written at once. A batch the database rejects because of one row's data is written
 * again row by row, so only that message fails.
 */
export class InboundRepository implements InboundStore {
  private readonly queue: PendingReceive[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly statements: PreparedStatements;

  constructor(
    private readonly pool: pg.Pool,
    options: InboundRepositoryOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  receive(botId: string, message: InboundMessage): Promise<ReceivedInbound> {
    return new Promise<ReceivedInbound>((resolve, reject) => {
      this.queue.push({ botId, message, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.maxInFlight) return;
    this.flushScheduled = true;
    // After the current I/O callbacks: the webhooks parsed in this turn of the event loop go together.
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.inFlight += 1;
        void this.write(batch).finally(() => {
          this.inFlight -= 1;
          if (this.queue.length > 0) this.scheduleFlush();
        });
      }
    });
  }

  private async write(batch: PendingReceive[]): Promise<void> {
    // The same update twice in one batch (a redelivery racing the original): one row, the later ones duplicates.
    const groups = new Map<string, PendingReceive[]>();
    for (const item of batch) {
      const key = keyOf(item.botId, item.message);
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    const unique = [...groups.values()];
    const settle = (group: PendingReceive[], result: ReceivedInbound) => {
      group[0]!.resolve(result);
      for (const later of group.slice(1)) later.resolve({ ...result, created: false });
    };
    try {
      const results = await this.insertRetrying(unique.map((g) => g[0]!));
      unique.forEach((group, i) => settle(group, results[i]!));
    } catch (err) {
      if (unique.length === 1 || !isRowError(err)) {
        for (const item of batch) item.reject(err);
        return;
      }
      // One message's data was refused: write each alone so the others are still stored.
      await Promise.all(
        unique.map(async (group) => {
          try {
            const [result] = await this.insertRetrying([group[0]!]);
            settle(group, result!);
          } catch (rowError) {
            for (const item of group) item.reject(rowError);
          }
        }),
      );
    }
  }

  private async insertRetrying(items: Array<Pick<PendingReceive, 'botId' | 'message'>>): Promise<ReceivedInbound[]> {
    try {
      return await this.insert(items);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      return this.insert(items);
    }
  }

  private async insert(items: Array<Pick<PendingReceive, 'botId' | 'message'>>): Promise<ReceivedInbound[]> {
    const columns: unknown[][] = Array.from({ length: 12 }, () => []);
    for (const { botId, message } of items) {
      const { contact } = message;
      const values = [
        botId,
        message.channel,
        contact.externalId,
        contact.displayName ?? null,
        contact.username ?? null,
        contact.languageCode ?? null,
        message.sentAt,
        message.conversationId,
        message.externalId,
        message.kind,
        message.text ?? null,
        JSON.stringify(message),
      ];
      values.forEach((v, i) => columns[i]!.push(v));
    }
    const { rows } = await this.pool.query<{ created: boolean; id: string; bot_id: string; channel: string; external_id: string; conversation_id: string }>(
      this.statements.query('inbound_receive', RECEIVE_SQL, columns),
    );
    const stored = new Map(rows.map((r) => [`${r.bot_id}\u0000${r.channel}\u0000${r.external_id}`, r]));
    const results: ReceivedInbound[] = [];
    for (const { botId, message } of items) {
      let row = stored.get(keyOf(botId, message));
      if (!row) {
        // Stored by a concurrent writer after this statement's snapshot was taken: read it now.
        const existing = await this.pool.query<{ id: string; conversation_id: string }>(
          `SELECT id, conversation_id FROM public.inbound_messages WHERE bot_id = $1 AND channel = $2 AND external_id = $3`,
          [botId, message.channel, message.externalId],
        );
        const found = existing.rows[0]!;
        row = { created: false, id: found.id, bot_id: botId, channel: message.channel, external_id: message.externalId, conversation_id: found.conversation_id };
      }
      results.push({ inboundId: row.id, conversationId: row.conversation_id, created: row.created });
    }
    return results;
  }

  async unfinished(olderThanMs: number, limit: number): Promise<Array<{ inboundId: string; botId: string }>> {
    const { rows } = await this.pool.query<{ id: string; bot_id: string }>(
      `SELECT id, bot_id FROM (
         (SELECT id, bot_id, received_at FROM public.inbound_messages
           WHERE turn_id IS NULL AND received_at < clock_timestamp() - $1 * interval '1 millisecond'
           ORDER BY received_at LIMIT $2)
         UNION ALL
         (SELECT DISTINCT ON (t.id) i.id, i.bot_id, i.received_at
            FROM public.turns t JOIN public.inbound_messages i ON i.conversation_id = t.conversation_id AND i.turn_id = t.id
           WHERE t.status = 'processing' AND t.updated_at < clock_timestamp() - $1 * interval '1 millisecond'
           ORDER BY t.id, i.seq LIMIT $2)
       ) pending
       ORDER BY received_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((r) => ({ inboundId: r.id, botId: r.bot_id }));
  }
}
