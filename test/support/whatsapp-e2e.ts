/**
 * Set-up shared by the WhatsApp end-to-end tests: a creator's bot grounded in the example guide and
 * connected to a fake Graph API number through the public API, and signed webhook deliveries over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { uploadDocument, waitUntilReady } from '../../scripts/eval-retrieval.js';
import { createBot, signUpCreator, type CreatorSession } from './creator-session.js';
import { startFakeWhatsApp, type FakeWhatsApp } from './fake-whatsapp.js';
import { freePort } from './free-port.js';
import { GUIDE_TITLE, guideMarkdown } from './telegram-e2e.js';
import { startTestPlatform, type TestPlatform } from './test-platform.js';
import { payloadBytes, signWhatsAppBody, webhookPayload, type ChangeSpec } from './whatsapp-payloads.js';

export interface WhatsAppBot {
  session: CreatorSession;
  botId: string;
  phoneNumberId: string;
  appSecret: string;
  verifyToken: string;
}

let nextNumber = 100_200_300_400;

/** Signs up a creator, creates a bot (the guide ingested unless `ingest: false`) and connects a fresh fake number. */
export async function whatsappBot(
  platform: TestPlatform,
  graph: FakeWhatsApp,
  options: { ingest?: boolean; template?: { name: string; language: string; parameters?: string[] }; settings?: Record<string, unknown> } = {},
): Promise<WhatsAppBot> {
  const session = await signUpCreator(platform.app);
  const bot = await createBot(platform.app, session.auth, { name: 'Maya', language: 'en', settings: options.settings ?? {} });
  if (options.ingest !== false) {
    await uploadDocument(platform.app, session.auth, bot.id, { title: GUIDE_TITLE, filename: 'coaching-guide.md', bytes: guideMarkdown(), mediaType: 'text/markdown' });
    await waitUntilReady(platform.app, session.auth, bot.id, 1);
  }
  const phoneNumberId = String(nextNumber++);
  graph.addPhoneNumber(phoneNumberId);
  const credentials = {
    phoneNumberId,
    wabaId: '102030405060708',
    accessToken: graph.accessToken,
    appSecret: randomBytes(16).toString('hex'),
    verifyToken: randomBytes(12).toString('base64url'),
    ...(options.template ? { template: options.template } : {}),
  };
  const response = await platform.app.inject({ method: 'PUT', url: `/v1/bots/${bot.id}/channels/whatsapp`, headers: session.auth, payload: credentials });
  if (response.statusCode !== 200) throw new Error(`connecting WhatsApp failed: ${response.statusCode} ${response.body}`);
  return { session, botId: bot.id, phoneNumberId, appSecret: credentials.appSecret, verifyToken: credentials.verifyToken };
}

/** POSTs bytes to the webhook as Meta does; the signature is over exactly these bytes unless given. */
export async function postWebhook(baseUrl: string, bytes: Buffer, appSecret: string, options: { signature?: string | null } = {}): Promise<Response> {
  const signature = options.signature === undefined ? signWhatsAppBody(bytes, appSecret) : options.signature;
  return fetch(`${baseUrl}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    body: new Uint8Array(bytes),
  });
}

/** One change for `bot`'s number carrying `messages` and/or `statuses`. */
export function changeFor(bot: Pick<WhatsAppBot, 'phoneNumberId'>, spec: Omit<ChangeSpec, 'phoneNumberId'>): ChangeSpec {
  return { phoneNumberId: bot.phoneNumberId, ...spec };
}

/** Delivers `changes` in one signed payload (as Meta batches them) and returns the response. */
export function deliverChanges(baseUrl: string, bot: WhatsAppBot, changes: Array<Omit<ChangeSpec, 'phoneNumberId'>>): Promise<Response> {
  return postWebhook(baseUrl, payloadBytes(webhookPayload([{ changes: changes.map((c) => changeFor(bot, c)) }])), bot.appSecret);
}

/** A user's message as Meta sends it, written just now (inside the 24-hour window). */
export function userMessage(from: string, id: string, type: string, content: unknown, extra: Record<string, unknown> = {}) {
  return { from, id, timestamp: String(Math.floor(Date.now() / 1000)), type, [type]: content, ...extra };
}

/** The `contacts` entry naming the user. */
export function profile(waId: string, name = 'Dana') {
  return { profile: { name }, wa_id: waId };
}

/** Ledger rows of a WhatsApp user, oldest first. */
export async function whatsappLedger(platform: TestPlatform, botId: string, waId: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ status: string; external_message_ids: string[]; text: string | null; error: string | null }>(
    `SELECT o.status, o.external_message_ids, o.text, o.error
       FROM outbound_messages o JOIN conversations c ON c.id = o.conversation_id
      WHERE c.bot_id = $1 AND c.external_chat_id = $2 ORDER BY o.created_at`,
    [botId, waId],
  );
  return rows;
}

/**
 * A listening platform on a fake Graph API, its clock given by the test (moved past the 24-hour
 * window), sends paced only by the number's cap and the reconciler quick; `env` adds or overrides.
 */
export async function startWhatsAppPlatform(clock: () => Date, env: Record<string, string> = {}): Promise<{ graph: FakeWhatsApp; platform: TestPlatform; baseUrl: string }> {
  const graph = await startFakeWhatsApp();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const platform = await startTestPlatform(
    { PUBLIC_URL: baseUrl, WHATSAPP_GRAPH_URL: graph.url, WHATSAPP_RECIPIENT_GAP_MS: '0', RECONCILE_INTERVAL_MS: '200', RECONCILE_GRACE_MS: '300', ...env },
    { clock },
  );
  await platform.app.listen({ host: '127.0.0.1', port });
  return { graph, platform, baseUrl };
}
