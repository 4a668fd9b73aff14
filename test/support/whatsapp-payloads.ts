/**
 * WhatsApp webhook payloads for tests, built from the real fixtures in ../shared/fixtures/whatsapp:
 * load one, take its messages or statuses, batch several into one payload, sign the bytes.
 */
import { createHmac } from 'node:crypto';
import { fixture, jsonFixture } from './fixtures.js';

export const whatsappMessageFixtures = ['text', 'image', 'document', 'audio', 'reply'] as const;
export const whatsappStatusFixtures = ['sent', 'delivered', 'read', 'failed'] as const;

export type WhatsAppMessageFixture = (typeof whatsappMessageFixtures)[number];
export type WhatsAppStatusFixture = (typeof whatsappStatusFixtures)[number];

type Json = Record<string, unknown>;

export interface WebhookPayload {
  object: string;
  entry: Array<{ id: string; changes: Array<{ field: string; value: Json }> }>;
}

/** Path of a fixture under ../shared/fixtures. */
export function whatsappFixturePath(name: WhatsAppMessageFixture | WhatsAppStatusFixture): string {
  return (whatsappStatusFixtures as readonly string[]).includes(name)
    ? `whatsapp/pywa_message_status__${name}.json`
    : `whatsapp/pywa_message__${name}.json`;
}

/** A whole fixture payload (a fresh copy each call). */
export function loadWhatsAppPayload(name: WhatsAppMessageFixture | WhatsAppStatusFixture): WebhookPayload {
  return jsonFixture<WebhookPayload>(whatsappFixturePath(name));
}

/** The fixture's bytes exactly as stored, for signature tests. */
export function whatsappFixtureBytes(name: WhatsAppMessageFixture | WhatsAppStatusFixture): Buffer {
  return fixture(whatsappFixturePath(name));
}

function firstValue(payload: WebhookPayload): Json {
  return payload.entry[0]!.changes[0]!.value;
}

/** The fixture's message, with `changes` applied on top (e.g. another id or type). */
export function fixtureMessage(name: WhatsAppMessageFixture, changes: Json = {}): Json {
  const message = (firstValue(loadWhatsAppPayload(name)).messages as Json[])[0]!;
  return { ...message, ...changes };
}

/** The fixture's status, with `changes` applied on top. */
export function fixtureStatus(name: WhatsAppStatusFixture, changes: Json = {}): Json {
  const status = (firstValue(loadWhatsAppPayload(name)).statuses as Json[])[0]!;
  return { ...status, ...changes };
}

/** The `contacts` entry of the fixtures (profile name "Test Name", wa_id 972987654321). */
export function fixtureContact(changes: Json = {}): Json {
  return { ...(firstValue(loadWhatsAppPayload('text')).contacts as Json[])[0]!, ...changes };
}

/** A message of another type, built on the text fixture's envelope: `{type, [type]: content}`. */
export function typedMessage(type: string, content: unknown, changes: Json = {}): Json {
  const { text: _text, ...envelope } = fixtureMessage('text');
  return { ...envelope, type, [type]: content, ...changes };
}

export interface ChangeSpec {
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  contacts?: Json[];
  messages?: unknown[];
  statuses?: unknown[];
  /** Overrides for the whole change (e.g. `{ field: 'account_update' }`). */
  raw?: Json;
}

/** One payload with several entries, each with several changes, as Meta batches them. */
export function webhookPayload(entries: Array<{ wabaId?: string; changes: ChangeSpec[] }>): WebhookPayload {
  return {
    object: 'whatsapp_business_account',
    entry: entries.map((entry, e) => ({
      id: entry.wabaId ?? `10203040506070${e}`,
      changes: entry.changes.map((change) => ({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: change.displayPhoneNumber ?? '972123456789', phone_number_id: change.phoneNumberId ?? '1122334455667' },
          ...(change.contacts ? { contacts: change.contacts } : {}),
          ...(change.messages ? { messages: change.messages } : {}),
          ...(change.statuses ? { statuses: change.statuses } : {}),
        },
        ...change.raw,
      })),
    })),
  };
}

/** The body bytes as Meta would send them. */
export function payloadBytes(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** The X-Hub-Signature-256 header value for these exact bytes. */
export function signWhatsAppBody(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
