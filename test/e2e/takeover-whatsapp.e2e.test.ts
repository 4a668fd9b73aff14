import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeWhatsApp } from '../support/fake-whatsapp.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import { deliverChanges, profile, startWhatsAppPlatform, userMessage, whatsappBot, type WhatsAppBot } from '../support/whatsapp-e2e.js';

// The creator's own messages on WhatsApp follow the 24-hour customer-service window: free-form
// while it is open, the bot's approved template after it, and a 409 saying why when there is none.

// The platform's clock (and so WhatsApp's window) runs ahead of the real one by this much.
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);

let graph: FakeWhatsApp;
let platform: TestPlatform;
let baseUrl: string;
let nextMessage = 1;
let nextUser = 4_915_100_000_001;

beforeAll(async () => {
  // The tests move the clock a day or more past the 24-hour window while a person has the
  // conversation: the idle release (tested on Telegram) must not hand it back meanwhile.
  ({ graph, platform, baseUrl } = await startWhatsAppPlatform(clock, { TAKEOVER_IDLE_RELEASE_MINUTES: String(7 * 24 * 60) }));
});

afterAll(async () => {
  await platform?.stop();
  await graph?.close();
});

beforeEach(() => {
  clockOffsetMs = 0;
});

async function say(bot: WhatsAppBot, waId: string, text: string) {
  const response = await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [userMessage(waId, `wamid.takeover${nextMessage++}`, 'text', { body: text })] }]);
  expect(response.status).toBe(200);
}

/** The contact writes, the bot answers, and the creator takes the conversation over. */
async function takenOver(bot: WhatsAppBot, waId: string): Promise<string> {
  await say(bot, waId, 'Hello, I have a question about my sleep');
  await graph.waitForMessages(1, { to: waId });
  const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(`SELECT id FROM conversations WHERE bot_id = $1 AND external_chat_id = $2`, [
    bot.botId,
    waId,
  ]);
  const conversationId = rows[0]!.id;
  const response = await platform.app.inject({ method: 'POST', url: `/v1/bots/${bot.botId}/conversations/${conversationId}/takeover`, headers: bot.session.auth });
  expect(response.statusCode).toBe(200);
  return conversationId;
}

function write(bot: WhatsAppBot, conversationId: string, text: string, clientMessageId: string) {
  return platform.app.inject({
    method: 'POST',
    url: `/v1/bots/${bot.botId}/conversations/${conversationId}/messages`,
    headers: bot.session.auth,
    payload: { text, clientMessageId },
  });
}

describe('the creator’s messages on WhatsApp', () => {
  it('go out as text inside the 24-hour window, and as a 409 saying why once it has closed and there is no template', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 } });
    const waId = String(nextUser++);
    const conversationId = await takenOver(bot, waId);

    const inside = await write(bot, conversationId, 'Hi Dana, Maya here. How did last night go?', 'wa-1');
    expect(inside.statusCode, inside.body).toBe(200);
    expect(inside.json()).toMatchObject({ status: 'sent' });
    expect(graph.sentTo(waId).at(-1)).toMatchObject({ type: 'text', text: 'Hi Dana, Maya here. How did last night go?' });

    clockOffsetMs += 25 * 3600_000;
    const sentBefore = graph.sentTo(waId).length;
    const outside = await write(bot, conversationId, 'Checking in again!', 'wa-2');
    expect(outside.statusCode).toBe(409);
    expect(outside.json().error).toMatchObject({ code: 'OUTSIDE_MESSAGING_WINDOW', message: expect.stringContaining('24 hours') });
    // Asked again: still refused, still nothing sent.
    const repeated = await write(bot, conversationId, 'Checking in again!', 'wa-2');
    expect(repeated.statusCode).toBe(409);
    expect(graph.sentTo(waId)).toHaveLength(sentBefore);
    // The transcript shows the attempt and why it failed.
    const items = (await platform.app.inject({ url: `/v1/bots/${bot.botId}/conversations/${conversationId}/messages`, headers: bot.session.auth })).json().items;
    expect(items.at(-1)).toMatchObject({ type: 'creator', text: 'Checking in again!', delivery: { status: 'failed', error: expect.stringContaining('24-hour window') } });
  });

  it('go out as the bot’s approved template, with the text as its parameter, once the window has closed', async () => {
    const bot = await whatsappBot(platform, graph, {
      ingest: false,
      settings: { mergeWindowMs: 0 },
      template: { name: 'coach_follow_up', language: 'en_US', parameters: ['{{text}}'] },
    });
    const waId = String(nextUser++);
    const conversationId = await takenOver(bot, waId);
    clockOffsetMs += 30 * 3600_000;
    const response = await write(bot, conversationId, 'Maya here: shall we pick up where we left off?', 'wa-3');
    expect(response.statusCode, response.body).toBe(200);
    const last = graph.sentTo(waId).at(-1);
    expect(last).toMatchObject({ type: 'template' });
    expect(last!.request.template).toMatchObject({
      name: 'coach_follow_up',
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Maya here: shall we pick up where we left off?' }] }],
    });
  });

  it('/human on WhatsApp flags the conversation and tells the user someone will answer', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 } });
    const waId = String(nextUser++);
    await say(bot, waId, '/human');
    const [answer] = await graph.waitForMessages(1, { to: waId });
    expect(answer!.text).toMatch(/someone will answer you here/i);
    await waitFor(
      async () => {
        const list = (await platform.app.inject({ url: `/v1/bots/${bot.botId}/conversations?status=wants_human`, headers: bot.session.auth })).json();
        return list.conversations.length === 1;
      },
      { what: 'the conversation flagged' },
    );
  });
});
