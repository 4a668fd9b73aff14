import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailLinkRoutes } from '../../src/http/routes/email-links.routes.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

// Without SENDGRID_API_KEY every email lands in the development outbox.
let platform: TestPlatform;

const PUBLIC_URL = 'https://coach.example';
const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

interface OutboxEntry {
  id: string;
  category: string;
  to: { email: string; name?: string };
  from: { email: string; name?: string };
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl?: string;
  createdAt: string;
}

beforeAll(async () => {
  platform = await startTestPlatform({ PUBLIC_URL, PASSWORD_RESETS_PER_HOUR: '3' });
});
afterAll(async () => {
  await platform?.stop();
});

function post(url: string, payload?: object, headers: Record<string, string> = {}) {
  return platform.app.inject({ method: 'POST', url, headers, ...(payload !== undefined ? { payload } : {}) });
}

async function outbox(session: CreatorSession): Promise<OutboxEntry[]> {
  const response = await platform.app.inject({ url: '/v1/dev/outbox?limit=100', headers: session.auth });
  expect(response.statusCode).toBe(200);
  return (response.json() as { entries: OutboxEntry[] }).entries;
}

/** Waits until the creator's outbox holds `count` emails of `category`; returns them, newest first. */
async function mail(session: CreatorSession, category: string, count = 1): Promise<OutboxEntry[]> {
  return waitFor(
    async () => {
      const found = (await outbox(session)).filter((e) => e.category === category);
      return found.length >= count ? found : undefined;
    },
    { what: `${count} ${category} email(s) for ${session.email}` },
  );
}

/** The token in an emailed account link (`…#token=<token>`). */
function linkToken(entry: OutboxEntry): string {
  const match = /#token=([A-Za-z0-9_-]+)/.exec(entry.text);
  if (!match) throw new Error(`no link token in: ${entry.text}`);
  return match[1]!;
}

async function messagesTo(email: string) {
  const { rows } = await platform.infrastructure.database.pool.query<{ category: string; status: string; text_body: string | null }>(
    `SELECT category, status, text_body FROM email_messages WHERE lower(to_email) = lower($1) ORDER BY created_at`,
    [email],
  );
  return rows;
}

describe('email verification', () => {
  it('signup emails a confirmation link to the outbox, where only its creator reads it', async () => {
    const ana = await signUpCreator(platform.app, { name: 'Ana' });
    const other = await signUpCreator(platform.app, { name: 'Other' });
    const [entry] = await mail(ana, 'verify-email');
    expect(entry).toMatchObject({
      to: { email: ana.email, name: 'Ana' },
      from: { email: 'no-reply@coachbot.local', name: 'Coachbot' },
      subject: 'Confirm your email for Coachbot',
    });
    expect(entry!.text).toContain(`${PUBLIC_URL}/account/verify-email#token=`);
    expect(entry!.html).toContain(`${PUBLIC_URL}/account/verify-email#token=`);
    await mail(other, 'verify-email');
    expect((await outbox(other)).map((e) => e.to.email)).toEqual([other.email]);

    const confirmed = await post('/v1/auth/verify-email', { token: linkToken(entry!) });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({ verified: true, email: ana.email });

    const again = await post('/v1/auth/verify-email', { token: linkToken(entry!) });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('INVALID_TOKEN');

    const resend = await post('/v1/auth/verify-email/resend', undefined, ana.auth);
    expect(resend.statusCode).toBe(202);
    expect(resend.json()).toEqual({ alreadyVerified: true });
  });

  it('drops the body of a sent email from the send queue: the link lives only in the mailbox', async () => {
    const ben = await signUpCreator(platform.app, { name: 'Ben' });
    await mail(ben, 'verify-email');
    const rows = await waitFor(async () => {
      const found = await messagesTo(ben.email);
      return found[0]?.status === 'sent' ? found : undefined;
    });
    expect(rows).toEqual([{ category: 'verify-email', status: 'sent', text_body: null }]);
  });

  it('sends the link to the dashboard’s screen, with the token kept out of the request', async () => {
    for (const screen of ['verify-email', 'reset-password']) {
      const link = await platform.app.inject({ url: `/account/${screen}` });
      expect([link.statusCode, link.headers.location]).toEqual([302, `/app/account/${screen}`]);
      const page = await platform.app.inject({ url: `/app/account/${screen}` });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<div id="root">');
    }
  });

  it('serves a page of its own at the link when no dashboard is built', async () => {
    const app = Fastify().setValidatorCompiler(validatorCompiler).setSerializerCompiler(serializerCompiler);
    await app.register(emailLinkRoutes, { feedback: { unsubscribe: () => Promise.reject(new Error('not used')) }, dashboardBuilt: () => false });
    try {
      const page = await app.inject({ url: '/account/verify-email' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('/v1/auth/verify-email');
      expect((await app.inject({ url: '/account/reset-password' })).body).toContain('/v1/auth/password-reset/confirm');
    } finally {
      await app.close();
    }
  });
});

describe('password reset', () => {
  it('emails a link that sets a new password once and ends every session', async () => {
    const cara = await signUpCreator(platform.app, { name: 'Cara' });
    const requested = await post('/v1/auth/password-reset', { email: cara.email.toUpperCase() });
    expect(requested.statusCode).toBe(202);
    expect(requested.json()).toEqual({ accepted: true });
    const [entry] = await mail(cara, 'password-reset');
    expect(entry!.subject).toBe('Reset your Coachbot password');
    expect(entry!.text).toContain(`${PUBLIC_URL}/account/reset-password#token=`);
    expect(entry!.text).toContain('30 minutes');
    const token = linkToken(entry!);

    const wrong = await post('/v1/auth/password-reset/confirm', { token: `${token.slice(0, -4)}AAAA`, password: 'a brand new passphrase' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('INVALID_TOKEN');
    const short = await post('/v1/auth/password-reset/confirm', { token, password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.code).toBe('VALIDATION_FAILED');

    const listBots = (authorization: string) => platform.app.inject({ method: 'GET', url: '/v1/bots', headers: { authorization } });
    expect((await listBots(cara.auth.authorization)).statusCode).toBe(200);
    const reset = await post('/v1/auth/password-reset/confirm', { token, password: 'a brand new passphrase' });
    expect(reset.statusCode).toBe(204);

    // The access token issued before the reset stops working at once, not at its expiry.
    expect((await listBots(cara.auth.authorization)).statusCode).toBe(401);
    expect((await post('/v1/auth/login', { email: cara.email, password: cara.password })).statusCode).toBe(401);
    const fresh = await post('/v1/auth/login', { email: cara.email, password: 'a brand new passphrase' });
    expect(fresh.statusCode).toBe(200);
    expect((await listBots(`Bearer ${fresh.json().accessToken}`)).statusCode).toBe(200);
    expect((await post('/v1/auth/refresh', { refreshToken: cara.refreshToken })).statusCode).toBe(401);

    const reused = await post('/v1/auth/password-reset/confirm', { token, password: 'yet another passphrase' });
    expect(reused.statusCode).toBe(400);
    expect(reused.json().error.code).toBe('INVALID_TOKEN');
    expect((await post('/v1/auth/login', { email: cara.email, password: 'a brand new passphrase' })).statusCode).toBe(200);
  });

  it('refuses an expired link and leaves the password as it was', async () => {
    const dan = await signUpCreator(platform.app, { name: 'Dan' });
    await post('/v1/auth/password-reset', { email: dan.email });
    const [entry] = await mail(dan, 'password-reset');
    // Thirty minutes pass.
    await platform.infrastructure.database.pool.query(`UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE creator_id = $1`, [dan.creatorId]);
    const expired = await post('/v1/auth/password-reset/confirm', { token: linkToken(entry!), password: 'a brand new passphrase' });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().error.code).toBe('INVALID_TOKEN');
    expect((await post('/v1/auth/login', { email: dan.email, password: dan.password })).statusCode).toBe(200);
  });

  it('answers an unknown address exactly like a known one and sends nothing', async () => {
    const known = await signUpCreator(platform.app);
    const forKnown = await post('/v1/auth/password-reset', { email: known.email });
    const forUnknown = await post('/v1/auth/password-reset', { email: 'nobody-here@example.test' });
    expect(forUnknown.statusCode).toBe(forKnown.statusCode);
    expect(forUnknown.body).toBe(forKnown.body);
    // The request is handled before the answer: had it queued anything, it would be stored by now.
    expect(await messagesTo('nobody-here@example.test')).toEqual([]);
  });

  it('caps reset emails to one address however often they are requested', async () => {
    const eve = await signUpCreator(platform.app);
    for (let i = 0; i < 5; i++) expect((await post('/v1/auth/password-reset', { email: eve.email })).statusCode).toBe(202);
    await mail(eve, 'password-reset', 3);
    expect((await messagesTo(eve.email)).filter((m) => m.category === 'password-reset')).toHaveLength(3);
  });
});

describe('document ingestion failed', () => {
  it('tells the creator by email which document failed and why', async () => {
    const fay = await signUpCreator(platform.app, { name: 'Fay' });
    const bot = await createBot(platform.app, fay.auth, { name: 'Sleep Coach' });
    const added = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${bot.id}/documents`,
      headers: fay.auth,
      payload: { url: 'http://127.0.0.1:9/internal', title: 'Internal notes' },
    });
    expect(added.statusCode).toBe(202);
    const [entry] = await mail(fay, 'document-ingestion-failed');
    expect(entry!.subject).toBe('“Internal notes” could not be added to Sleep Coach');
    expect(entry!.text).toContain('Address 127.0.0.1 is not allowed: it is a loopback address');
    expect(entry!.to.email).toBe(fay.email);
  });
});

describe('weekly digest', () => {
  function chat(session: CreatorSession, botId: string, sessionId: string, text: string) {
    return platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/chat`, headers: session.auth, payload: { sessionId, text } });
  }

  it('reports conversations, active contacts and unanswered questions per bot, once a week', async () => {
    const gil = await signUpCreator(platform.app, { name: 'Gil' });
    const coach = await createBot(platform.app, gil.auth, { name: 'Steady Habits Coach', language: 'en' });
    await uploadAndIngest(platform.app, gil.auth, coach.id, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide });
    // Two people talk to the coach; two of their questions are not in the material.
    expect((await chat(gil, coach.id, 'person-1', 'How much sleep do adults need?')).statusCode).toBe(200);
    expect((await chat(gil, coach.id, 'person-1', 'Could you tell me the exact airspeed velocity of an unladen European swallow?')).statusCode).toBe(200);
    expect((await chat(gil, coach.id, 'person-2', 'Which mortgage broker do you recommend?')).statusCode).toBe(200);
    // Someone else's bot stays out of Gil's digest.
    const hal = await signUpCreator(platform.app, { name: 'Hal' });
    const halBot = await createBot(platform.app, hal.auth, { name: 'Hal Bot' });
    expect((await chat(hal, halBot.id, 'x', 'Tell me about volcanoes')).statusCode).toBe(200);
    // Each page had its reply a moment before the turn was recorded as answered.
    await waitFor(
      async () => {
        const { rows } = await platform.infrastructure.database.pool.query<{ open: number }>(
          `SELECT count(*)::int AS open FROM turns WHERE bot_id = ANY($1::uuid[]) AND (status IS NULL OR status = 'processing')`,
          [[coach.id, halBot.id]],
        );
        return rows[0]!.open === 0;
      },
      { what: 'every turn to be recorded' },
    );

    // The digest covers the week that has ended by the next scheduled day.
    const nextWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000);
    expect(await platform.email.digests!.sendDue(nextWeek)).toBeGreaterThanOrEqual(2);
    const [digest] = await mail(gil, 'weekly-digest');
    expect(digest!.subject).toBe('Your week with Coachbot: 2 conversations');
    expect(digest!.text).toContain('2 conversations with 2 people; 2 questions your material did not answer.');
    expect(digest!.text).toContain(
      [
        'Steady Habits Coach',
        '  Conversations: 2',
        '  Active contacts: 2',
        '  Unanswered questions: 2',
        '    - Which mortgage broker do you recommend?',
        '    - Could you tell me the exact airspeed velocity of an unladen European swallow?',
      ].join('\n'),
    );
    expect(digest!.text).not.toContain('volcanoes');
    expect(digest!.unsubscribeUrl).toMatch(new RegExp(`^${PUBLIC_URL}/email/unsubscribe\\?token=`));

    // Another pass in the same week sends nothing more.
    await platform.email.digests!.sendDue(nextWeek);
    expect((await outbox(gil)).filter((e) => e.category === 'weekly-digest')).toHaveLength(1);

    // Unsubscribing (the one-click POST mail clients send) stops next week's digest, not account mail.
    const unsubscribeUrl = new URL(digest!.unsubscribeUrl!);
    const unsubscribed = await platform.app.inject({
      method: 'POST',
      url: `${unsubscribeUrl.pathname}${unsubscribeUrl.search}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(unsubscribed.statusCode).toBe(200);
    const forged = await platform.app.inject({ method: 'POST', url: `/email/unsubscribe?token=${hal.creatorId}.weekly-digest.forged` });
    expect(forged.statusCode).toBe(400);
    await platform.email.digests!.sendDue(new Date(nextWeek.getTime() + 7 * 24 * 3600 * 1000));
    await waitFor(async () => (await messagesTo(gil.email)).some((m) => m.category === 'weekly-digest' && m.status === 'suppressed'), {
      what: "the second week's digest to be suppressed",
    });
    expect((await outbox(gil)).filter((e) => e.category === 'weekly-digest')).toHaveLength(1);
    await post('/v1/auth/password-reset', { email: gil.email });
    await mail(gil, 'password-reset');
  });
});
