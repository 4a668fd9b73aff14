/** The embeddable widget on other sites' pages, in Debian's Chromium: an allowed site's visitors chat; other sites are refused. */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chromium, CHROMIUM, type BrowserTab } from '../support/chromium-cdp.js';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { uploadAndIngest } from '../support/documents.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

let platform: TestPlatform;
let alice: CreatorSession;
let botId: string;
let base: string;
let browser: Chromium | undefined;
const hosts: Server[] = [];
let allowedSite: string;
let otherSite: string;

const guide = readFileSync(new URL('../../examples/coaching-guide.md', import.meta.url));

/** A site of someone else's on another port: one page carrying the snippet (and, on the other site, a direct frame of the chat). */
async function startSite(page: () => string): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page());
  });
  hosts.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Frame {
  id: string;
  url: string;
  unreachableUrl?: string;
}
interface FrameTree {
  frame: Frame;
  childFrames?: FrameTree[];
}
/** The page's child frames, as the browser sees them. */
async function childFrames(tab: BrowserTab): Promise<Frame[]> {
  const { frameTree } = await tab.cdp<{ frameTree: FrameTree }>('Page.getFrameTree');
  return (frameTree.childFrames ?? []).map((c) => c.frame);
}

interface AxNode {
  role?: { value: string };
  name?: { value: string };
  ignored: boolean;
}

// CI installs Chromium (.ci/run); elsewhere the check needs `apt-get install chromium`.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('the widget on other sites', () => {
  let snippet = '';
  beforeAll(async () => {
    platform = await startTestPlatform();
    alice = await signUpCreator(platform.app, { name: 'Alice' });
    botId = (await createBot(platform.app, alice.auth, { name: 'Steady Habits Coach', language: 'en' })).id;
    await uploadAndIngest(platform.app, alice.auth, botId, { name: 'coaching-guide.md', type: 'text/markdown', bytes: guide }, { fields: { title: 'Steady Habits Guide' } });
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;
    // The host page's own styles would hide or restyle any button they could reach.
    allowedSite = await startSite(() => `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Alice's site</title>
<style>* { font-family: serif !important; color: red !important; } button { display: none !important; }</style></head>
<body><h1>Welcome to Alice's coaching</h1>${snippet}</body></html>`);
    otherSite = await startSite(() => `<!doctype html><html><head><title>Someone else</title></head>
<body>${snippet}<iframe id="copied" src="${base}/c/${botId}?embed=1" width="390" height="600"></iframe></body></html>`);
    const published = await platform.app.inject({
      method: 'PUT',
      url: `/v1/bots/${botId}/channels/web`,
      headers: alice.auth,
      payload: { allowedOrigins: [allowedSite], title: 'Ask Alice', accentColor: '#0f766e', welcome: 'Hi! Ask me about sleep.' },
    });
    // The snippet exactly as the creator copies it, except that PUBLIC_URL is this test's port.
    snippet = (published.json() as { embedSnippet: string }).embedSnippet.replace(/^<script src="[^"]*\/widget\.js"/, `<script src="${base}/widget.js"`);
    browser = await Chromium.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(hosts.map((h) => new Promise((resolve) => h.close(resolve))));
    await platform?.stop();
  });

  const inShadow = (selector: string) => `document.querySelector('[data-coach-widget-host]').shadowRoot.querySelector(${JSON.stringify(selector)})`;
  const rectOf = (selector: string) => `(() => { const r = ${inShadow(selector)}.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`;
  type Rect = { x: number; y: number; width: number; height: number };

  /** Clicks the middle of an element of the widget the way a finger or mouse would. */
  async function tap(tab: BrowserTab, selector: string): Promise<void> {
    const r = await tab.evaluate<Rect>(rectOf(selector));
    const at = { x: r.x + r.width / 2, y: r.y + r.height / 2, button: 'left', clickCount: 1 };
    await tab.cdp('Input.dispatchMouseEvent', { type: 'mousePressed', ...at });
    await tab.cdp('Input.dispatchMouseEvent', { type: 'mouseReleased', ...at });
  }

  it('on an allowed site at 390×844: a named launcher the page cannot restyle opens the chat full-screen, which answers; the close button closes it', async () => {
    const tab = await browser!.open(allowedSite);
    await tab.cdp('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 1, mobile: true });
    await waitFor(() => tab.evaluate<boolean>(`!!document.querySelector('[data-coach-widget-host]')`), { what: 'the launcher' });

    // A button with an accessible name, as a screen reader finds it (the tree includes the shadow root).
    const { nodes } = await tab.cdp<{ nodes: AxNode[] }>('Accessibility.getFullAXTree');
    expect(nodes.filter((n) => !n.ignored && n.role?.value === 'button').map((n) => n.name?.value)).toContain('Open chat with Ask Alice');
    // The host page's `button { display: none }` and red text do not reach it.
    const launcher = await tab.evaluate<Rect>(rectOf('.launcher'));
    expect(launcher.width).toBeGreaterThan(40);
    expect(await tab.evaluate<string>(`getComputedStyle(${inShadow('.launcher')}).backgroundColor`)).toBe('rgb(15, 118, 110)');
    expect(await tab.evaluate<boolean>(`document.elementFromPoint(${launcher.x + launcher.width / 2}, ${launcher.y + launcher.height / 2}) === document.querySelector('[data-coach-widget-host]')`)).toBe(true);

    await tap(tab, '.launcher');
    const frame = await waitFor(async () => (await childFrames(tab)).find((f) => f.url.startsWith(`${base}/c/${botId}`)) ?? null, { what: 'the chat frame' });
    // On a phone the chat fills the screen, and the close button is on it.
    expect(await tab.evaluate<Rect>(rectOf('.panel'))).toEqual({ x: 0, y: 0, width: 390, height: 844 });
    const close = await tab.evaluate<Rect>(rectOf('.close'));
    expect(close.x + close.width).toBeLessThanOrEqual(390);
    expect(close.height).toBeGreaterThanOrEqual(40);
    expect((await tab.evaluate<Rect>(rectOf('iframe'))).height).toBeGreaterThan(700);

    await waitFor(() => tab.evaluateInFrame<boolean>(frame.id, `document.querySelectorAll('.msg.bot').length === 1 && !!document.getElementById('chat')`), { what: 'the welcome in the frame' });
    await tab.evaluateInFrame(frame.id, `(() => { document.getElementById('text').value = 'How much sleep do adults need?'; document.getElementById('chat').requestSubmit(); return true; })()`);
    await waitFor(
      async () => {
        const texts = await tab.evaluateInFrame<string[]>(frame.id, `Array.from(document.querySelectorAll('.msg'), (m) => m.textContent)`);
        return texts.length === 3 && /seven to nine hours/i.test(texts[2]!) && /Sources: Steady Habits Guide/.test(texts[2]!);
      },
      { what: 'the answer in the frame' },
    );
    // The visitor's session works inside the frame: the history comes back after the frame reloads.
    await tab.evaluateInFrame(frame.id, 'location.reload(), true');
    await waitFor(async () => {
      const current = (await childFrames(tab)).find((f) => f.url.startsWith(`${base}/c/${botId}`));
      return current ? (await tab.evaluateInFrame<number>(current.id, `document.querySelectorAll('.msg').length`)) === 3 : false;
    }, { what: 'the history after the frame reloads' });

    await tap(tab, '.close');
    expect(await tab.evaluate<boolean>(`${inShadow('.panel')}.hidden && ${inShadow('.launcher')}.getAttribute('aria-expanded') === 'false'`)).toBe(true);
  });

  it('on a site that is not allowed: no launcher, and a copied frame of the chat is refused by the browser', async () => {
    const tab = await browser!.open(otherSite);
    // The platform refuses the widget's settings to this site, so the script adds nothing.
    await waitFor(() => tab.evaluate<boolean>(`document.querySelector('script[data-bot]').dataset.coachWidget === 'refused'`), { what: 'the refusal' });
    expect(await tab.evaluate<boolean>(`!!document.querySelector('[data-coach-widget-host]')`)).toBe(false);
    // A frame pointed at the chat directly is blocked by the page's frame-ancestors: the browser shows its error page instead.
    const copied = await waitFor(async () => (await childFrames(tab)).find((f) => f.url !== 'about:blank' && f.url !== '') ?? null, { what: 'the copied frame to settle' });
    expect(copied.url).toBe('chrome-error://chromewebdata/');
    expect(copied.unreachableUrl).toBe(`${base}/c/${botId}?embed=1`);
    // Nothing of the chat ran there: it never asked for a visitor's history.
    expect(tab.requests.map((r) => new URL(r.url).pathname)).toEqual(expect.arrayContaining([`/widget.js`, `/public/bots/${botId}/widget`, `/c/${botId}`]));
    expect(tab.requests.map((r) => new URL(r.url).pathname)).not.toContain(`/public/bots/${botId}/history`);
  });
});
