import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendGridMailer } from '../../src/email/adapters/sendgrid.mailer.js';
import { SendGridWebhookVerifier, parseSendGridEvents } from '../../src/email/adapters/sendgrid.webhook.js';
import { MemoryOutboxStore, OutboxMailer } from '../../src/email/adapters/outbox.mailer.js';
import { EmailWebhookSignatureError, MailDeliveryError } from '../../src/email/email.errors.js';
import type { OutgoingEmail } from '../../src/email/ports.js';
import { applySuppressionChange, mayReceive, suppressionFromEvent, type Suppression } from '../../src/email/suppression.js';
import { renderEmail } from '../../src/email/templates/render-email.js';
import { createEventWebhookSigner, sendGridEvent, startFakeSendGrid, type FakeSendGrid } from '../support/fake-sendgrid.js';

const API_KEY = 'SG.test-key.coachbot';
const brand = { productName: 'Coachbot' };

let sendgrid: FakeSendGrid;
let mailer: SendGridMailer;

beforeAll(async () => {
  sendgrid = await startFakeSendGrid({ apiKey: API_KEY });
  mailer = new SendGridMailer({ apiKey: API_KEY, apiBase: sendgrid.url, from: { email: 'hello@coachbot.example', name: 'Coachbot' } });
});

afterAll(async () => {
  await sendgrid?.close();
});

function resetEmail(to = 'ana@example.com'): OutgoingEmail {
  const rendered = renderEmail('password-reset', { name: 'Ana', resetUrl: 'https://app.example/reset?t=1', expiresInMinutes: 30 }, brand);
  return { ...rendered, to, idempotencyKey: 'password-reset:req-1' };
}

describe('SendGrid mailer', () => {
  it('delivers a message with its text and HTML parts, category and idempotency key', async () => {
    const email = resetEmail();
    const result = await mailer.send(email);
    const received = sendgrid.messages.at(-1)!;
    expect(result.providerMessageId).toBe(received.messageId);
    expect(received).toMatchObject({
      to: ['ana@example.com'],
      from: { email: 'hello@coachbot.example', name: 'Coachbot' },
      subject: 'Reset your Coachbot password',
      text: email.text,
      html: email.html,
      categories: ['password-reset'],
      customArgs: { idempotency_key: 'password-reset:req-1' },
    });
    // Transactional links stay as written: click tracking would rewrite the reset link.
    expect(received.body.tracking_settings).toEqual({ click_tracking: { enable: false, enable_text: false } });
    const request = sendgrid.requests.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', path: '/v3/mail/send' });
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('adds one-click unsubscribe headers to the digest', async () => {
    const rendered = renderEmail(
      'weekly-digest',
      { name: 'Ana', periodStart: new Date('2024-05-06Z'), periodEnd: new Date('2024-05-13Z'), bots: [], dashboardUrl: 'https://app.example/d', unsubscribeUrl: 'https://app.example/u?t=1' },
      brand,
    );
    await mailer.send({ ...rendered, to: { email: 'ana@example.com', name: 'Ana' }, idempotencyKey: 'digest:2024-19:ana' });
    const received = sendgrid.messages.at(-1)!;
    expect(received.headers).toEqual({ 'List-Unsubscribe': '<https://app.example/u?t=1>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(received.body.tracking_settings).toBeUndefined();
  });

  it('surfaces a 5xx as a retryable delivery error and sends nothing', async () => {
    const before = sendgrid.messages.length;
    sendgrid.failNext(500);
    const attempt = mailer.send(resetEmail());
    await expect(attempt).rejects.toBeInstanceOf(MailDeliveryError);
    await expect(attempt).rejects.toMatchObject({ retryable: true, details: { status: 500, errors: [{ message: 'Internal server error', field: null }] } });
    expect(sendgrid.messages).toHaveLength(before);
    // The next attempt goes through.
    await mailer.send(resetEmail());
    expect(sendgrid.messages).toHaveLength(before + 1);
  });

  it('treats a rate limit as retryable and says when to try again', async () => {
    sendgrid.failNext(429);
    await expect(mailer.send(resetEmail())).rejects.toMatchObject({ retryable: true, details: { status: 429, retryAfterSeconds: expect.any(Number) } });
  });

  it('does not retry what cannot succeed: a rejected key or an invalid message', async () => {
    const wrongKey = new SendGridMailer({ apiKey: 'SG.revoked', apiBase: sendgrid.url, from: { email: 'hello@coachbot.example' } });
    await expect(wrongKey.send(resetEmail())).rejects.toMatchObject({ retryable: false, details: { status: 401 } });
    const noFrom = new SendGridMailer({ apiKey: API_KEY, apiBase: sendgrid.url, from: { email: '' } });
    await expect(noFrom.send(resetEmail())).rejects.toMatchObject({ retryable: false, details: { status: 400, errors: [expect.objectContaining({ field: 'from' })] } });
  });

  it('reports an unreachable server as retryable', async () => {
    const closed = await startFakeSendGrid();
    const url = closed.url;
    await closed.close();
    const offline = new SendGridMailer({ apiKey: API_KEY, apiBase: url, from: { email: 'hello@coachbot.example' } });
    await expect(offline.send(resetEmail())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('could not be reached') });
  });
});

describe('outbox mailer', () => {
  it('stores each email once per idempotency key and logs without sending', async () => {
    const store = new MemoryOutboxStore();
    const logged: Array<Record<string, unknown>> = [];
    const outbox = new OutboxMailer(store, { email: 'hello@coachbot.example' }, { info: (o) => logged.push(o) });
    const email = resetEmail();
    await outbox.send(email);
    await outbox.send(email);
    expect(store.entries).toHaveLength(1);
    expect(store.entries[0]).toMatchObject({ to: { email: 'ana@example.com' }, text: email.text, category: 'password-reset' });
    expect(logged.map((l) => l.duplicate)).toEqual([false, true]);
    expect(JSON.stringify(logged)).not.toContain('https://app.example/reset');
  });
});

describe('SendGrid event webhook', () => {
  const signer = createEventWebhookSigner();
  const verifier = new SendGridWebhookVerifier({ publicKey: signer.publicKey });
  const body = JSON.stringify([
    sendGridEvent('delivered', { email: 'ana@example.com', idempotency_key: 'password-reset:req-1' }),
    sendGridEvent('bounce', { email: 'Gone@Example.com' }),
    sendGridEvent('bounce', { email: 'slow@example.com', type: 'blocked', reason: '421 try later' }),
    sendGridEvent('spamreport', { email: 'angry@example.com' }),
    sendGridEvent('group_unsubscribe', { email: 'busy@example.com', category: 'weekly-digest' }),
    sendGridEvent('dropped', { email: 'old@example.com', reason: 'Unsubscribed Address' }),
  ]);

  it('verifies a delivery signed like SendGrid signs it', () => {
    const { signature, timestamp } = signer.sign(body);
    expect(() => verifier.verify(Buffer.from(body), signature, timestamp)).not.toThrow();
  });

  it('rejects a tampered payload, a moved timestamp, another key and missing headers', () => {
    const { signature, timestamp } = signer.sign(body);
    const tampered = body.replace('Gone@Example.com', 'ceo@example.com');
    expect(() => verifier.verify(tampered, signature, timestamp)).toThrow(EmailWebhookSignatureError);
    expect(() => verifier.verify(tampered, signature, timestamp)).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
    expect(() => verifier.verify(body, signature, String(Number(timestamp) + 1))).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
    const other = createEventWebhookSigner().sign(body);
    expect(() => verifier.verify(body, other.signature, other.timestamp)).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
    expect(() => verifier.verify(body, 'not-base64-der', timestamp)).toThrow(expect.objectContaining({ problem: 'bad_signature' }));
    expect(() => verifier.verify(body, undefined, timestamp)).toThrow(expect.objectContaining({ problem: 'missing_header' }));
  });

  it('rejects a correctly signed but old delivery (replay)', () => {
    const old = signer.sign(body, Math.floor(Date.now() / 1000) - 3600);
    expect(() => verifier.verify(body, old.signature, old.timestamp)).toThrow(expect.objectContaining({ problem: 'stale_timestamp' }));
  });

  it('parses the events and turns them into the suppressions a sender must respect', () => {
    const events = parseSendGridEvents(Buffer.from(body));
    expect(events.map((e) => e.type)).toEqual(['delivered', 'bounce', 'blocked', 'spamreport', 'group_unsubscribe', 'dropped']);
    expect(events[0]).toMatchObject({ email: 'ana@example.com', idempotencyKey: 'password-reset:req-1', categories: ['weekly-digest'], id: expect.any(String) });
    expect(events[0]!.providerMessageId).not.toContain('.filter');

    const list = events.reduce<Suppression[]>((acc, e) => {
      const change = suppressionFromEvent(e);
      return change ? applySuppressionChange(acc, change) : acc;
    }, []);
    expect(mayReceive('gone@example.com', 'password-reset', list)).toEqual({ allowed: false, reason: 'bounce' });
    expect(mayReceive('slow@example.com', 'weekly-digest', list)).toEqual({ allowed: true });
    expect(mayReceive('angry@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: 'spamreport' });
    expect(mayReceive('angry@example.com', 'payment-failed', list)).toEqual({ allowed: true });
    expect(mayReceive('busy@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: 'group_unsubscribe' });
    expect(mayReceive('old@example.com', 'weekly-digest', list)).toEqual({ allowed: false, reason: 'unsubscribe' });
    expect(mayReceive('ana@example.com', 'weekly-digest', list)).toEqual({ allowed: true });
  });

  it('skips entries that are not events instead of failing the batch', () => {
    const mixed = JSON.stringify([{ nonsense: true }, sendGridEvent('open', { email: 'ana@example.com' })]);
    expect(parseSendGridEvents(mixed).map((e) => e.type)).toEqual(['open']);
    expect(() => parseSendGridEvents('not json')).toThrow(SyntaxError);
  });
});
