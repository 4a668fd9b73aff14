import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeWhatsApp } from '../support/fake-whatsapp.js';
import type { TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureStatus } from '../support/whatsapp-payloads.js';
import { deliverChanges, profile, startWhatsAppPlatform, userMessage, whatsappBot, type WhatsAppBot, whatsappLedger } from '../support/whatsapp-e2e.js';

const HOUR = 3600_000;
// The platform's clock (and so WhatsApp's 24-hour window) runs ahead of the real one by this much.
let clockOffsetMs = 0;
const clock = () => new Date(Date.now() + clockOffsetMs);

let graph: FakeWhatsApp;
let platform: TestPlatform;
let baseUrl: string;
let nextMessage = 1;

beforeAll(async () => {
  ({ graph, platform, baseUrl } = await startWhatsAppPlatform(clock));
});

afterAll(async () => {
  await platform?.stop();
  await graph?.close();
});

/** The user writes `text` (stamped by the platform's clock) and gets one more message back. */
async function say(bot: WhatsAppBot, waId: string, text: string): Promise<void> {
  const before = graph.sentTo(waId).length;
  const message = userMessage(waId, `wamid.optout${nextMessage++}`, 'text', { body: text }, { timestamp: String(Math.floor(clock().getTime() / 1000)) });
  const response = await deliverChanges(baseUrl, bot, [{ contacts: [profile(waId)], messages: [message] }]);
  expect(response.status).toBe(200);
  await graph.waitForMessages(before + 1, { to: waId });
}

async function sendsOf(botId: string, contactExternalId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ kind: string; status: string; reason: string | null }>(
    `SELECT s.kind, s.status, s.reason FROM proactive_sends s JOIN contacts k ON k.id = s.contact_id
      WHERE s.bot_id = $1 AND k.external_id = $2 ORDER BY s.due_at, s.created_at`,
    [botId, contactExternalId],
  );
  return rows;
}

describe("WhatsApp's own marketing opt-out (Graph code 131050)", () => {
  it('marks the contact opted out, records the send skipped with the reason, skips later reminders and broadcasts, and still answers them', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 }, template: { name: 'coach_nudge', language: 'en_US', parameters: ['{{text}}'] } });
    const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
      platform.app.inject({ method, url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth, ...(payload ? { payload } : {}) });
    const stopped = '33612000101';
    const other = '33612000102';
    await say(bot, stopped, 'remind me in 25 hours to stretch');
    await say(bot, stopped, 'remind me in 26 hours to drink water');
    await say(bot, other, 'remind me in 25 hours to walk');
    // In WhatsApp, the first user stops marketing messages from this business.
    graph.stopMarketing(stopped);

    // Past the 24-hour window the reminders go out as the template: refused for the one, delivered to the other.
    clockOffsetMs += 25 * HOUR + 60_000;
    await waitFor(async () => (await sendsOf(bot.botId, stopped))[0]?.status === 'skipped' || null, { what: 'the refused reminder settled' });
    const [refused] = await sendsOf(bot.botId, stopped);
    expect(refused).toEqual({
      kind: 'reminder',
      status: 'skipped',
      reason: expect.stringMatching(/^The contact chose on whatsapp to stop receiving marketing messages from the bot \(131050: .*stop receiving marketing messages/),
    });
    expect(graph.refused).toEqual([{ to: stopped, type: 'template', code: 131050 }]);
    const ledger = await whatsappLedger(platform, bot.botId, stopped);
    expect(ledger.at(-1)).toMatchObject({ status: 'failed', error: expect.stringContaining('marketing messages') });
    await graph.waitForMessages(2, { to: other });
    expect(graph.sentTo(other).at(-1)).toMatchObject({ type: 'template' });

    // The creator sees the opt-out; the next reminder is skipped without asking WhatsApp.
    const contacts = (await api('GET', '/contacts')).json().contacts;
    expect(contacts.find((c: { displayName: string; optedOut: boolean }) => c.displayName === 'Dana' && c.optedOut)).toBeTruthy();
    expect(contacts.filter((c: { optedOut: boolean }) => c.optedOut)).toHaveLength(1);
    clockOffsetMs += HOUR;
    await waitFor(async () => (await sendsOf(bot.botId, stopped))[1]?.status === 'skipped' || null, { what: 'the second reminder settled' });
    expect((await sendsOf(bot.botId, stopped))[1]).toEqual({ kind: 'reminder', status: 'skipped', reason: 'The contact chose on whatsapp to stop receiving marketing messages from the bot' });

    // A broadcast skips them with the same reason and reaches the other contact.
    const text = 'New: the evening stretch series';
    const { id } = (await api('POST', '/broadcasts', { text, segment: { type: 'channel', value: 'whatsapp' } })).json();
    const done = await waitFor(
      async () => {
        const view = (await api('GET', `/broadcasts/${id}`)).json();
        return view.status === 'done' ? view : null;
      },
      { what: 'the broadcast done' },
    );
    expect(done).toMatchObject({ total: 2, sent: 1, skipped: 1, failed: 0 });
    const skipped = (await api('GET', `/broadcasts/${id}/recipients?status=skipped`)).json().recipients;
    expect(skipped).toEqual([expect.objectContaining({ reason: 'The contact chose on whatsapp to stop receiving marketing messages from the bot' })]);
    expect(graph.refused).toHaveLength(1);
    expect(graph.sentTo(stopped).filter((m) => m.type === 'template')).toHaveLength(0);

    // Their own messages are still answered.
    const before = graph.sentTo(stopped).length;
    await say(bot, stopped, 'How do I stretch my back?');
    expect(graph.sentTo(stopped)).toHaveLength(before + 1);
    expect(graph.sentTo(stopped).at(-1)).toMatchObject({ type: 'text' });
  });

  it('takes the opt-out from a failed status webhook too, when Meta accepted the send and refused it later; a report on a reply changes nothing', async () => {
    const bot = await whatsappBot(platform, graph, { ingest: false, settings: { mergeWindowMs: 0 }, template: { name: 'coach_nudge', language: 'en_US', parameters: ['{{text}}'] } });
    const api = (url: string) => platform.app.inject({ method: 'GET', url: `/v1/bots/${bot.botId}${url}`, headers: bot.session.auth });
    const stopped = '33612000201';
    const answered = '33612000202';
    await say(bot, stopped, 'remind me in 25 hours to stretch');
    await say(bot, stopped, 'remind me in 26 hours to rest');
    await say(bot, answered, 'hello');
    const refusedLater = (id: string, to: string) =>
      fixtureStatus('failed', {
        id,
        recipient_id: to,
        timestamp: String(Math.floor(clock().getTime() / 1000)),
        errors: [
          {
            code: 131050,
            title: 'Unable to deliver the message',
            message: 'Unable to deliver the message',
            error_data: { details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.' },
            href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
          },
        ],
      });

    // A report of that kind on a reply (not a proactive message) opts nobody out.
    const reply = graph.sentTo(answered).at(-1)!;
    expect((await deliverChanges(baseUrl, bot, [{ statuses: [refusedLater(reply.id, answered)] }])).status).toBe(200);

    clockOffsetMs += 25 * HOUR + 60_000;
    await waitFor(async () => (await sendsOf(bot.botId, stopped))[0]?.status === 'sent' || null, { what: 'the first reminder sent' });
    const template = graph.sentTo(stopped).at(-1)!;
    expect(template.type).toBe('template');
    expect((await deliverChanges(baseUrl, bot, [{ statuses: [refusedLater(template.id, stopped)] }])).status).toBe(200);
    await waitFor(async () => (await api('/contacts')).json().contacts.some((c: { optedOut: boolean }) => c.optedOut) || null, { what: 'the opt-out stored' });
    const contacts = (await api('/contacts')).json().contacts as Array<{ id: string; optedOut: boolean }>;
    expect(contacts.filter((c) => c.optedOut)).toHaveLength(1);
    const deliveries = (await api('/deliveries')).json();
    expect(JSON.stringify(deliveries)).toContain('131050');

    clockOffsetMs += HOUR;
    await waitFor(async () => (await sendsOf(bot.botId, stopped))[1]?.status === 'skipped' || null, { what: 'the second reminder skipped' });
    expect((await sendsOf(bot.botId, stopped))[1]!.reason).toBe('The contact chose on whatsapp to stop receiving marketing messages from the bot');
    expect(graph.sentTo(stopped).filter((m) => m.type === 'template')).toHaveLength(1);
  });
});
