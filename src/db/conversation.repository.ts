import type pg from 'pg';
import { readBotSettings } from '../bots/bot-settings.js';
import { PerBotCache } from '../cache/per-bot.cache.js';
import type { ConversationMemoryPort, ConversationSummary, MemoryTurn } from '../conversation/ports.js';
import type { BotDirectory, ConversationBot } from '../conversation/turn.ports.js';
import { isUuid } from '../postgres/ids.js';
import { PreparedStatements } from './prepared-statement.js';

/**
 * Conversation memory for the engine: recent answered turns (each a user and an assistant
 * message) since the last /reset, and the rolling summary kept on the conversation row.
 */
export class ConversationRepository implements ConversationMemoryPort {
  // Summaries read along with the recent turns, for the summary() call made alongside (see recentTurns).
  private readonly summariesInFlight = new Map<string, Promise<ConversationSummary | null>>();
  private readonly statements: PreparedStatements;

  /** `prepared`: prepare the per-turn statements once per connection (PostgreSQL; not the embedded database). */
  constructor(
    private readonly pool: pg.Pool,
    options: { prepared?: boolean } = {},
  ) {
    this.statements = new PreparedStatements(options.prepared ?? false);
  }

  /**
   * Reads the turns and the conversation's summary in one round trip: every turn asks for both at
   * once (recentTurns, then summary, without waiting in between), so summary() answers from this
   * read while it is under way instead of querying again.
   */
  async recentTurns(conversationId: string, limit: number): Promise<MemoryTurn[]> {
    const read = this.pool.query<{ summary: string | null; summary_through: string | null; id: string | null; texts: string[] | null; reply: string | null }>(
      this.statements.query(
        'conversation_memory',
        `SELECT c.summary, c.summary_through, t.id, t.texts, t.reply
         FROM public.conversations c
         LEFT JOIN LATERAL (
           SELECT t.id, t.texts, t.reply, t.created_at FROM public.turns t
            WHERE t.conversation_id = c.id AND t.kind = 'message' AND t.status = 'answered' AND t.reply IS NOT NULL
              AND (c.memory_reset_at IS NULL OR t.created_at > c.memory_reset_at)
            ORDER BY t.created_at DESC
            LIMIT $2
         ) t ON true
        WHERE c.id = $1
        ORDER BY t.created_at DESC`,
        [conversationId, Math.ceil(limit / 2)],
      ),
    );
    const summary = read.then(({ rows }) => toSummary(rows[0]));
    this.summariesInFlight.set(conversationId, summary);
    const forget = () => {
      if (this.summariesInFlight.get(conversationId) === summary) this.summariesInFlight.delete(conversationId);
    };
    summary.then(forget, forget);
    const { rows } = await read;
    const turns = rows
      .filter((r) => r.id !== null)
      .reverse()
      .flatMap((r): MemoryTurn[] => [
        ...(r.texts!.length ? [{ id: `${r.id}:u`, role: 'user' as const, text: r.texts!.join('\n') }] : []),
        { id: `${r.id}:a`, role: 'assistant', text: r.reply! },
      ]);
    return turns.slice(-limit);
  }

  async summary(conversationId: string): Promise<ConversationSummary | null> {
    const inFlight = this.summariesInFlight.get(conversationId);
    if (inFlight) return inFlight;
    const { rows } = await this.pool.query<{ summary: string | null; summary_through: string | null }>(
      `SELECT summary, summary_through FROM public.conversations WHERE id = $1`,
      [conversationId],
    );
    return toSummary(rows[0]);
  }

  async saveSummary(conversationId: string, summary: string, coversUpToTurnId: string): Promise<void> {
    await this.pool.query(`UPDATE public.conversations SET summary = $2, summary_through = $3, updated_at = now() WHERE id = $1`, [
      conversationId,
      summary,
      coversUpToTurnId,
    ]);
  }

  async forget(conversationId: string): Promise<void> {
    await this.pool.query(
      `UPDATE public.conversations SET summary = NULL, summary_through = NULL, memory_reset_at = clock_timestamp(), updated_at = now() WHERE id = $1`,
      [conversationId],
    );
  }
}

function toSummary(row: { summary: string | null; summary_through: string | null } | undefined): ConversationSummary | null {
  return row?.summary && row.summary_through ? { text: row.summary, coversUpToTurnId: row.summary_through } : null;
}

/** Bots as the message pipeline reads them: by id alone (webhooks and workers know no creator). */
export class ConversationBotRepository implements BotDirectory {
  private readonly cache: PerBotCache<ConversationBot>;

  /**
   * `ttlMs` is how long a bot read for one message serves the next ones (every webhook and every
   * turn needs it): a settings change made in another process shows within that time.
   */
  constructor(
    private readonly pool: pg.Pool,
    options: { ttlMs?: number } = {},
  ) {
    this.cache = new PerBotCache((botId) => this.read(botId), { ttlMs: options.ttlMs ?? 1_000 });
  }

  find(botId: string): Promise<ConversationBot | null> {
    if (!isUuid(botId)) return Promise.resolve(null);
    return this.cache.get(botId);
  }

  /** Forgets a bot changed or deleted in this process, so the next message reads it again. */
  invalidate(botId: string): void {
    this.cache.invalidate(botId);
  }

  private async read(botId: string): Promise<ConversationBot | null> {
    const { rows } = await this.pool.query<{ id: string; creator_id: string; name: string; persona: string; language: string; settings: unknown }>(
      `SELECT id, creator_id, name, persona, language, settings FROM public.bots WHERE id = $1`,
      [botId],
    );
    const row = rows[0];
    if (!row) return null;
    const settings = readBotSettings(row.settings);
    return {
      creatorId: row.creator_id,
      mergeWindowMs: settings.mergeWindowMs,
      handoffPhrases: settings.humanHandoffPhrases ?? [],
      ...(settings.welcomeMessage ? { welcomeMessage: settings.welcomeMessage } : {}),
      profile: {
        id: row.id,
        name: row.name,
        persona: row.persona,
        language: row.language,
        settings: {
          temperature: settings.temperature,
          citeSources: settings.citeSources,
          ...(settings.model ? { model: settings.model } : {}),
          ...(settings.contextSize ? { contextSize: settings.contextSize } : {}),
          ...(settings.maxAnswerTokens ? { maxAnswerTokens: settings.maxAnswerTokens } : {}),
          ...(settings.unknownAnswer ? { unknownAnswer: settings.unknownAnswer } : {}),
        },
      },
    };
  }
}
