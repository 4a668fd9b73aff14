import type pg from 'pg';
import type { EmailRecipient } from '../email/delivery.ports.js';
import { digestDedupeKey, type BotWeek, type DigestBotInfo, type DigestPeriod, type DigestSource } from '../email/weekly-digest.service.js';
import { isUuid } from '../postgres/ids.js';

/** What the weekly digest reads: creators owed one, their bots, and each bot's week. */
export class DigestRepository implements DigestSource {
  constructor(private readonly pool: pg.Pool) {}

  async dueCreators(period: DigestPeriod, limit: number): Promise<EmailRecipient[]> {
    // The key's creator id is spliced in by SQL: digestDedupeKey with a placeholder shows the shape.
    const [prefix, suffix] = digestDedupeKey('\u0000', period).split('\u0000') as [string, string];
    const { rows } = await this.pool.query<EmailRecipient>(
      `SELECT c.id, c.email, c.name FROM public.creators c
        WHERE c.created_at < $1
          AND EXISTS (SELECT 1 FROM public.bots b WHERE b.creator_id = c.id AND b.created_at < $1)
          AND NOT EXISTS (SELECT 1 FROM public.email_messages m WHERE m.dedupe_key = $2 || c.id::text || $3)
        ORDER BY c.created_at, c.id
        LIMIT $4`,
      [period.end, prefix, suffix, limit],
    );
    return rows;
  }

  async bots(creatorId: string): Promise<DigestBotInfo[]> {
    if (!isUuid(creatorId)) return [];
    const { rows } = await this.pool.query<{ id: string; name: string; language: string; unknownAnswer: string | null }>(
      `SELECT id, name, language, settings->>'unknownAnswer' AS "unknownAnswer" FROM public.bots WHERE creator_id = $1 ORDER BY created_at, id`,
      [creatorId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, language: r.language, ...(r.unknownAnswer ? { unknownAnswer: r.unknownAnswer } : {}) }));
  }

  async botWeek(botId: string, start: Date, end: Date, unknownReplies: string[], maxQuestions: number): Promise<BotWeek> {
    // Turns of kind 'message' are what end users wrote; commands and button presses are not conversation.
    const { rows: counts } = await this.pool.query<{ conversations: number; contacts: number }>(
      `SELECT count(DISTINCT t.conversation_id)::int AS conversations, count(DISTINCT c.contact_id)::int AS contacts
         FROM public.turns t JOIN public.conversations c ON c.id = t.conversation_id
        WHERE t.bot_id = $1 AND t.kind = 'message' AND t.created_at >= $2 AND t.created_at < $3`,
      [botId, start, end],
    );
    // An unanswered question: the reply was the bot's "I don't know", which the engine writes itself
    // without sources (no passage cleared the relevance gate, or the model had nothing to say).
    const { rows: questions } = await this.pool.query<{ question: string }>(
      `SELECT array_to_string(t.texts, ' ') AS question
         FROM public.turns t
        WHERE t.bot_id = $1 AND t.kind = 'message' AND t.status = 'answered' AND t.created_at >= $2 AND t.created_at < $3
          AND t.sources = '[]'::jsonb AND t.reply = ANY($4::text[]) AND cardinality(t.texts) > 0
        ORDER BY t.created_at DESC
        LIMIT $5`,
      [botId, start, end, unknownReplies, maxQuestions],
    );
    return {
      conversations: counts[0]?.conversations ?? 0,
      activeContacts: counts[0]?.contacts ?? 0,
      unansweredQuestions: questions.map((q) => q.question),
    };
  }
}
