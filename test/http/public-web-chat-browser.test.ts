/** A visitor with a fresh browser profile uses a published bot's chat in Debian's Chromium. */
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chromium, CHROMIUM } from '../support/chromium-cdp.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let botId: string;
let base: string;
let browser: Chromium | undefined;

const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

interface Bubble {
  kind: string;
  text: string;
}
const bubbles = `Array.from(document.querySelectorAll('.msg'), (m) => ({ kind: m.classList.contains('user') ? 'user' : 'bot', text: m.textContent }))`;

// CI installs Chromium (.ci/run); elsewhere the check needs `apt-get install chromium`.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the public chat in a browser', () => {
  beforeAll(async () => {
    platform = await startTestPlatform();
    alice = await signUpCreator(platform.app, { name: 'Alice' });
    botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
    await uploadAndIngest(platform.app, alice.auth, botId, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide }, { fields: { title: 'Steady Habits Guide' } });
    await platform.app.inject({ method: 'PUT', url: `/v1/bots/${botId}/channels/web`, headers: alice.auth, payload: { title: 'Ask Alice', welcome: 'Hi! Ask me about sleep.' } });
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;
    browser = await Chromium.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('asks, sees the streamed answer with its sources, and still sees it after a reload and in a new tab; no key is ever sent', async () => {
    const tab = await browser!.open(`${base}/c/${botId}`);
    await waitFor(() => tab.evaluate<boolean>(`document.title === 'Ask Alice' && document.querySelectorAll('.msg.bot').length === 1`), { what: 'the welcome' });
    expect(await tab.evaluate<Bubble[]>(bubbles)).toEqual([{ kind: 'bot', text: 'Hi! Ask me about sleep.' }]);

    await tab.evaluate(`(() => { document.getElementById('text').value = 'How much sleep do adults need?'; document.getElementById('chat').requestSubmit(); return true; })()`);
    const answered = await waitFor(
      async () => {
        const shown = await tab.evaluate<Bubble[]>(bubbles);
        return shown.length === 3 && /seven to nine hours/i.test(shown[2]!.text) && /Sources: Steady Habits Guide/.test(shown[2]!.text) ? shown : null;
      },
      { what: 'the answer with its sources' },
    );
    expect(answered[1]).toEqual({ kind: 'user', text: 'How much sleep do adults need?' });

    await tab.reload();
    const afterReload = await waitFor(async () => {
      const shown = await tab.evaluate<Bubble[]>(bubbles);
      return shown.length === 3 ? shown : null;
    }, { what: 'the history after a reload' });
    expect(afterReload.map((b) => b.kind)).toEqual(['bot', 'user', 'bot']);
    expect(afterReload[1]!.text).toBe('How much sleep do adults need?');
    expect(afterReload[2]!.text).toMatch(/seven to nine hours/i);

    const second = await browser!.open(`${base}/c/${botId}`);
    await waitFor(async () => (await second.evaluate<Bubble[]>(bubbles)).length === 3, { what: 'the history in a new tab' });

    // The page's own requests carry no key or token: only its cookie, which scripts cannot read.
    const sent = [...tab.requests, ...second.requests];
    expect(sent.map((r) => new URL(r.url).pathname)).toEqual(expect.arrayContaining([`/c/${botId}`, `/public/bots/${botId}/messages`, `/public/bots/${botId}/history`]));
    for (const request of sent) {
      expect(Object.keys(request.headers).map((h) => h.toLowerCase())).not.toContain('authorization');
      expect(request.url).not.toContain('/v1/');
      expect(JSON.stringify(request)).not.toContain(alice.accessToken);
    }
    expect(await tab.evaluate<string>('document.cookie')).toBe('');
  });

  it('asks before forgetting: /forget shows two named buttons, and pressing one answers and clears the conversation', async () => {
    const tab = await browser!.open(`${base}/c/${botId}`);
    // The same browser profile as before: the visitor's earlier exchange is shown after the welcome.
    await waitFor(() => tab.evaluate<boolean>(`document.querySelectorAll('.msg').length === 3`), { what: 'the history' });
    const say = (text: string) => tab.evaluate(`(() => { document.getElementById('text').value = ${JSON.stringify(text)}; document.getElementById('chat').requestSubmit(); return true; })()`);
    await say('How much sleep do adults need?');
    await waitFor(async () => (await tab.evaluate<Bubble[]>(bubbles)).length === 5 && !(await tab.evaluate<boolean>(`document.getElementById('send').disabled`)), { what: 'the answer' });
    await say('/forget');
    const names = await waitFor(
      async () => {
        const found = await tab.evaluate<string[]>(`Array.from(document.querySelectorAll('.buttons button'), (b) => b.textContent)`);
        return found.length ? found : null;
      },
      { what: 'the buttons' },
    );
    expect(names).toEqual(['Yes, delete', 'Cancel']);
    await tab.evaluate(`(() => { document.querySelector('.buttons button').click(); return true; })()`);
    const shown = await waitFor(
      async () => {
        const all = await tab.evaluate<Bubble[]>(bubbles);
        return /deleted our conversation/.test(all.at(-1)?.text ?? '') ? all : null;
      },
      { what: 'the confirmation' },
    );
    expect(shown.at(-2)).toEqual({ kind: 'user', text: 'Yes, delete' });
    // The buttons of an answered question cannot be pressed twice.
    expect(await tab.evaluate<boolean[]>(`Array.from(document.querySelectorAll('.buttons button'), (b) => b.disabled)`)).toEqual([true, true]);
    await tab.reload();
    const after = await waitFor(async () => {
      const all = await tab.evaluate<Bubble[]>(bubbles);
      return all.length >= 2 ? all : null;
    }, { what: 'the history after forgetting' });
    expect(after.map((b) => b.text).join(' ')).not.toMatch(/How much sleep/);
  });

  it("shows the creator's messages as they are written while they have the conversation, signed by the bot's team, and again after a reload", async () => {
    const tab = await browser!.open(`${base}/c/${botId}`);
    await waitFor(() => tab.evaluate<boolean>(`document.querySelectorAll('.msg').length >= 1`), { what: 'the page' });
    await tab.evaluate(`(() => { document.getElementById('text').value = 'Could a person look at my sleep diary?'; document.getElementById('chat').requestSubmit(); return true; })()`);
    await waitFor(async () => !(await tab.evaluate<boolean>(`document.getElementById('send').disabled`)) && (await tab.evaluate<Bubble[]>(bubbles)).at(-1)?.kind === 'bot', { what: 'the answer' });
    const listed = await platform.app.inject({ method: 'GET', url: `/v1/bots/${botId}/conversations?channel=web&q=diary`, headers: alice.auth });
    const conversationId = (listed.json() as { conversations: Array<{ id: string }> }).conversations[0]!.id;
    const url = `/v1/bots/${botId}/conversations/${conversationId}`;
    expect((await platform.app.inject({ method: 'POST', url: `${url}/takeover`, headers: alice.auth })).statusCode).toBe(200);
    const sent = await platform.app.inject({ method: 'POST', url: `${url}/messages`, headers: alice.auth, payload: { text: 'Alice here: send it over and I will read it tonight.' } });
    expect(sent.statusCode, sent.body).toBe(200);

    const creatorBubble = `Array.from(document.querySelectorAll('.msg.bot'), (m) => m.textContent).filter((t) => t.includes('Alice here'))`;
    // No reload: the page's open stream shows it, once.
    expect(await waitFor(async () => {
      const found = await tab.evaluate<string[]>(creatorBubble);
      return found.length ? found : null;
    }, { what: "the creator's message" })).toEqual(['Ask Alice teamAlice here: send it over and I will read it tonight.']);
    await tab.reload();
    await waitFor(async () => (await tab.evaluate<string[]>(creatorBubble)).length === 1, { what: "the creator's message after a reload" });
    const all = await tab.evaluate<Bubble[]>(bubbles);
    expect(all.slice(-2).map((b) => b.text)).toEqual([expect.any(String), 'Ask Alice teamAlice here: send it over and I will read it tonight.']);
    expect(all.at(-3)).toEqual({ kind: 'user', text: 'Could a person look at my sleep diary?' });
    expect(await tab.evaluate<string[]>(creatorBubble)).toHaveLength(1);
  });

  it('shows the 404 page for a bot that is not published', async () => {
    const unpublished = (await createBot(platform.app, alice.auth, { name: 'Hidden' })).id;
    const tab = await browser!.open(`${base}/c/${unpublished}`);
    await waitFor(() => tab.evaluate<boolean>(`document.title === 'Chat not found'`), { what: 'the 404 page' });
    expect(await tab.evaluate<string>('document.body.innerText')).toMatch(/This chat is not available/);
  });
});
