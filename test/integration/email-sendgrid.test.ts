import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailJobId } from '../../workers/email.worker.js';
import { signUpCreator } from '../support/creator-session.js';
import { createEventWebhookSigner, sendGridEvent, startFakeSendGrid, type FakeSendGrid } from '../support/fake-sendgrid.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// With SENDGRID_API_KEY set, mail goes through the real @sendgrid/mail client to a local fake of
// SendGrid's v3 API (SENDGRID_API_BASE); its Event Webhook is signed with a fresh P-256 key.
const API_KEY = 'SG.test-key.email-platform';
const signer = createEventWebhookSigner();
let sendgrid: FakeSendGrid;
let platform: TestPlatform;

beforeAll(async () => {
  sendgrid = await startFakeSendGrid({ apiKey: API_KEY });
  platform = await startTestPlatform({
    SENDGRID_API_KEY: API_KEY,
    SENDGRID_API_BASE: sendgrid.url,
    SENDGRID_WEBHOOK_PUBLIC_KEY: signer.publicKey,
    MAIL_FROM: 'hello@coach.example',
    MAIL_FROM_NAME: 'Coach Platform',
  });
});
afterAll(async () => {
  await platform?.stop();
  await sendgrid?.close();
});

function sentTo(email: string, category?: string) {
  return sendgrid.messages.filter((m) => m.to.includes(email) && (!category || m.categories.includes(category)));
}

function webhook(body: string, headers: Record<string, string>) {
  return platform.app.inject({ method: 'POST', url: '/webhooks/sendgrid', headers: { 'content-type': 'application/json', ...headers }, payload: body });
}

async function messageRow(email: string, category: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ id: string; dedupe_key: string; status: string; attempts: number; error: string | null }>(
    `SELECT id, dedupe_key, status, attempts, error FROM email_messages WHERE lower(to_email) = lower($1) AND category = $2`,
    [email, category],
  );
  return rows;
}

describe('sending through SendGrid', () => {
  it('signup sends the verification email to SendGrid, and there is no outbox', async () => {
    const ana = await signUpCreator(platform.app, { name: 'Ana' });
    const [message] = await waitFor(() => {
      const found = sentTo(ana.email, 'verify-email');
      return found.length ? found : undefined;
    });
    expect(message).toMatchObject({ from: { email: 'hello@coach.example', name: 'Coach Platform' }, subject: 'Confirm your email for Coach Platform' });
    expect(message!.text).toMatch(/\/account\/verify-email#token=/);
    expect(message!.customArgs.idempotency_key).toMatch(/^verify-email:/);
    // SendGrid accepted it before the worker recorded so.
    const [row] = await waitFor(async () => {
      const rows = await messageRow(ana.email, 'verify-email');
      return rows[0]?.status === 'sent' ? rows : undefined;
    });
    expect(row!.attempts).toBe(1);

    const outbox = await platform.app.inject({ url: '/v1/dev/outbox', headers: ana.auth });
    expect(outbox.statusCode).toBe(404);
    expect(outbox.json().error.code).toBe('OUTBOX_DISABLED');
    const { rows } = await platform.infrastructure.database.pool.query('SELECT 1 FROM email_outbox');
    expect(rows).toHaveLength(0);
  });

  it('retries after a SendGrid outage and sends the email exactly once', async () => {
    sendgrid.failNext(503);
    const ben = await signUpCreator(platform.app, { name: 'Ben' });
    await waitFor(() => sentTo(ben.email).length > 0, { what: 'the retried verification email' });
    const [row] = await waitFor(async () => {
      const rows = await messageRow(ben.email, 'verify-email');
      return rows[0]?.status === 'sent' ? rows : undefined;
    });
    expect(row!.attempts).toBe(2);
    expect(sendgrid.requests.filter((r) => r.body.includes(ben.email))).toHaveLength(2);

    // The same job delivered again (e.g. after a stalled worker) finds the email sent.
    const duplicateJob = `${emailJobId(row!.dedupe_key)}_again`;
    await platform.infrastructure.queues.enqueue('email', { messageId: row!.id }, { jobId: duplicateJob });
    await waitFor(async () => (await platform.infrastructure.queues.jobState('email', duplicateJob)) === 'completed', { what: 'the duplicate job' });
    // The same email asked for again under its key is not queued twice.
    const again = await platform.email.email.send({
      category: 'verify-email',
      to: { email: ben.email },
      data: { name: 'Ben', verifyUrl: 'https://coach.example/account/verify-email#token=x', expiresInHours: 48 },
      dedupeKey: row!.dedupe_key,
    });
    expect(again).toEqual({ id: row!.id, duplicate: true });
    expect(sentTo(ben.email)).toHaveLength(1);
  });

  it('sends an email whose enqueue was lost, once the sweep finds it', async () => {
    const fay = await signUpCreator(platform.app, { name: 'Fay' });
    // Stored two minutes ago, but its job never reached the queue (e.g. Redis lost it).
    await platform.infrastructure.database.pool.query(
      `INSERT INTO email_messages (dedupe_key, creator_id, category, to_email, subject, text_body, html_body, created_at)
       VALUES ('payment-failed:in_lost', $1, 'payment-failed', $2, 'Your payment for Pro did not go through', 'text', '<p>html</p>', now() - interval '2 minutes')`,
      [fay.creatorId, fay.email],
    );
    expect(await platform.email.email.requeueStale(new Date(Date.now() - 60_000))).toBe(1);
    await waitFor(() => sentTo(fay.email, 'payment-failed').length === 1, { what: 'the swept email' });
    await waitFor(async () => (await messageRow(fay.email, 'payment-failed'))[0]?.status === 'sent');
    expect(await platform.email.email.requeueStale(new Date(Date.now() - 60_000))).toBe(0);
    expect(sentTo(fay.email, 'payment-failed')).toHaveLength(1);
  });

  it('sends billing notices for the billing worker, once per key', async () => {
    const cy = await signUpCreator(platform.app, { name: 'Cy' });
    const notice = {
      planName: 'Pro',
      amountDue: { amount: 1500, currency: 'usd' },
      accessUntil: new Date('2030-06-01T00:00:00Z'),
      nextAttempt: null,
      updatePaymentUrl: 'https://billing.example/portal',
      fallbackPlanName: 'Free',
    };
    await platform.email.notifications.paymentFailed(cy.creatorId, { name: 'Cy', ...notice }, 'payment-failed:in_test_1');
    await platform.email.notifications.paymentFailed(cy.creatorId, { name: 'Cy', ...notice }, 'payment-failed:in_test_1');
    const [message] = await waitFor(() => {
      const found = sentTo(cy.email, 'payment-failed');
      return found.length ? found : undefined;
    });
    expect(message!.subject).toBe('Your payment for Pro did not go through');
    expect(message!.text).toContain('We could not charge $15.00 for your Pro plan.');
    await waitFor(async () => (await messageRow(cy.email, 'payment-failed'))[0]?.status === 'sent');
    expect(sentTo(cy.email, 'payment-failed')).toHaveLength(1);
  });
});

describe('SendGrid event webhook', () => {
  it('records a bounce, after which nothing more is sent to that address', async () => {
    const dee = await signUpCreator(platform.app, { name: 'Dee' });
    await waitFor(() => sentTo(dee.email).length > 0);
    const body = JSON.stringify([
      sendGridEvent('delivered', { email: dee.email, category: ['verify-email'] }),
      sendGridEvent('bounce', { email: dee.email.toUpperCase(), category: ['verify-email'] }),
    ]);
    const delivered = await webhook(body, signer.sign(body).headers);
    expect(delivered.statusCode).toBe(200);
    expect(delivered.json()).toEqual({ received: 2, duplicates: 0, suppressionChanges: 1 });
    // SendGrid redelivers what it is unsure of: nothing changes twice.
    const redelivered = await webhook(body, signer.sign(body).headers);
    expect(redelivered.json()).toEqual({ received: 2, duplicates: 2, suppressionChanges: 0 });

    expect((await platform.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: dee.email } })).statusCode).toBe(202);
    const [row] = await waitFor(async () => {
      const rows = await messageRow(dee.email, 'password-reset');
      return rows[0]?.status === 'suppressed' ? rows : undefined;
    });
    expect(row!.error).toBe('suppressed: bounce');
    expect(sentTo(dee.email, 'password-reset')).toHaveLength(0);
  });

  it('records unsubscribes and spam reports as suppressions', async () => {
    const body = JSON.stringify([
      sendGridEvent('unsubscribe', { email: 'Leaver@Example.test' }),
      sendGridEvent('spamreport', { email: 'angry@example.test' }),
    ]);
    expect((await webhook(body, signer.sign(body).headers)).statusCode).toBe(200);
    const { rows } = await platform.infrastructure.database.pool.query(
      `SELECT email, reason FROM email_suppressions WHERE email IN ('leaver@example.test', 'angry@example.test') ORDER BY email`,
    );
    expect(rows).toEqual([
      { email: 'angry@example.test', reason: 'spamreport' },
      { email: 'leaver@example.test', reason: 'unsubscribe' },
    ]);
  });

  it('rejects a tampered, stale, unsigned or malformed delivery and stores nothing from it', async () => {
    const body = JSON.stringify([sendGridEvent('bounce', { email: 'victim@example.test' })]);
    const { headers } = signer.sign(body);

    const tampered = await webhook(body.replace('victim@', 'other-victim@'), headers);
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json().error).toMatchObject({ code: 'INVALID_SIGNATURE', details: { problem: 'bad_signature' } });

    const stale = signer.sign(body, Math.floor(Date.now() / 1000) - 3600);
    const replayed = await webhook(body, stale.headers);
    expect(replayed.statusCode).toBe(400);
    expect(replayed.json().error.details.problem).toBe('stale_timestamp');

    const unsigned = await webhook(body, {});
    expect(unsigned.statusCode).toBe(400);
    expect(unsigned.json().error.details.problem).toBe('missing_header');

    const otherKey = createEventWebhookSigner().sign(body);
    expect((await webhook(body, otherKey.headers)).statusCode).toBe(400);

    const notJson = '[{"email": "victim@example.test", ';
    const malformed = await webhook(notJson, signer.sign(notJson).headers);
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION_FAILED');

    const { rows: events } = await platform.infrastructure.database.pool.query(`SELECT 1 FROM email_events WHERE email LIKE '%victim@example.test'`);
    const { rows: suppressions } = await platform.infrastructure.database.pool.query(`SELECT 1 FROM email_suppressions WHERE email LIKE '%victim@example.test'`);
    expect(events).toHaveLength(0);
    expect(suppressions).toHaveLength(0);
  });
});

describe('a refusal retrying cannot fix', () => {
  it('is not retried: a revoked API key fails the email at once', async () => {
    const revoked = await startTestPlatform({ SENDGRID_API_KEY: 'SG.revoked-key', SENDGRID_API_BASE: sendgrid.url });
    try {
      const eli = await signUpCreator(revoked.app, { name: 'Eli' });
      const { rows } = await waitFor(async () => {
        const result = await revoked.infrastructure.database.pool.query<{ status: string; attempts: number; error: string }>(
          `SELECT status, attempts, error FROM email_messages WHERE to_email = $1`,
          [eli.email],
        );
        return result.rows[0]?.status === 'failed' ? result : undefined;
      });
      expect(rows[0]).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('SendGrid answered 401') });
      expect(sentTo(eli.email)).toHaveLength(0);
    } finally {
      await revoked.stop();
    }
  });
});
