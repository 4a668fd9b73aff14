/**
 * A creator uses the dashboard in Debian's Chromium against the real platform: signs up, creates a
 * bot, uploads a PDF and sees it become ready, asks it in "try it", publishes the web chat and finds
 * the conversation in the inbox; connects Telegram, sees a Telegram user's conversation arrive in the
 * open inbox, takes it over, answers from the composer and hands it back. Every screen is checked
 * with axe and photographed at phone and desktop sizes under test-results/dashboard/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkScreen, chromiumMissing, DESKTOP, launchChromium, PHONE, screenHeading, serve, walkOrPhotograph, watchPage } from '../support/dashboard-browser.js';
import { fixturesDir } from '../support/fixtures.js';
import { startFakeTelegram, type FakeBot, type FakeTelegram } from '../support/fake-telegram.js';
import { turnsOf } from '../support/telegram-e2e.js';
import { textUpdate } from '../support/telegram-updates.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let telegram: FakeTelegram;
let browser: Browser | undefined;
let base: string;

describe.skipIf(chromiumMissing)('the dashboard in a browser', () => {
  beforeAll(async () => {
    telegram = await startFakeTelegram();
    platform = await startTestPlatform({ TELEGRAM_API_ROOT: telegram.apiRoot, PUBLIC_URL: 'https://coach.example.test' });
    base = await serve(platform);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await telegram?.close();
  });

  it('takes a creator from sign-up to a published bot whose conversation shows in the inbox, every screen accessible', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    // How the app learns it is signed out (401 to the start-up refresh), that the web chat is unpublished (404), and the
    // refusals this test provokes on purpose (a wrong password, a wrong Telegram token).
    const pageProblems = watchPage(
      page,
      base,
      (status, pathname) =>
        (status === 401 && (pathname === '/v1/auth/refresh' || pathname === '/v1/auth/login')) ||
        (status === 404 && pathname.endsWith('/channels/web')) ||
        (status === 400 && pathname.endsWith('/channels/telegram')),
    );
    // File pickers are answered by the test: asked for now, so the interception is on before the page opens one.
    page.on('filechooser', () => undefined);
    const violations: string[] = [];
    await walkOrPhotograph(page, 'failure', () => walkThrough(page, violations));
    expect(violations).toEqual([]);
    expect(pageProblems).toEqual([]);
    await context.close();
  }, 300_000);
});

/** Every step of the creator's way through the dashboard; serious accessibility violations are collected in `violations`. */
async function walkThrough(page: Page, violations: string[]): Promise<void> {
  // Signed out, /app leads to sign-in, which links to sign-up and the password reset.
  await page.goto(`${base}/app`);
  await screenHeading(page, 'Sign in').waitFor();
  expect(new URL(page.url()).pathname).toBe('/app/signin');
  violations.push(...(await checkScreen(page, '01-sign-in')));
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await screenHeading(page, 'Reset your password').waitFor();
  violations.push(...(await checkScreen(page, '02-forgot-password')));
  await page.getByRole('link', { name: 'Back to sign in' }).click();
  await page.getByRole('link', { name: 'Create an account' }).click();
  await screenHeading(page, 'Create your account').waitFor();

  // A too-short password is explained before anything is sent.
  await page.getByLabel('Your name').fill('Dana Coach');
  const email = `dana-${Date.now()}@example.test`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Use at least 10 characters').waitFor();
  violations.push(...(await checkScreen(page, '03-sign-up')));
  await page.getByLabel('Password').fill('a long passphrase');
  await page.getByRole('button', { name: 'Create account' }).click();

  // No bots yet: the screen says what to do.
  await screenHeading(page, 'Your bots').waitFor();
  await page.getByText('No bots yet').waitFor();
  violations.push(...(await checkScreen(page, '04-bots-empty')));
  // The session survives a reload through its cookie; no token is anywhere a script could read.
  await page.reload();
  await screenHeading(page, 'Your bots').waitFor();
  expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, '']);

  await page.getByLabel('Name').fill('Trace Tutor');
  await page.getByLabel('Persona').fill('A patient tutor who explains compilers plainly.');
  await page.getByLabel('Language').fill('en');
  // The new bot opens on its knowledge base, which follows the bot's live events for each document's progress.
  const knowledgeEvents = page.waitForResponse((r) => /^\/v1\/bots\/[^/]+\/events$/.test(new URL(r.url()).pathname) && r.status() === 200);
  await page.getByRole('button', { name: 'Create bot' }).click();

  // The knowledge base: empty, then a PDF uploaded through the file picker becomes ready.
  await screenHeading(page, 'Knowledge base').waitFor();
  await page.getByText('No documents yet').waitFor();
  await knowledgeEvents;
  violations.push(...(await checkScreen(page, '05-knowledge-empty')));
  // Two files at once through the file picker, opened from the keyboard.
  await page.getByRole('button', { name: 'Choose files' }).focus();
  const [picker] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
  expect(picker.isMultiple()).toBe(true);
  await picker.setFiles([path.join(fixturesDir, 'docs/pdfjs__tracemonkey.pdf'), fileURLToPath(new URL('../../examples/coaching-guide.md', import.meta.url))]);
  const row = page.getByRole('row', { name: /pdfjs__tracemonkey\.pdf/ });
  await row.getByText('Ready').waitFor({ timeout: 90_000 });
  expect(await row.getByRole('cell').nth(2).textContent()).toMatch(/^\d+$/);
  // A Markdown file is named after its first heading once read.
  const guideRow = page.getByRole('row', { name: /coaching-guide\.md|The Steady Habits Coaching Guide/ });
  await guideRow.getByText('Ready').waitFor({ timeout: 90_000 });

  // A third dropped onto the drop zone, then deleted after confirming.
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['# Scratch notes\n\nA draft the creator drops and then deletes.\n'], 'scratch-notes.md', { type: 'text/markdown' }));
    return transfer;
  });
  await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dropped });
  const scratchRow = page.getByRole('row', { name: /scratch-notes\.md|Scratch notes/ });
  await scratchRow.getByText('Ready').waitFor({ timeout: 60_000 });
  page.once('dialog', (dialog) => void dialog.accept());
  await scratchRow.getByRole('button', { name: 'Delete Scratch notes' }).click();
  await scratchRow.waitFor({ state: 'detached' });

  // Re-ingesting reads the guide again, and it is ready again.
  const [reingested] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/reingest')),
    guideRow.getByRole('button', { name: 'Re-ingest The Steady Habits Coaching Guide' }).click(),
  ]);
  expect(reingested.status()).toBe(202);
  await guideRow.getByText('Ready').waitFor({ timeout: 60_000 });

  await page.getByLabel('Question or words to look for').fill('trace tree');
  await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
  const passages = page.getByRole('list', { name: 'Passages found' });
  await passages.waitFor();
  expect(await passages.getByRole('listitem').first().textContent()).toMatch(/pdfjs__tracemonkey\.pdf, page \d+/);
  await passages.getByRole('button', { name: 'Show the whole passage' }).first().click();
  await passages.getByRole('button', { name: 'Show less' }).waitFor();
  violations.push(...(await checkScreen(page, '06-knowledge-ready')));

  // The FAQ: empty, a question refused without words, added, changed, then deleted after confirming.
  const faq = page.getByRole('region', { name: 'FAQ' });
  await faq.getByText('No questions yet').waitFor();
  await faq.getByRole('button', { name: 'Add question' }).click();
  await faq.getByText('Write the question').waitFor();
  await faq.getByLabel('Question', { exact: true }).fill('How long is a session?');
  await faq.getByLabel('Answer', { exact: true }).fill('About 20 minutes.');
  await faq.getByRole('button', { name: 'Add question' }).click();
  const pairs = faq.getByRole('list', { name: 'Questions and answers' });
  await pairs.getByText('About 20 minutes.').waitFor();
  await pairs.getByRole('button', { name: 'Edit “How long is a session?”' }).click();
  await pairs.getByLabel('Answer', { exact: true }).fill('About 25 minutes.');
  await pairs.getByRole('button', { name: 'Save' }).click();
  await pairs.getByText('About 25 minutes.').waitFor();
  violations.push(...(await checkScreen(page, '06b-knowledge-faq')));
  page.once('dialog', (dialog) => void dialog.accept());
  await pairs.getByRole('button', { name: 'Delete “How long is a session?”' }).click();
  await faq.getByText('No questions yet').waitFor();

  // Try it: the answer comes with its sources.
  // The sections are reachable from the keyboard.
  await page.getByRole('link', { name: 'Try it' }).focus();
  await page.keyboard.press('Enter');
  await screenHeading(page, 'Try it').waitFor();
  violations.push(...(await checkScreen(page, '07-try-it-empty')));
  await page.getByLabel('Your message').fill('What is a trace tree?');
  await page.keyboard.press('Enter');
  const sources = page.getByRole('log').getByText(/^Sources: .*pdfjs__tracemonkey\.pdf/);
  await sources.waitFor({ timeout: 60_000 });
  expect((await page.getByRole('log').locator('.answer').last().textContent())!.length).toBeGreaterThan(20);
  violations.push(...(await checkScreen(page, '08-try-it-answered')));

  // Publish the web chat: its link and embed snippet are shown, ready to copy.
  await page.getByRole('link', { name: 'Publish' }).click();
  await screenHeading(page, 'Publish').waitFor();
  violations.push(...(await checkScreen(page, '09-publish')));
  await page.getByLabel('Title').fill('Ask the Trace Tutor');
  await page.getByRole('button', { name: 'Publish web chat' }).click();
  const snippet = page.locator('pre.snippet');
  await snippet.waitFor();
  const botId = new URL(page.url()).pathname.split('/')[3]!;
  expect(await snippet.textContent()).toBe(`<script src="https://coach.example.test/widget.js" data-bot="${botId}" async></script>`);
  await page.getByRole('button', { name: 'Copy embed snippet' }).waitFor();
  await page.getByText(/^Published: anyone with the link/).waitFor();
  // Published stays published: the links are there after a reload too.
  await page.reload();
  await snippet.waitFor();
  expect(await page.getByLabel('Title').inputValue()).toBe('Ask the Trace Tutor');
  violations.push(...(await checkScreen(page, '10-published')));

  // Telegram: a wrong token is explained in words; the right one connects the bot.
  await page.getByLabel('Bot token').fill('123456:not-a-token-botfather-gave');
  await page.getByRole('button', { name: 'Connect Telegram' }).click();
  await page.getByRole('alert').getByText(/Telegram rejected the bot token/).waitFor();
  const fakeBot = telegram.addBot({ username: 'trace_tutor_bot' });
  await page.getByLabel('Bot token').fill(fakeBot.token);
  await page.getByRole('button', { name: 'Connect Telegram' }).click();
  await page.getByText('@trace_tutor_bot').waitFor();
  violations.push(...(await checkScreen(page, '10b-telegram-connected')));

  // The inbox lists the conversation from "try it", and opens its transcript.
  const eventStream = page.waitForResponse((r) => new URL(r.url()).pathname === `/v1/bots/${botId}/events` && r.status() === 200);
  await page.getByRole('link', { name: 'Inbox' }).click();
  await screenHeading(page, 'Inbox').waitFor();
  const conversation = page.locator('.conversation-list a').first();
  await conversation.waitFor();
  expect(await conversation.textContent()).toMatch(/Web chat/);
  violations.push(...(await checkScreen(page, '11-inbox')));
  await conversation.click();
  await page.getByRole('heading', { level: 2, name: /^Conversation with Visitor/ }).waitFor();
  const transcript = page.locator('ol.transcript');
  await transcript.getByText('What is a trace tree?').waitFor();
  await transcript.getByText(/^Sources: pdfjs__tracemonkey\.pdf/).waitFor();
  violations.push(...(await checkScreen(page, '12-transcript')));

  await takeOverFromTheInbox(page, violations, fakeBot, botId, eventStream);

  // Back on the bots list, the new bot is there.
  await page.getByRole('link', { name: 'Your bots' }).first().click();
  await page.getByRole('link', { name: 'Trace Tutor' }).waitFor();
  violations.push(...(await checkScreen(page, '13-bots')));

  // Sign out ends the session: a reload lands on sign-in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await screenHeading(page, 'Sign in').waitFor();
  await page.reload();
  await screenHeading(page, 'Sign in').waitFor();

  // A wrong password is answered in the API's words; the right one opens the bots again.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('Invalid email or password').waitFor();
  violations.push(...(await checkScreen(page, '14-sign-in-error')));
  await page.getByLabel('Password').fill('a long passphrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Trace Tutor' }).waitFor();
}

/**
 * The live inbox and human takeover: a Telegram user's conversation arrives in the open inbox without
 * a reload; the creator takes it over and answers from the composer (the Bot API gets that text
 * once), the bot stays silent while taken over, and answers again once it is handed back.
 */
async function takeOverFromTheInbox(page: Page, violations: string[], fakeBot: FakeBot, botId: string, eventStream: Promise<unknown>): Promise<void> {
  const chatId = 4_242_001;
  let updateId = 900_000;
  /** A message from the Telegram user, delivered to the platform's webhook as the Bot API would. */
  const userSays = async (text: string) => {
    const webhook = fakeBot.webhook!;
    const response = await fetch(`${base}/webhooks/telegram/${botId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': webhook.secretToken! },
      body: JSON.stringify(textUpdate(text, { updateId: updateId++, chatId })),
    });
    expect(response.status).toBe(200);
  };
  /** What the Bot API was asked to send to the user. */
  const sentToUser = () => telegram.callsOf('sendMessage').filter((c) => c.params.chat_id === chatId).map((c) => String(c.params.text));

  // The inbox is open and listening to the bot's events: a mark on the page shows it is never reloaded from here on.
  await eventStream;
  await page.getByRole('link', { name: 'Inbox' }).click();
  await page.getByText('Choose a conversation to read it.').waitFor();
  await page.evaluate(() => Object.assign(window, { inboxNotReloaded: true }));

  await userSays('How do I read a trace tree?');
  const conversation = page.locator('.conversation-list a', { hasText: 'Telegram' });
  await conversation.getByText('How do I read a trace tree?').waitFor();
  // The bot's answer reaches the user, and the list follows it.
  await waitFor(() => sentToUser().length === 1, { what: 'the bot’s answer on Telegram' });
  const botAnswer = sentToUser()[0]!;
  violations.push(...(await checkScreen(page, '15-inbox-live')));

  await conversation.click();
  await page.getByRole('heading', { level: 2, name: 'Conversation with Mario Bros' }).waitFor();
  const transcript = page.locator('ol.transcript');
  await transcript.getByText('How do I read a trace tree?').waitFor();
  await page.getByText('The bot answers this conversation.').waitFor();

  // On a phone: the list, the conversation, and back.
  await page.setViewportSize(PHONE);
  await page.getByRole('link', { name: 'Back to the conversations' }).click();
  await conversation.waitFor({ state: 'visible' });
  expect(await page.locator('ol.transcript').isVisible()).toBe(false);
  await conversation.click();
  await page.getByRole('button', { name: 'Take over' }).waitFor({ state: 'visible' });
  expect(await conversation.isVisible()).toBe(false);
  await page.setViewportSize(DESKTOP);

  await page.getByRole('button', { name: 'Take over' }).click();
  await page.getByRole('button', { name: 'Hand back to the bot' }).waitFor();
  await transcript.getByText(/^You took the conversation over/).waitFor();
  await conversation.getByText('Taken over').waitFor();

  // The creator's answer, typed where the focus went, sent with Ctrl+Enter and then again at once: the user gets it once.
  const answer = 'Maya here: read it from the loop header outwards, one guard at a time.';
  const composer = page.getByRole('textbox', { name: 'Your message' });
  await waitFor(() => composer.evaluate((el) => el === document.activeElement), { what: 'the composer focused after the takeover' });
  await page.keyboard.type(answer);
  await composer.press('Control+Enter');
  await composer.press('Control+Enter');
  const mine = transcript.locator('.bubble.creator', { hasText: answer });
  await mine.getByText(/· sent$/).waitFor();
  expect(await composer.inputValue()).toBe('');
  expect(sentToUser().filter((t) => t === answer)).toHaveLength(1);
  expect(sentToUser()).toEqual([botAnswer, answer]);
  violations.push(...(await checkScreen(page, '16-taken-over')));

  // The user writes again: shown at once, held, and not answered by the bot.
  await userSays('Thanks! And what is a guard?');
  await transcript.getByText('Thanks! And what is a guard?').waitFor();
  await transcript.getByText(/not answered by the bot/).waitFor();
  const turns = await turnsOf(platform, botId, chatId);
  expect(turns.map((t) => t.status)).toEqual(['answered', 'held']);
  expect(sentToUser()).toEqual([botAnswer, answer]);

  // Handed back: the bot answers the next message, and the transcript shows it without a reload.
  await page.getByRole('button', { name: 'Hand back to the bot' }).click();
  await page.getByRole('button', { name: 'Take over' }).waitFor();
  await transcript.getByText(/^You handed the conversation back to the bot/).waitFor();
  expect(await conversation.getByText('Taken over').count()).toBe(0);
  await userSays('What is a trace tree, once more?');
  await waitFor(() => sentToUser().length === 3, { what: 'the bot answering after the release' });
  await transcript.locator('.bubble.bot:not(.creator)').nth(1).getByText(/· sent$/).waitFor();
  expect(await page.evaluate(() => (window as unknown as { inboxNotReloaded?: boolean }).inboxNotReloaded)).toBe(true);
  violations.push(...(await checkScreen(page, '17-handed-back')));
}
