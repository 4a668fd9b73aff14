/**
 * Set-up shared by the Telegram end-to-end tests: a platform listening on a real port (so the fake
 * Bot API can deliver webhooks over HTTP), a creator with a bot grounded in the example guide, and
 * the bot connected to the fake Telegram through the public API.
 */
import { readFileSync } from 'node:fs';
import { uploadDocument, waitUntilReady } from '../../scripts/eval-retrieval.js';
import { createBot, signUpCreator, type CreatorSession } from './creator-session.js';
import type { FakeBot, FakeTelegram } from './fake-telegram.js';
import type { TestPlatform } from './test-platform.js';

export const GUIDE_TITLE = 'Steady Habits Guide';
export const guideMarkdown = () => readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url), 'utf8');

export { freePort } from './free-port.js';

export interface ConnectedBot {
  session: CreatorSession;
  botId: string;
  fakeBot: FakeBot;
}

/** Signs up a creator, creates a bot with the guide ingested and connects it to the fake Telegram. */
export async function connectedBot(
  platform: TestPlatform,
  telegram: FakeTelegram,
  options: { settings?: Record<string, unknown>; name?: string; ingest?: boolean } = {},
): Promise<ConnectedBot> {
  const session = await signUpCreator(platform.app);
  const bot = await createBot(platform.app, session.auth, { name: options.name ?? 'Maya', language: 'en', settings: options.settings ?? {} });
  if (options.ingest !== false) {
    await uploadDocument(platform.app, session.auth, bot.id, { title: GUIDE_TITLE, filename: 'coaching-guide.md', bytes: guideMarkdown(), mediaType: 'text/markdown' });
    await waitUntilReady(platform.app, session.auth, bot.id, 1);
  }
  const fakeBot = telegram.addBot();
  const response = await platform.app.inject({
    method: 'PUT',
    url: `/v1/bots/${bot.id}/channels/telegram`,
    headers: session.auth,
    payload: { token: fakeBot.token },
  });
  if (response.statusCode !== 200) throw new Error(`connecting Telegram failed: ${response.statusCode} ${response.body}`);
  return { session, botId: bot.id, fakeBot };
}

/** The outbound ledger rows of a chat, oldest first. */
export async function ledger(platform: TestPlatform, botId: string, chatId: number) {
  const { rows } = await platform.infrastructure.database.pool.query<{ status: string; external_message_ids: string[]; text: string | null; error: string | null }>(
    `SELECT o.status, o.external_message_ids, o.text, o.error
       FROM outbound_messages o JOIN conversations c ON c.id = o.conversation_id
      WHERE c.bot_id = $1 AND c.external_chat_id = $2 ORDER BY o.created_at`,
    [botId, String(chatId)],
  );
  return rows;
}

/** Turns of a chat with their status, oldest first. */
export async function turnsOf(platform: TestPlatform, botId: string, chatId: number) {
  const { rows } = await platform.infrastructure.database.pool.query<{ id: string; kind: string; status: string; texts: string[] }>(
    `SELECT t.id, t.kind, t.status, t.texts FROM turns t JOIN conversations c ON c.id = t.conversation_id
      WHERE c.bot_id = $1 AND c.external_chat_id = $2 ORDER BY t.created_at`,
    [botId, String(chatId)],
  );
  return rows;
}
