import type pg from 'pg';
import type { ChannelName, InboundKind } from '../conversation/channel.ports.js';
import type {
  AttachmentSummary,
  InboxConversation,
  InboxPage,
  InboxQuery,
  InboxStore,
  TranscriptItem,
  TranscriptPage,
  TranscriptPosition,
} from '../conversation/inbox.ports.js';
import type { TurnSource } from '../conversation/types.js';
import { isUuid } from '../postgres/ids.js';

// Positions travel as whole microseconds since the epoch: a JavaScript Date would drop the
// database's last three digits, and keyset paging needs the exact value.
const micros = (expr: string) => `(extract(epoch FROM ${expr}) * 1000000)::bigint::text`;
const fromMicros = (param: string) => `(timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond')`;

/** Numbered parameters for a statement assembled from optional parts. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

// The last user message (what the bot is expected to answer; a block or unblock is no message)
// has no answered turn yet: not claimed, being answered, or its turn failed. A turn held while a
// person had the conversation is settled: the person answers, not the bot.
const unanswered = (c: string) => `COALESCE((
  SELECT i.turn_id IS NULL OR t.status IS NULL OR t.status NOT IN ('answered', 'held')
    FROM public.inbound_messages i LEFT JOIN public.turns t ON t.id = i.turn_id
   WHERE i.conversation_id = ${c}.id AND i.kind <> 'contact_status'
   ORDER BY i.seq DESC LIMIT 1), false)`;

// The last reply was the bot's "I don't know": one of the unknown replies, with no sources, as the
// engine writes it when nothing in the material answered (the weekly digest's rule).
const unknown = (c: string, replies: string) => `COALESCE((
  SELECT t.kind = 'message' AND t.sources = '[]'::jsonb AND t.reply = ANY(${replies}::text[])
    FROM public.turns t
   WHERE t.conversation_id = ${c}.id AND t.reply IS NOT NULL
   ORDER BY t.created_at DESC LIMIT 1), false)`;

// The creator's own messages are proactive sends keyed `creator:<conversation>:<client id>` (src/conversation/takeover.service.ts).
const CREATOR_KEY = (o: string) => `COALESCE(starts_with(${o}.dedupe_key, 'creator:'), false)`;

// Transcript items go newest first by (time, rank, key): at one instant a user message (rank 0)
// comes before the bot's (1), and both before events (2). "Strictly before" a position, per rank.
const RANKS = { user: 0, bot: 1, event: 2 } as const;
function before(rank: number, position: { rank: number; at: string; key: string }, at: string, key: string, keyType: string): string {
  if (rank < position.rank) return `AND ${at} <= ${position.at}`;
  if (rank > position.rank) return `AND ${at} < ${position.at}`;
  return `AND ${at} <= ${position.at} AND (${at} < ${position.at} OR ${key} < ${position.key}::${keyType})`;
}

interface ConversationRow {
  id: string;
  at_micros: string;
  as_of_micros: string;
  channel: ChannelName;
  last_message_at: Date;
  contact_id: string;
  display_name: string | null;
  username: string | null;
  external_id: string;
  tags: string[];
  user_text: string | null;
  user_at: Date | null;
  bot_text: string | null;
  bot_at: Date | null;
  bot_is_reply: boolean | null;
  bot_is_creator: boolean | null;
  unanswered: boolean;
  unknown: boolean;
  taken_over: boolean;
  wants_human: boolean;
}

interface TranscriptRow {
  source: 'user' | 'bot' | 'event';
  id: string;
  seq: string | null;
  at: Date;
  at_micros: string;
  kind: InboundKind | null;
  text: string | null;
  attachments: unknown;
  is_reply: boolean | null;
  is_creator: boolean | null;
  held: boolean | null;
  event: 'takeover' | 'release' | 'human_requested' | null;
  actor: 'creator' | 'idle' | 'contact' | null;
  status: 'pending' | 'sending' | 'sent' | 'failed' | null;
  error: string | null;
  sent_at: Date | null;
  sources: TurnSource[] | null;
}

/** What the inbox (and the contact list) shows for a contact: their name on the channel, or a stand-in that tells them apart. */
export function contactName(row: Pick<ConversationRow, 'display_name' | 'username' | 'channel' | 'contact_id' | 'external_id'>): string {
  if (row.display_name?.trim()) return row.display_name.trim();
  if (row.username) return `@${row.username}`;
  if (row.channel === 'web') return `Visitor ${row.contact_id.slice(0, 8)}`;
  if (row.channel === 'whatsapp') return `+${row.external_id}`;
  return `Telegram user ${row.external_id}`;
}

function toConversation(row: ConversationRow): InboxConversation {
  // Messages stored at the same instant: the user's came first, the bot's answers them.
  const botIsLatest = row.bot_at !== null && (row.user_at === null || row.bot_at >= row.user_at);
  const lastMessage = botIsLatest
    ? { type: row.bot_is_reply ? ('reply' as const) : row.bot_is_creator ? ('creator' as const) : ('notice' as const), text: row.bot_text, at: row.bot_at! }
    : row.user_at
      ? { type: 'user' as const, text: row.user_text, at: row.user_at }
      : null;
  return {
    id: row.id,
    channel: row.channel,
    contact: { id: row.contact_id, displayName: contactName(row), username: row.username, tags: row.tags },
    lastMessage,
    lastMessageAt: row.last_message_at,
    unanswered: row.unanswered,
    unknown: row.unknown,
    takenOver: row.taken_over,
    wantsHuman: row.wants_human,
  };
}

function summarise(attachments: unknown): AttachmentSummary[] {
  if (!Array.isArray(attachments)) return [];
  return attachments.map((a: Record<string, unknown>) => ({
    type: typeof a.type === 'string' ? a.type : 'other',
    ...(typeof a.fileName === 'string' ? { fileName: a.fileName } : {}),
    ...(typeof a.mimeType === 'string' ? { mimeType: a.mimeType } : {}),
    ...(typeof a.sizeBytes === 'number' ? { sizeBytes: a.sizeBytes } : {}),
  }));
}

function toItem(row: TranscriptRow): TranscriptItem {
  if (row.source === 'user') {
    return { type: 'user', id: row.id, kind: row.kind!, text: row.text, attachments: summarise(row.attachments), held: row.held ?? false, at: row.at };
  }
  if (row.source === 'event') return { type: 'event', id: row.id, event: row.event!, by: row.actor!, at: row.at };
  return {
    type: row.is_reply ? 'reply' : row.is_creator ? 'creator' : 'notice',
    id: row.id,
    text: row.text,
    sources: row.sources ?? [],
    delivery: { status: row.status!, error: row.error, sentAt: row.sent_at },
    at: row.at,
  };
}

/**
 * The creators' inbox, read from conversations, inbound messages, turns and the outbound ledger.
 * Every statement is scoped by the bot id it is given.
 */
export class InboxRepository implements InboxStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(botId: string, query: InboxQuery): Promise<InboxPage> {
    const p = new Params();
    const bot = p.add(botId);
    const replies = p.add(query.unknownReplies);
    const limit = p.add(query.limit + 1);
    const asOf = p.add(query.after?.asOfMicros ?? null);
    const filters = (c: string) => {
      const parts: string[] = [];
      if (query.channel) parts.push(`${c}.channel = ${p.add(query.channel)}`);
      if (query.search) {
        const q = `websearch_to_tsquery('simple', ${p.add(query.search)})`;
        // Every word of the query said somewhere in the conversation, by the user or the bot.
        parts.push(`${c}.search_words @@ ${q}`);
      }
      if (query.status === 'unanswered') parts.push(unanswered(c));
      if (query.status === 'unknown') parts.push(unknown(c, replies));
      if (query.status === 'taken_over') parts.push(`${c}.taken_over_at IS NOT NULL`);
      if (query.status === 'wants_human') parts.push(`${c}.human_requested_at IS NOT NULL`);
      return parts.map((part) => ` AND ${part}`).join('');
    };
    const after = query.after ? { at: fromMicros(p.add(query.after.atMicros)), id: `${p.add(query.after.id)}::uuid` } : null;
    // Positions are as of the first page's time (as_of): a conversation with a message since then
    // is placed where its last message before as_of put it, so paging on while messages arrive
    // neither repeats nor skips a conversation. Conversations started since wait for a fresh first page.
    const moved = after
      ? `UNION ALL
         (SELECT id, at FROM (
            SELECT c.id, GREATEST(
                     CASE WHEN c.created_at <= snap.as_of THEN c.created_at END,
                     (SELECT max(i.received_at) FROM public.inbound_messages i WHERE i.conversation_id = c.id AND i.received_at <= snap.as_of),
                     (SELECT max(o.created_at) FROM public.outbound_messages o WHERE o.conversation_id = c.id AND o.created_at <= snap.as_of)) AS at
              FROM public.conversations c, snap
             WHERE c.bot_id = ${bot} AND c.last_message_at > snap.as_of ${filters('c')}
          ) m
          WHERE at IS NOT NULL AND (at, id) < (${after.at}, ${after.id})
          ORDER BY at DESC, id DESC LIMIT ${limit})`
      : '';
    const sql = `
      WITH snap AS MATERIALIZED (SELECT COALESCE(${fromMicros(asOf)}, clock_timestamp()) AS as_of),
      placed AS (
        (SELECT c.id, c.last_message_at AS at FROM public.conversations c, snap
          WHERE c.bot_id = ${bot} AND c.last_message_at <= snap.as_of
            ${after ? `AND (c.last_message_at, c.id) < (${after.at}, ${after.id})` : ''} ${filters('c')}
          ORDER BY c.last_message_at DESC, c.id DESC LIMIT ${limit})
        ${moved}
      ),
      page AS (SELECT id, at FROM placed ORDER BY at DESC, id DESC LIMIT ${limit})
      ${conversationRows(bot, replies)}`;
    const { rows } = await this.pool.query<ConversationRow>(sql, p.values);
    const shown = rows.slice(0, query.limit);
    const last = shown.at(-1);
    return {
      conversations: shown.map(toConversation),
      next: rows.length > query.limit && last ? { asOfMicros: last.as_of_micros, atMicros: last.at_micros, id: last.id } : null,
    };
  }

  async find(botId: string, conversationId: string, unknownReplies: string[]): Promise<InboxConversation | null> {
    if (!isUuid(conversationId)) return null;
    const { rows } = await this.pool.query<ConversationRow>(
      `WITH snap AS (SELECT clock_timestamp() AS as_of),
       page AS (SELECT id, last_message_at AS at FROM public.conversations WHERE id = $3 AND bot_id = $1)
       ${conversationRows('$1', '$2')}`,
      [botId, unknownReplies, conversationId],
    );
    return rows[0] ? toConversation(rows[0]) : null;
  }

  async transcript(botId: string, conversationId: string, page: { before?: TranscriptPosition; limit: number }): Promise<TranscriptPage | null> {
    if (!isUuid(conversationId)) return null;
    const { rows: found } = await this.pool.query(`SELECT 1 FROM public.conversations WHERE id = $1 AND bot_id = $2`, [conversationId, botId]);
    if (found.length === 0) return null;
    const p = new Params();
    const conversation = p.add(conversationId);
    const bot = p.add(botId);
    const limit = p.add(page.limit + 1);
    // One time line in (time, user before bot before event, seq or id) order: a user message and the
    // reply opened in the same instant read in that order. Going back from `before` means strictly before it.
    let userBefore = '';
    let botBefore = '';
    let eventBefore = '';
    if (page.before) {
      const position = {
        rank: RANKS[page.before.source],
        at: fromMicros(p.add(page.before.atMicros)),
        key: p.add(page.before.source === 'user' ? page.before.seq : page.before.id),
      };
      userBefore = before(RANKS.user, position, 'i.received_at', 'i.seq', 'bigint');
      botBefore = before(RANKS.bot, position, 'o.created_at', 'o.id', 'uuid');
      eventBefore = before(RANKS.event, position, 'e.created_at', 'e.id', 'uuid');
    }
    const { rows } = await this.pool.query<TranscriptRow>(
      `SELECT * FROM (
         (SELECT 'user' AS source, 0 AS rank, i.id, i.seq::text AS seq, i.received_at AS at, ${micros('i.received_at')} AS at_micros,
                 i.kind, i.text, i.payload->'attachments' AS attachments,
                 NULL::boolean AS is_reply, NULL::boolean AS is_creator, ut.status = 'held' AS held, NULL::text AS event, NULL::text AS actor,
                 NULL::text AS status, NULL::text AS error, NULL::timestamptz AS sent_at, NULL::jsonb AS sources
            FROM public.inbound_messages i LEFT JOIN public.turns ut ON ut.id = i.turn_id
           WHERE i.conversation_id = ${conversation} AND i.bot_id = ${bot} ${userBefore}
           ORDER BY i.received_at DESC, i.seq DESC LIMIT ${limit})
         UNION ALL
         (SELECT 'bot', 1, o.id, NULL, o.created_at, ${micros('o.created_at')},
                 NULL, o.text, NULL,
                 o.turn_id IS NOT NULL, ${CREATOR_KEY('o')}, NULL, NULL, NULL,
                 o.status, o.error, o.sent_at, t.sources
            FROM public.outbound_messages o LEFT JOIN public.turns t ON t.id = o.turn_id
           WHERE o.conversation_id = ${conversation} AND o.bot_id = ${bot} ${botBefore}
           ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit})
         UNION ALL
         (SELECT 'event', 2, e.id, NULL, e.created_at, ${micros('e.created_at')},
                 NULL, NULL, NULL,
                 NULL, NULL, NULL, e.kind, e.actor,
                 NULL, NULL, NULL, NULL
            FROM public.conversation_events e
           WHERE e.conversation_id = ${conversation} AND e.bot_id = ${bot} ${eventBefore}
           ORDER BY e.created_at DESC, e.id DESC LIMIT ${limit})
       ) timeline
       ORDER BY at DESC, rank DESC, seq::bigint DESC NULLS LAST, id DESC
       LIMIT ${limit}`,
      p.values,
    );
    const shown = rows.slice(0, page.limit);
    const oldest = shown.at(-1);
    const next: TranscriptPosition | null =
      rows.length > page.limit && oldest
        ? oldest.source === 'user'
          ? { source: 'user', atMicros: oldest.at_micros, seq: oldest.seq! }
          : { source: oldest.source, atMicros: oldest.at_micros, id: oldest.id }
        : null;
    return { items: shown.reverse().map(toItem), next };
  }
}

/** The inbox's view of the conversations in CTE `page` (id, at), in its order; `snap` gives the time of the listing. */
function conversationRows(bot: string, replies: string): string {
  return `SELECT c.id, ${micros('p.at')} AS at_micros, ${micros('snap.as_of')} AS as_of_micros, c.channel, c.last_message_at,
             ct.id AS contact_id, ct.display_name, ct.username, ct.external_id,
             ARRAY(SELECT tg.tag FROM public.contact_tags tg WHERE tg.contact_id = ct.id ORDER BY tg.tag COLLATE "C") AS tags,
             li.text AS user_text, li.received_at AS user_at,
             lo.text AS bot_text, lo.created_at AS bot_at, lo.turn_id IS NOT NULL AS bot_is_reply, ${CREATOR_KEY('lo')} AS bot_is_creator,
             ${unanswered('c')} AS unanswered, ${unknown('c', replies)} AS unknown,
             c.taken_over_at IS NOT NULL AS taken_over, c.human_requested_at IS NOT NULL AS wants_human
        FROM page p
        CROSS JOIN snap
        JOIN public.conversations c ON c.id = p.id AND c.bot_id = ${bot}
        JOIN public.contacts ct ON ct.id = c.contact_id
        LEFT JOIN LATERAL (
          SELECT i.text, i.received_at FROM public.inbound_messages i
           WHERE i.conversation_id = c.id ORDER BY i.received_at DESC, i.seq DESC LIMIT 1
        ) li ON true
        LEFT JOIN LATERAL (
          SELECT o.text, o.created_at, o.turn_id, o.dedupe_key FROM public.outbound_messages o
           WHERE o.conversation_id = c.id ORDER BY o.created_at DESC, o.id DESC LIMIT 1
        ) lo ON true
       ORDER BY p.at DESC, p.id DESC`;
}
