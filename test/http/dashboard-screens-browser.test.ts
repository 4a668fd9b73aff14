/**
 * The dashboard's account and management screens in Debian's Chromium against the real platform,
 * with fake Stripe and WhatsApp Cloud API servers: the emailed verification and reset links, bot
 * settings and paid access, WhatsApp credentials (the verify token shown is the one Meta's check
 * must send) and the saved connection, a website read into the knowledge base from a local site,
 * API keys, deliveries, analytics, billing and deleting a bot. Every screen is checked
 * with axe and photographed at phone and desktop sizes under test-results/dashboard/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot } from '../support/creator-session.js';
import { checkScreen, chromiumMissing, DESKTOP, launchChromium, screenHeading, serve, walkOrPhotograph, watchPage } from '../support/dashboard-browser.js';
import { htmlPage, sitemap, startFakeSite, type FakeSite } from '../support/fake-site.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';
import { startFakeWhatsApp, type FakeWhatsApp } from '../support/fake-whatsapp.js';
import { parseSse } from '../support/sse.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

const PUBLIC_URL = 'https://coach.example.test';
const PHONE_NUMBER_ID = '106540352242922';
const plans = [
  { id: 'free', name: 'Free', limits: { bots: 3, documents: 10, storageBytes: 10_000_000, repliesPerMonth: 100, contacts: null } },
  { id: 'pro', name: 'Pro', stripePriceId: 'price_000000000000000000000000', limits: { bots: 10, documents: 100, storageBytes: 100_000_000, repliesPerMonth: 5000, contacts: null } },
];

let platform: TestPlatform;
let stripe: FakeStripe;
let whatsapp: FakeWhatsApp;
let site: FakeSite;
let browser: Browser | undefined;
let base: string;
/** Refusals a step provokes on purpose, as "status path-suffix". */
const expectedRefusals = new Set<string>();

/** An API request as the creator, with a bearer token (the test's side door; the browser uses its cookie). */
async function asCreator(token: string, method: 'GET' | 'POST', url: string, payload?: object) {
  return platform.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
}

/** The token in the newest emailed link of `category` in the creator's development outbox. */
async function emailedToken(token: string, category: string): Promise<string> {
  return waitFor(
    async () => {
      const response = await asCreator(token, 'GET', '/v1/dev/outbox?limit=100');
      const entries = (response.json() as { entries: Array<{ category: string; text: string }> }).entries.filter((e) => e.category === category);
      return entries[0] ? /#token=([A-Za-z0-9_-]+)/.exec(entries[0].text)?.[1] : undefined;
    },
    { what: `a ${category} email` },
  );
}

describe.skipIf(chromiumMissing)('the dashboard’s account and management screens in a browser', () => {
  beforeAll(async () => {
    stripe = await startFakeStripe();
    whatsapp = await startFakeWhatsApp();
    whatsapp.addPhoneNumber(PHONE_NUMBER_ID, '+1 555-010-0100', 'Trace Coaching');
    site = await startFakeSite();
    serveCoachingSite(site);
    platform = await startTestPlatform({
      PUBLIC_URL,
      WHATSAPP_GRAPH_URL: whatsapp.url,
      PLANS_JSON: JSON.stringify(plans),
      STRIPE_SECRET_KEY: 'sk_test_51coachbotDASHBOARDkey00000000',
      STRIPE_WEBHOOK_SECRET: 'whsec_test_coachbot_dashboard',
      STRIPE_API_BASE: stripe.url,
      // The local site is the one private address the crawler may reach.
      URL_FETCH_ALLOWED_RANGES: '127.0.0.1/32',
      CRAWL_DELAY_MS: '0',
      CRAWL_MAX_PAGES: String(SITE_PAGES + 5),
    });
    base = await serve(platform);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await whatsapp?.close();
    await stripe?.close();
    await site?.close();
  });

  it('lets a creator confirm their email, set up, publish on WhatsApp, watch and bill a bot, reset their password and delete the bot', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    // Signed out at start (401 to the refresh), and the refusals a step provokes on purpose.
    const pageProblems = watchPage(
      page,
      base,
      (status, pathname) =>
        (status === 401 && pathname === '/v1/auth/refresh') ||
        (status === 404 && pathname.endsWith('/channels/web')) ||
        [...expectedRefusals].some((e) => e === `${status} ${pathname.split('/').slice(-2).join('/')}`),
    );
    const violations: string[] = [];
    await walkOrPhotograph(page, 'screens-failure', () => walkThrough(page, violations));
    expect(violations).toEqual([]);
    expect(pageProblems).toEqual([]);
    await context.close();
  }, 300_000);
});

async function walkThrough(page: Page, violations: string[]): Promise<void> {
  // Sign up in the browser; the test reads the creator's mail and seeds a conversation through the API.
  const email = `lee-${Date.now()}@example.test`;
  const password = 'a long passphrase';
  await page.goto(`${base}/app/signup`);
  await page.getByLabel('Your name').fill('Lee Coach');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await screenHeading(page, 'Your bots').waitFor();
  const login = await platform.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  const token = (login.json() as { accessToken: string }).accessToken;
  const bot = await createBot(platform.app, { authorization: `Bearer ${token}` }, { name: 'Sleep Coach', language: 'en' });
  // Nothing in its knowledge base yet: the answer is "I don't know", which analytics lists as what to write next.
  const asked = await asCreator(token, 'POST', `/v1/bots/${bot.id}/chat`, { sessionId: 'visitor-1', text: 'How long should a nap be?' });
  expect(parseSse(asked.body).at(-1)).toMatchObject({ event: 'done' });
  await waitFor(
    async () => {
      const sent = await asCreator(token, 'GET', `/v1/bots/${bot.id}/deliveries?status=sent`);
      return (sent.json() as { deliveries: unknown[] }).deliveries.length > 0;
    },
    { what: 'the reply to be recorded as sent' },
  );

  // The verification email's link (on the platform's address) opens the dashboard's screen, token and all,
  // which confirms the address; a spent link is explained.
  const verifyToken = await emailedToken(token, 'verify-email');
  await page.goto(`${base}/account/verify-email#token=${verifyToken}`);
  await screenHeading(page, 'Confirm your email').waitFor();
  expect(new URL(page.url()).pathname).toBe('/app/account/verify-email');
  await page.getByText(`Thank you: ${email} is confirmed.`).waitFor();
  violations.push(...(await checkScreen(page, '20-verify-email')));
  expectedRefusals.add('400 auth/verify-email');
  await page.reload();
  await page.getByRole('alert').waitFor();
  expect(await page.getByRole('alert').textContent()).not.toMatch(/^[A-Z_]+$|HTTP 400/);

  // Settings: a value out of range is explained before anything is sent; saved values come back after a reload.
  await page.goto(`${base}/app/bots/${bot.id}/settings`);
  await screenHeading(page, 'Settings').waitFor();
  violations.push(...(await checkScreen(page, '21-settings')));
  await page.getByLabel('Persona', { exact: true }).fill('A calm sleep coach who answers in two sentences.');
  await page.getByLabel('Temperature').fill('5');
  await page.getByLabel('Unknown answer').fill('I have not written about that yet.');
  await page.getByLabel('Human handoff phrases').fill('talk to Lee\nreal person');
  await page.getByLabel('Quiet from').fill('22:00');
  await page.getByLabel('Quiet until').fill('07:30');
  await page.getByLabel('Embedding model').fill('mxbai-embed-large');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Between 0 and 2').waitFor();
  await page.getByLabel('Temperature').fill('0.7');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  const stored = (await asCreator(token, 'GET', `/v1/bots/${bot.id}`)).json() as { persona: string; settings: Record<string, unknown> };
  expect(stored.persona).toBe('A calm sleep coach who answers in two sentences.');
  expect(stored.settings).toMatchObject({
    temperature: 0.7,
    unknownAnswer: 'I have not written about that yet.',
    humanHandoffPhrases: ['talk to Lee', 'real person'],
    quietHoursStart: '22:00',
    quietHoursEnd: '07:30',
    embeddingModel: 'mxbai-embed-large',
  });
  await page.reload();
  expect(await page.getByLabel('Quiet from').inputValue()).toBe('22:00');
  expect(await page.getByLabel('Embedding model').inputValue()).toBe('mxbai-embed-large');

  // Paid access for the bot's users.
  await page.getByLabel('Free replies a month').fill('5');
  await page.getByLabel('Stripe price ID').fill('price_1QsleepCoach');
  await page.getByLabel('Users pay').selectOption('payment');
  await page.getByRole('button', { name: 'Turn on paid access' }).click();
  await page.getByText('On: each user gets 5 free replies a month').waitFor();
  expect((await asCreator(token, 'GET', `/v1/bots/${bot.id}/premium`)).json()).toEqual({
    premium: { freeRepliesPerMonth: 5, stripePriceId: 'price_1QsleepCoach', mode: 'payment' },
  });
  violations.push(...(await checkScreen(page, '22-settings-saved')));

  // WhatsApp: a wrong token is refused in words; the right one connects, and the verify token shown is the one Meta's check must send.
  await page.getByRole('navigation', { name: 'Bot sections' }).getByRole('link', { name: 'Publish' }).click();
  const section = page.getByRole('region', { name: 'WhatsApp' });
  await section.waitFor();
  violations.push(...(await checkScreen(page, '23-whatsapp')));
  await section.getByLabel('Phone number ID').fill(PHONE_NUMBER_ID);
  await section.getByLabel('WhatsApp Business Account ID').fill('102290129340398');
  await section.getByLabel('Access token').fill('EAAGnot-the-token-meta-gave-you');
  await section.getByLabel('App secret').fill('0123456789abcdef0123456789abcdef');
  const shownToken = await section.getByLabel('Verify token').inputValue();
  expect(shownToken.length).toBeGreaterThanOrEqual(8);
  expectedRefusals.add('400 channels/whatsapp').add('401 channels/whatsapp').add('502 channels/whatsapp');
  await section.getByRole('button', { name: 'Connect WhatsApp' }).click();
  const refusal = section.getByRole('alert');
  await refusal.waitFor();
  expect(await refusal.textContent()).not.toMatch(/^[A-Z_]+$|HTTP \d{3}/);
  await section.getByLabel('Access token').fill(whatsapp.accessToken);
  await section.getByRole('button', { name: 'Connect WhatsApp' }).click();
  await section.getByText('Connected to +1 555-010-0100').waitFor();
  await section.getByText(`${PUBLIC_URL}/webhooks/whatsapp`).waitFor();
  await section.getByText('Verify token (saved)').waitFor();
  await section.getByRole('button', { name: 'Copy verify token' }).click();
  await section.getByText('Verify token copied.').waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(shownToken);
  const challenge = await platform.app.inject({
    url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(shownToken)}&hub.challenge=1158201444`,
  });
  expect([challenge.statusCode, challenge.body]).toEqual([200, '1158201444']);
  violations.push(...(await checkScreen(page, '24-whatsapp-connected')));
  // After a reload the form is empty again; what the server keeps shows: number, state, callback URL, the verify token's end.
  await page.reload();
  const saved = page.getByRole('region', { name: 'WhatsApp' }).getByRole('group', { name: 'Current WhatsApp connection' });
  await saved.getByText('+1 555-010-0100').waitFor();
  await saved.getByText('Connected', { exact: true }).waitFor();
  await saved.getByText(`${PUBLIC_URL}/webhooks/whatsapp`).waitFor();
  await saved.getByText(`Saved; it ends in ${shownToken.slice(-4)}.`).waitFor();
  violations.push(...(await checkScreen(page, '24b-whatsapp-saved-connection')));
  page.once('dialog', (dialog) => void dialog.accept());
  await section.getByRole('button', { name: 'Disconnect WhatsApp' }).click();
  await section.getByRole('button', { name: 'Connect WhatsApp' }).waitFor();
  await waitFor(async () => (await asCreator(token, 'GET', `/v1/bots/${bot.id}`)).json().channels.length === 0, { what: 'WhatsApp disconnected' });

  await addWebsite(page, violations, token, bot.id);

  // Deliveries: the reply sent in the seeded conversation; the failed filter is empty and says so.
  await page.getByRole('link', { name: 'Deliveries' }).click();
  await screenHeading(page, 'Deliveries').waitFor();
  const reply = page.getByRole('row').filter({ hasText: 'Sent' });
  await reply.first().waitFor();
  violations.push(...(await checkScreen(page, '25-deliveries')));
  await page.getByLabel('Show').selectOption('failed');
  await page.getByText('No failed messages').waitFor();

  // Analytics: the unanswered question is what to write next; the charts have names.
  await page.getByRole('link', { name: 'Analytics' }).click();
  await screenHeading(page, 'Analytics').waitFor();
  await page.getByRole('list', { name: 'Questions without an answer' }).getByText('How long should a nap be?').waitFor();
  await page.getByRole('img', { name: /^Messages: 1 received and 1 sent/ }).waitFor();
  violations.push(...(await checkScreen(page, '26-analytics')));

  // Coaching: a program of two steps (a second with the same slug is refused in words), a habit, and a broadcast to everyone
  // whose totals the screen states (the web visitor is a contact web chat cannot reach unasked, so it is skipped).
  await page.getByRole('navigation', { name: 'Bot sections' }).getByRole('link', { name: 'Coaching' }).click();
  await screenHeading(page, 'Coaching').waitFor();
  await page.getByText('No programs yet').waitFor();
  await page.getByText('No broadcasts yet').waitFor();
  violations.push(...(await checkScreen(page, '31-coaching-empty')));
  const newProgram = page.getByRole('form', { name: 'New program' });
  await newProgram.getByLabel('Program name').fill('Better sleep in a week');
  await newProgram.getByLabel('Slug').fill('sleep-week');
  await newProgram.getByLabel('Step 1 text').fill('Welcome: tonight, no screens after 22:00.');
  await newProgram.getByRole('button', { name: 'Add step' }).click();
  await newProgram.getByLabel('Step 2 text').fill('How did the first night go?');
  await newProgram.getByLabel('Step 2: wait after the previous step').fill('1');
  await newProgram.getByRole('button', { name: 'Create program' }).click();
  await page.getByRole('row', { name: /Better sleep in a week/ }).getByRole('cell', { name: '2', exact: true }).waitFor();
  await page.getByText('/start sleep-week').waitFor();
  const programs = (await asCreator(token, 'GET', `/v1/bots/${bot.id}/programs`)).json() as { programs: Array<{ slug: string; steps: unknown[] }> };
  expect(programs.programs).toMatchObject([{ slug: 'sleep-week', steps: [{ text: 'Welcome: tonight, no screens after 22:00.', afterDays: 0 }, { text: 'How did the first night go?', afterDays: 1 }] }]);
  expectedRefusals.add(`409 ${bot.id}/programs`);
  await newProgram.getByLabel('Program name').fill('Same slug');
  await newProgram.getByLabel('Slug').fill('sleep-week');
  await newProgram.getByLabel('Step 1 text').fill('Hello');
  await newProgram.getByRole('button', { name: 'Create program' }).click();
  await newProgram.getByRole('alert').filter({ hasText: 'Another program of this bot is called "sleep-week"' }).waitFor();
  const newHabit = page.getByRole('form', { name: 'New habit' });
  await newHabit.getByLabel('Habit name').fill('Lights out by 23:00');
  await newHabit.getByLabel('Asked at (their local time)').fill('22:30');
  for (const day of ['Monday', 'Wednesday', 'Friday']) await newHabit.getByLabel(day).check();
  await newHabit.getByRole('button', { name: 'Create habit' }).click();
  await page.getByText('22:30, Mon, Wed, Fri').waitFor();
  expect(((await asCreator(token, 'GET', `/v1/bots/${bot.id}/habits`)).json() as { habits: unknown[] }).habits).toMatchObject([
    { name: 'Lights out by 23:00', localTime: '22:30', daysOfWeek: [1, 3, 5], timesPerWeek: null },
  ]);
  const newBroadcast = page.getByRole('form', { name: 'New broadcast' });
  await newBroadcast.getByLabel('Message').fill('New: a one-week sleep program. Send /start sleep-week to join.');
  await newBroadcast.getByLabel('Send to').selectOption('all');
  await newBroadcast.getByRole('button', { name: 'Send broadcast' }).click();
  const sentRow = page.getByRole('row', { name: /one-week sleep program/ });
  await sentRow.getByText('Done').waitFor();
  const [sent] = ((await asCreator(token, 'GET', `/v1/bots/${bot.id}/broadcasts`)).json() as { broadcasts: Array<{ total: number; sent: number; failed: number; skipped: number }> }).broadcasts;
  await sentRow
    .getByText(sent!.total === 0 ? 'No contacts were in this group, so no one received it.' : `${sent!.sent} sent, ${sent!.failed} failed, ${sent!.skipped} skipped of ${sent!.total}`)
    .waitFor();
  violations.push(...(await checkScreen(page, '31-coaching-filled')));
  // A broadcast scheduled for tomorrow to the program's contacts, then cancelled; the habit deleted.
  const tomorrow = new Date(Date.now() + 24 * 3600_000);
  const local = (n: number) => String(n).padStart(2, '0');
  await newBroadcast.getByLabel('Message').fill('Day two starts tonight.');
  await newBroadcast.getByLabel('Send to').selectOption('program');
  await newBroadcast.getByLabel('Program', { exact: true }).selectOption({ label: 'Better sleep in a week' });
  await newBroadcast.getByLabel('Send at (optional)').fill(`${tomorrow.getFullYear()}-${local(tomorrow.getMonth() + 1)}-${local(tomorrow.getDate())}T09:00`);
  await newBroadcast.getByRole('button', { name: 'Schedule broadcast' }).click();
  const scheduledRow = page.getByRole('row', { name: /Day two starts tonight/ });
  await scheduledRow.getByText('Scheduled').waitFor();
  await scheduledRow.getByText('Program: Better sleep in a week').waitFor();
  page.once('dialog', (dialog) => void dialog.accept());
  await scheduledRow.getByRole('button', { name: /^Cancel the broadcast/ }).click();
  await scheduledRow.getByText('Cancelled before it was sent.').waitFor();
  await editCoaching(page, violations, token, bot.id);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete habit Lights out by 23:00' }).click();
  await page.getByText('No habits yet').waitFor();

  // API keys: created and shown once, usable, then revoked.
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'API keys' }).click();
  await screenHeading(page, 'API keys').waitFor();
  await page.getByText('No keys yet').waitFor();
  violations.push(...(await checkScreen(page, '27-api-keys-empty')));
  // From the keyboard: Enter in the name field creates the key.
  await page.getByLabel('Key name').fill('Zapier');
  await page.keyboard.press('Enter');
  const secret = (await page.locator('.new-secret code').textContent())!;
  const listWith = (key: string) => platform.app.inject({ url: '/v1/bots', headers: { authorization: `Bearer ${key}` } });
  expect((await listWith(secret)).statusCode).toBe(200);
  await page.getByRole('row', { name: /Zapier/ }).waitFor();
  violations.push(...(await checkScreen(page, '28-api-key-created')));
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Revoke Zapier' }).click();
  await page.getByText('No keys yet').waitFor();
  expect((await listWith(secret)).statusCode).toBe(401);

  // Billing: the plan and its usage; choosing Pro goes to Stripe Checkout.
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Billing' }).click();
  await screenHeading(page, 'Billing').waitFor();
  await page.getByRole('heading', { name: 'Your plan: Free' }).waitFor();
  violations.push(...(await checkScreen(page, '29-billing')));
  await page.route('https://checkout.stripe.com/**', (route) => route.fulfill({ contentType: 'text/html', body: '<title>Stripe Checkout</title><p>Pay</p>' }));
  await page.getByRole('button', { name: 'Choose Pro' }).click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_/);
  expect([...stripe.checkoutSessions.values()]).toHaveLength(1);

  // The reset email's link: a mismatch is caught, the new password works and the old one no longer does.
  await platform.app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email } });
  const resetToken = await emailedToken(token, 'password-reset');
  await page.goto(`${base}/account/reset-password#token=${resetToken}`);
  await screenHeading(page, 'Choose a new password').waitFor();
  expect(new URL(page.url()).pathname).toBe('/app/account/reset-password');
  await page.getByLabel('New password', { exact: true }).fill('a newer passphrase');
  await page.getByLabel('Repeat the new password').fill('a newer passphrasf');
  await page.getByRole('button', { name: 'Save new password' }).click();
  await page.getByText('The two passwords differ').waitFor();
  violations.push(...(await checkScreen(page, '30-reset-password')));
  await page.getByLabel('Repeat the new password').fill('a newer passphrase');
  await page.getByRole('button', { name: 'Save new password' }).click();
  await page.getByText('Your password is changed').waitFor();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await screenHeading(page, 'Sign in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('a newer passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await screenHeading(page, 'Your bots').waitFor();

  // Deleting the bot needs its name typed; then the bots list is empty again.
  await page.getByRole('link', { name: 'Sleep Coach' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  const remove = page.getByRole('button', { name: 'Delete bot' });
  expect(await remove.isDisabled()).toBe(true);
  await page.getByLabel('Type the bot’s name, Sleep Coach, to confirm').fill('Sleep Coach');
  await remove.click();
  await page.getByText('No bots yet').waitFor();
  const relogin = await platform.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'a newer passphrase' } });
  expect((await asCreator((relogin.json() as { accessToken: string }).accessToken, 'GET', `/v1/bots/${bot.id}`)).statusCode).toBe(404);
}

const SITE_PAGES = 22;

/** A small coaching site: a sitemap of SITE_PAGES pages, and robots.txt naming it. */
function serveCoachingSite(fake: FakeSite): void {
  const paths = Array.from({ length: SITE_PAGES }, (_, i) => (i === 0 ? '/' : `/tips/${i}`));
  fake.resources.set('/robots.txt', { body: `User-agent: *\nAllow: /\nSitemap: ${fake.origin}/sitemap.xml\n`, type: 'text/plain' });
  fake.resources.set('/sitemap.xml', { body: sitemap(paths.map((p) => fake.origin + p)), type: 'application/xml' });
  fake.resources.set('/', { body: htmlPage('Sleep tips', 'A library of short sleep tips from the coach.') });
  for (let i = 1; i < SITE_PAGES; i++) fake.resources.set(`/tips/${i}`, { body: htmlPage(`Tip ${i}`, `Sleep tip number ${i}: keep a steady wake time and a dark room.`) });
}

/**
 * The knowledge screen's websites: a refusal in words, the local site added and read (its pages paged
 * twenty at a time), synced again, a document shown re-embedding, and the site deleted.
 */
async function addWebsite(page: Page, violations: string[], token: string, botId: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Bot sections' }).getByRole('link', { name: 'Knowledge' }).click();
  await screenHeading(page, 'Knowledge base').waitFor();
  await page.getByText('No websites yet').waitFor();
  const form = page.getByRole('form', { name: 'Add a website' });
  // More pages than the server reads per site: refused, in words.
  expectedRefusals.add(`400 ${botId}/documents`);
  await form.getByLabel('Website address').fill(`${site.origin}/`);
  await form.getByLabel('Pages at most').fill('500');
  await form.getByRole('button', { name: 'Add website' }).click();
  await form.getByRole('alert').filter({ hasText: `at most ${SITE_PAGES + 5} pages per site` }).waitFor();
  await form.getByLabel('Pages at most').fill(String(SITE_PAGES + 5));
  expect(await form.getByLabel('Use the site’s sitemap (otherwise follow its links)').isChecked()).toBe(true);
  // From the keyboard: Enter in the address field adds the site.
  await form.getByLabel('Website address').press('Enter');
  const host = site.origin.replace(/^https?:\/\//, '');
  const row = page.getByRole('table', { name: 'Websites and their state' }).getByRole('row', { name: new RegExp(host.replace(/\./g, '\\.')) });
  await row.getByText('Ready').waitFor({ timeout: 60_000 });
  await row.getByRole('cell', { name: String(SITE_PAGES), exact: true }).waitFor();
  expect(await row.getByText('Not yet').count()).toBe(0);
  // Its pages join the documents without a reload.
  await page.getByRole('table', { name: 'Documents and their status' }).getByRole('row', { name: /Sleep tips/ }).getByText('Ready').waitFor({ timeout: 60_000 });

  // Its pages, twenty at a time, each a ready document.
  await row.getByRole('button', { name: `Pages of ${host}` }).click();
  const pages = page.getByRole('region', { name: `Pages of ${host}` });
  await pages.getByText(`20 of ${SITE_PAGES} pages shown.`).waitFor();
  await pages.getByRole('row', { name: /Sleep tips/ }).getByText('Ready').waitFor({ timeout: 60_000 });
  violations.push(...(await checkScreen(page, '36-knowledge-website')));
  await pages.getByRole('button', { name: 'Show more pages' }).click();
  await pages.getByText(`${SITE_PAGES} of ${SITE_PAGES} pages shown.`).waitFor();
  await waitFor(async () => (await pages.getByRole('row').filter({ hasText: 'Ready' }).count()) === SITE_PAGES, { timeoutMs: 60_000, what: 'every page to be ready' });

  // Sync now asks the site again; the last sync time moves on.
  const before = ((await asCreator(token, 'GET', `/v1/bots/${botId}/sites`)).json() as { sites: Array<{ lastSyncedAt: string }> }).sites[0]!.lastSyncedAt;
  const requestsBefore = site.requests.length;
  await row.getByRole('button', { name: `Sync now: ${host}` }).click();
  await waitFor(
    async () => ((await asCreator(token, 'GET', `/v1/bots/${botId}/sites`)).json() as { sites: Array<{ lastSyncedAt: string }> }).sites[0]!.lastSyncedAt !== before,
    { timeoutMs: 60_000, what: 'the second sync' },
  );
  expect(site.requests.length).toBeGreaterThan(requestsBefore);
  await row.getByText('Ready').waitFor();

  // A document moving to the embedding model chosen in settings shows how far it is (the worker's progress, written as it would).
  const siteId = ((await asCreator(token, 'GET', `/v1/bots/${botId}/sites`)).json() as { sites: Array<{ id: string }> }).sites[0]!.id;
  const [first] = ((await asCreator(token, 'GET', `/v1/bots/${botId}/sites/${siteId}/pages`)).json() as { pages: Array<{ documentId: string }> }).pages;
  await platform.infrastructure.database.pool.query(`UPDATE documents SET reembed_model = 'mxbai-embed-large', reembed_done = 0 WHERE id = $1`, [first!.documentId]);
  await page.reload();
  await screenHeading(page, 'Knowledge base').waitFor();
  const progress = page.getByRole('progressbar', { name: 'Re-embedding with mxbai-embed-large: 0%' });
  await progress.waitFor();
  await platform.infrastructure.database.pool.query(`UPDATE documents SET reembed_done = chunk_count WHERE id = $1`, [first!.documentId]);
  // Followed without a reload.
  await page.getByRole('progressbar', { name: 'Re-embedding with mxbai-embed-large: 100%' }).waitFor();
  violations.push(...(await checkScreen(page, '37-knowledge-reembedding')));
  await platform.infrastructure.database.pool.query(`UPDATE documents SET reembed_model = NULL, reembed_done = 0 WHERE id = $1`, [first!.documentId]);
  await progress.waitFor({ state: 'detached' });

  // Deleting asks first, then every page leaves the knowledge base.
  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: `Delete ${host}` }).click();
  await page.getByText('No websites yet').waitFor();
  await page.getByText('No documents yet').waitFor();
  expect(((await asCreator(token, 'GET', `/v1/bots/${botId}/documents`)).json() as { documents: unknown[] }).documents).toEqual([]);
}

/** Two Telegram contacts of the bot, each with a conversation, as its webhook stores them. */
async function seedContacts(botId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const [externalId, name] of [
    ['7001', 'Ana Sleeper'],
    ['7002', 'Ben Nightowl'],
  ]) {
    const { rows } = await platform.infrastructure.database.pool.query<{ id: string }>(
      `INSERT INTO contacts (bot_id, channel, external_id, display_name) VALUES ($1, 'telegram', $2, $3) RETURNING id`,
      [botId, externalId, name],
    );
    await platform.infrastructure.database.pool.query(`INSERT INTO conversations (bot_id, contact_id, channel, external_chat_id) VALUES ($1, $2, 'telegram', $3)`, [
      botId,
      rows[0]!.id,
      externalId,
    ]);
    ids.push(rows[0]!.id);
  }
  return ids;
}

/** Edits the program (a question step moved up from the keyboard) and the habit, pauses a contact's enrollment, pages the broadcasts and opens one's recipients. */
async function editCoaching(page: Page, violations: string[], token: string, botId: string): Promise<void> {
  // The program: its first step waits a day now, and a new question step with three quick replies moves up to second place.
  await page.getByRole('button', { name: 'Edit program Better sleep in a week' }).click();
  const editor = page.getByRole('form', { name: 'Edit program Better sleep in a week' });
  expect(await editor.getByLabel('Step 2 text').inputValue()).toBe('How did the first night go?');
  await editor.getByLabel('Step 1: wait after joining').fill('1');
  await editor.getByRole('button', { name: 'Add step' }).click();
  await editor.getByLabel('Step 3: wait after the previous step').fill('2');
  await editor.getByLabel('Step 3 asks a question').check();
  await editor.getByLabel('Step 3 question').fill('How many hours did you sleep?');
  await editor.getByLabel('Step 3 quick replies').fill('Under 6\n6 to 8\n\nOver 8');
  // A question without its replies is explained before anything is sent.
  await editor.getByLabel('Step 3 quick replies').fill('');
  await editor.getByRole('button', { name: 'Save program' }).click();
  await editor.getByRole('alert').filter({ hasText: 'Step 3: give the question 1 to 10 quick replies, one a line.' }).waitFor();
  await editor.getByLabel('Step 3 quick replies').fill('Under 6\n6 to 8\n\nOver 8');
  await editor.getByRole('button', { name: 'Move step 3 up' }).focus();
  await page.keyboard.press('Enter');
  // The moved step keeps the focus, on its own button, now step 2's.
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Move step 2 up');
  expect(await editor.getByLabel('Step 2 question').inputValue()).toBe('How many hours did you sleep?');
  violations.push(...(await checkScreen(page, '32-coaching-program-edit')));
  await editor.getByRole('button', { name: 'Save program' }).click();
  await editor.waitFor({ state: 'detached' });
  await page.getByRole('row', { name: /Better sleep in a week/ }).getByRole('cell', { name: '3', exact: true }).waitFor();
  const [program] = ((await asCreator(token, 'GET', `/v1/bots/${botId}/programs`)).json() as { programs: Array<{ id: string; steps: unknown[] }> }).programs;
  expect(program!.steps).toEqual([
    { text: 'Welcome: tonight, no screens after 22:00.', afterDays: 1 },
    { question: { text: 'How many hours did you sleep?', options: ['Under 6', '6 to 8', 'Over 8'] }, afterDays: 2 },
    { text: 'How did the first night go?', afterDays: 1 },
  ]);

  // Its contacts, newest first: pausing one says so, and resuming is offered.
  const [ana, ben] = await seedContacts(botId);
  for (const contactId of [ana, ben]) expect((await asCreator(token, 'POST', `/v1/bots/${botId}/programs/${program!.id}/enrollments`, { contactId })).statusCode).toBe(201);
  await page.getByRole('button', { name: 'Contacts in program Better sleep in a week' }).click();
  const contacts = page.getByRole('region', { name: 'Contacts in “Better sleep in a week”' });
  const benRow = contacts.getByRole('row', { name: /Ben Nightowl/ });
  await benRow.getByText('Step 1 of 3 next').waitFor();
  expect(await contacts.getByRole('row').nth(1).textContent()).toContain('Ben Nightowl');
  await benRow.getByRole('button', { name: 'Pause Ben Nightowl' }).click();
  await benRow.getByText('Paused').waitFor();
  await benRow.getByRole('button', { name: 'Resume Ben Nightowl' }).waitFor();
  violations.push(...(await checkScreen(page, '33-coaching-program-contacts')));
  await contacts.getByRole('button', { name: /^Close/ }).click();
  // Closed, the panel hands the focus back to the button that opened it.
  expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Contacts in program Better sleep in a week');

  // The habit: a subscriber shows in its line; its time, days and weekly target change.
  const [habit] = ((await asCreator(token, 'GET', `/v1/bots/${botId}/habits`)).json() as { habits: Array<{ id: string }> }).habits;
  expect((await asCreator(token, 'POST', `/v1/bots/${botId}/habits/${habit!.id}/subscriptions`, { contactId: ana })).statusCode).toBe(201);
  await page.reload();
  await screenHeading(page, 'Coaching').waitFor();
  await page.getByText(/^1 subscribed · (no check-in due yet|done 0 of \d+ due days in the last 30 days \(0%\))$/).waitFor();
  await page.getByRole('button', { name: 'Edit habit Lights out by 23:00' }).click();
  const habitEditor = page.getByRole('form', { name: 'Edit habit Lights out by 23:00' });
  expect(await habitEditor.getByLabel('Wednesday').isChecked()).toBe(true);
  await habitEditor.getByLabel('Asked at (their local time)').fill('21:45');
  await habitEditor.getByLabel('Friday').uncheck();
  await habitEditor.getByLabel('Times a week (optional)').fill('3');
  await habitEditor.getByRole('button', { name: 'Save habit' }).click();
  await habitEditor.getByRole('alert').filter({ hasText: 'Times a week cannot be more than the days ticked.' }).waitFor();
  await habitEditor.getByLabel('Times a week (optional)').fill('2');
  violations.push(...(await checkScreen(page, '34-coaching-habit-edit')));
  await habitEditor.getByRole('button', { name: 'Save habit' }).click();
  await page.getByText('21:45, Mon, Wed; target 2 a week').waitFor();
  expect(((await asCreator(token, 'GET', `/v1/bots/${botId}/habits`)).json() as { habits: unknown[] }).habits).toMatchObject([
    { name: 'Lights out by 23:00', localTime: '21:45', daysOfWeek: [1, 3], timesPerWeek: 2 },
  ]);

  // Broadcasts come ten at a time: with ten newer ones, the first sent one is on the second page, with its recipients.
  for (let i = 1; i <= 10; i++) {
    const created = await asCreator(token, 'POST', `/v1/bots/${botId}/broadcasts`, { text: `Tip ${i}: keep the room cool.`, segment: { type: 'tag', value: 'nobody' } });
    expect(created.statusCode).toBe(202);
  }
  await page.reload();
  await screenHeading(page, 'Coaching').waitFor();
  await page.getByRole('row', { name: /Tip 10: keep the room cool/ }).waitFor();
  expect(await page.getByRole('row', { name: /one-week sleep program/ }).count()).toBe(0);
  await page.getByRole('button', { name: 'Show older broadcasts' }).click();
  const firstSent = page.getByRole('row', { name: /one-week sleep program/ });
  await firstSent.waitFor();
  await page.getByRole('button', { name: 'Show older broadcasts' }).waitFor({ state: 'detached' });
  await firstSent.getByRole('button', { name: /^Recipients of the broadcast “New: a one-week/ }).click();
  const recipients = page.getByRole('region', { name: /^Recipients of “New: a one-week/ });
  const [sent] = (
    (await asCreator(token, 'GET', `/v1/bots/${botId}/broadcasts/${(await firstSentId(token, botId))}/recipients`)).json() as { recipients: Array<{ displayName: string; status: string; reason: string | null }> }
  ).recipients;
  await recipients.getByRole('row', { name: new RegExp(sent!.displayName) }).getByText(sent!.reason ?? 'Sent').waitFor();
  violations.push(...(await checkScreen(page, '35-coaching-broadcasts-paged')));
  await recipients.getByLabel('Show').selectOption('failed');
  await recipients.getByText('No recipients failed').waitFor();
  await recipients.getByRole('button', { name: /^Close/ }).click();
}

/** The id of the bot's oldest broadcast. */
async function firstSentId(token: string, botId: string): Promise<string> {
  const { broadcasts } = (await asCreator(token, 'GET', `/v1/bots/${botId}/broadcasts?limit=100`)).json() as { broadcasts: Array<{ id: string }> };
  return broadcasts.at(-1)!.id;
}
