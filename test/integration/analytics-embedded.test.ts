import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultUnknownAnswer } from '../../src/conversation/phrases.js';
import { AnalyticsRepository } from '../../src/db/analytics.repository.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { TurnRepository } from '../../src/db/turn.repository.js';

// The embedded database (bare mode) runs the same migration and statements as PostgreSQL.
describe('analytics on the embedded PGlite', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'coach-pglite-analytics-'));
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir, poolMax: 4 });
    await migrate(database.pool);
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records an uncovered answer and counts a 25-hour Sydney day from it', async () => {
    const { pool } = database;
    const one = async <T>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows[0] as T;
    const creator = await one<{ id: string }>(`INSERT INTO creators (email, name, password_hash) VALUES ('e@example.test', 'E', 'x') RETURNING id`, []);
    const bot = await one<{ id: string }>(`INSERT INTO bots (creator_id, name) VALUES ($1, 'Coach') RETURNING id`, [creator.id]);
    const contact = await one<{ id: string }>(`INSERT INTO contacts (bot_id, channel, external_id) VALUES ($1, 'telegram', '1') RETURNING id`, [bot.id]);
    const conversation = await one<{ id: string }>(
      `INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, 'telegram', '1') RETURNING id`,
      [bot.id, contact.id],
    );
    // 5 April 2026 23:30 in Sydney (AEST, +10), the 25th hour of the day daylight saving time ended.
    const at = '2026-04-05T13:30:00Z';
    const turn = await one<{ id: string }>(
      `INSERT INTO turns (bot_id, conversation_id, kind, texts, created_at, last_message_at) VALUES ($1, $2, 'message', '{"Why, though?"}', $3, $3) RETURNING id`,
      [bot.id, conversation.id, at],
    );
    await pool.query(
      `INSERT INTO inbound_messages (bot_id, channel, external_id, conversation_id, contact_id, kind, text, payload, received_at, turn_id)
       VALUES ($1, 'telegram', 'm1', $2, $3, 'text', 'Why, though?', '{}', $4, $5)`,
      [bot.id, conversation.id, contact.id, at, turn.id],
    );
    const ledger = await one<{ id: string }>(
      `INSERT INTO outbound_messages (bot_id, conversation_id, turn_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
      [bot.id, conversation.id, turn.id, at],
    );
    const turns = new TurnRepository(pool);
    await turns.saveFinalReply({ turnId: turn.id, ledgerId: ledger.id }, defaultUnknownAnswer('en'), []);
    await turns.finishSent({ turnId: turn.id, ledgerId: ledger.id }, ['1']);

    const days = await new AnalyticsRepository(pool).computeDays(bot.id, 'Australia/Sydney', '2026-04-05', '2026-04-06');
    expect(days.map((d) => [d.figures.date, d.figures.messagesIn, d.figures.messagesOut, d.figures.uncovered])).toEqual([
      ['2026-04-05', 1, 0, 1],
      // Sent now, not in April.
      ['2026-04-06', 0, 0, 0],
    ]);
    expect(days[0]!.figures.uncoveredQuestions).toEqual([
      { key: 'why though', text: 'Why, though?', asked: 1, uncovered: 1, lastAskedAt: '2026-04-05T13:30:00.000Z' },
    ]);
    expect(days[0]!.settled).toBe(true);

    const store = new AnalyticsRepository(pool);
    await store.keepDays(bot.id, 'Australia/Sydney', days);
    expect(await store.keptDays(bot.id, 'Australia/Sydney', '2026-04-01', '2026-04-30', 60)).toEqual(days.map((d) => d.figures));
  });
});
