import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeWhatsApp } from '../support/fake-whatsapp.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import { deliverChanges, profile, startWhatsAppPlatform, userMessage, whatsappBot, type WhatsAppBot, whatsappLedger } from '../support/whatsapp-e2e.js';

// The platform's clock (and so WhatsApp's 24-hour window) runs ahead of the real one by this much.
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);

let graph: FakeWhatsApp;
let platform: TestPlatform;
let baseUrl: string;
let nextMessage = 1;
// French mobile numbers: the contacts' zone is guessed as Europe/Paris.
let nextUser = 33_612_000_001;

beforeAll(async () => {
  ({ graph, platform, baseUrl } = await startWhatsAppPlatform(clock));
});

afterAll(async () => {
  await platform?.stop();
  await graph?.close();
});

async function say(bot: WhatsAppBot, waId: string, text: string) {
  const response = await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [userMessage(waId, `wamid.pro${nextMessage++}`, 'text', { body: text })] }]);
  expect(response.status).toBe(200);
}

async function sendOf(botId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ status: string; reason: string | null }>(
    `SELECT status, reason FROM proactive_sends WHERE bot_id = $1`,
    [botId],
  );
  return rows[0];
}

describe('proactive messages on WhatsApp', () => {
  // Each test starts with the user writing now (by the real clock the fake's timestamps use).
  beforeEach(() => {
    clockOffsetMs = 0;
  });

  it('sends the approved template with the message as its parameter once the 24-hour window has closed', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 }, template: { name: 'coach_nudge', language: 'en_US', parameters: ['{{text}}'] } });
    const waId = String(nextUser++);
    await say(bot, waId, 'remind me in 25 hours to stretch');
    const [confirmation] = await graph.waitForMessages(1, { to: waId });
    // The zone was guessed from the French number.
    expect(confirmation!.text).toMatch(/^I'll remind you (tomorrow at|on \w{3} \d+ \w{3} at) \d\d:\d\d \(Europe\/Paris\) to stretch\.$/);

    clockOffsetMs += 25 * 3600_000;
    const [, reminder] = await graph.waitForMessages(2, { to: waId });
    expect(reminder).toMatchObject({ type: 'template' });
    expect(reminder!.request.template).toMatchObject({
      name: 'coach_nudge',
      components: [{ type: 'body', parameters: [{ type: 'text', text: '⏰ Reminder: stretch' }] }],
    });
    await waitFor(async () => (await sendOf(bot.botId))?.status === 'sent', { what: 'the send settled' });
  });

  it('skips with the reason, sending nothing, when the window has closed and the bot has no template', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 } });
    const waId = String(nextUser++);
    await say(bot, waId, 'remind me in 30 hours to drink water');
    await graph.waitForMessages(1, { to: waId });
    clockOffsetMs += 30 * 3600_000;
    await waitFor(async () => (await sendOf(bot.botId))?.status === 'skipped', { what: 'the send skipped' });
    expect(await sendOf(bot.botId)).toEqual({ status: 'skipped', reason: 'Outside the 24-hour window and no approved template is configured' });
    expect(graph.sentTo(waId)).toHaveLength(1);
    const rows = await whatsappLedger(platform, bot.botId, waId);
    expect(rows.at(-1)).toMatchObject({ status: 'failed', error: 'Outside the 24-hour window and no approved template is configured' });
  });

  it('sends a program step with reply buttons, or a list beyond three options, and stores the answer pressed', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0, quietHoursStart: '00:00', quietHoursEnd: '00:00' } });
    const response = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${bot.botId}/programs`,
      headers: bot.session.auth,
      payload: {
        name: 'Mood',
        slug: 'mood',
        steps: [
          { question: { text: 'How do you feel today?', options: ['Good', 'So-so', 'Low'] } },
          { afterMinutes: 10, question: { text: 'What helped most?', options: ['Sleep', 'Walk', 'Friends', 'Food', 'Nothing'] } },
        ],
      },
    });
    expect(response.statusCode).toBe(201);
    const waId = String(nextUser++);
    await say(bot, waId, '/program mood');
    const sent = await graph.waitForMessages(2, { to: waId });
    const question = sent.find((m) => m.type === 'interactive')!;
    const buttons = (question.request.interactive as { action: { buttons: Array<{ reply: { id: string; title: string } }> } }).action.buttons;
    expect(buttons.map((b) => b.reply.title)).toEqual(['Good', 'So-so', 'Low']);

    const press = buttons[2]!.reply;
    await deliverChanges(baseUrl, bot, [
      { contacts: [profile(waId)], messages: [userMessage(waId, `wamid.pro${nextMessage++}`, 'interactive', { type: 'button_reply', button_reply: press }, { context: { from: bot.phoneNumberId, id: question.id } })] },
    ]);
    const [, , thanks] = await graph.waitForMessages(3, { to: waId });
    expect(thanks!.text).toBe('Thanks — I noted “Low”.');

    clockOffsetMs += 10 * 60_000;
    const [, , , list] = await graph.waitForMessages(4, { to: waId });
    const interactive = (list!.request.interactive as { type: string; action: { sections: Array<{ rows: Array<{ title: string }> }> } });
    expect(interactive.type).toBe('list');
    expect(interactive.action.sections[0]!.rows.map((r) => r.title)).toEqual(['Sleep', 'Walk', 'Friends', 'Food', 'Nothing']);
    const { rows: answers } = await platform.infrastructure.database.pool.query(
      `SELECT a.step_index, a.answer FROM program_answers a JOIN program_enrollments e ON e.id = a.enrollment_id WHERE e.bot_id = $1`,
      [bot.botId],
    );
    expect(answers).toEqual([{ step_index: 0, answer: 'Low' }]);
  });
});
