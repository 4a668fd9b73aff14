import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, signUpCreator, type CreatorSession } from '../support/creator-session.js';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.js';
import { htmlPage, sitemap, sitemapIndex, startFakeSite, type FakeSite } from '../support/fake-site.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { waitFor } from '../support/wait-for.js';

interface SiteView {
  id: string;
  status: string;
  error?: string;
  pagesFound: number;
  lastSyncedAt?: string;
}
interface PageView {
  documentId: string;
  url: string;
  title: string;
  status: string;
  error?: string;
  chunks: number;
}

let platform: TestPlatform;
let ollama: FakeOllama;
let site: FakeSite;
let closedSite: FakeSite;
let alice: CreatorSession;
let bob: CreatorSession;
let botId: string;

const CRAWL_DELAY_S = 0.2;
const BREATHING_V1 = 'Box breathing calms the nervous system: breathe in for four counts, hold for four counts, breathe out for four counts.';
const BREATHING_V2 = 'Alternate nostril breathing steadies attention: close one nostril, inhale slowly, switch sides, exhale gently.';
const contentPaths = ['/', '/breathing', '/sleep/', '/old-habits', '/habits', '/cold-showers', '/journaling', '/private/secret'];

function api(method: 'GET' | 'POST' | 'DELETE', url: string, session: CreatorSession = alice, payload?: unknown) {
  return platform.app.inject({ method, url: `/v1/bots/${botId}${url}`, headers: session.auth, ...(payload ? { payload: payload as object } : {}) });
}

async function search(q: string): Promise<Array<{ title: string; text: string }>> {
  const response = await api('GET', `/search?q=${encodeURIComponent(q)}&k=5`);
  expect(response.statusCode).toBe(200);
  return (response.json() as { results: Array<{ title: string; text: string }> }).results;
}

async function pagesOf(siteId: string): Promise<PageView[]> {
  return ((await api('GET', `/sites/${siteId}/pages`)).json() as { pages: PageView[] }).pages;
}

/** Waits until the site's sync after `after` finished and every page it kept has settled. */
function synced(siteId: string, after?: string): Promise<{ site: SiteView; pages: PageView[] }> {
  return waitFor(
    async () => {
      const current = (await api('GET', `/sites/${siteId}`)).json() as SiteView;
      if (current.status === 'failed') return { site: current, pages: [] };
      if (current.status !== 'ready' || current.lastSyncedAt === after) return undefined;
      const pages = await pagesOf(siteId);
      return pages.every((p) => p.status === 'ready' || p.status === 'failed') ? { site: current, pages } : undefined;
    },
    { timeoutMs: 30_000, what: 'the site to be synced' },
  );
}

beforeAll(async () => {
  [ollama, site, closedSite] = await Promise.all([startFakeOllama({ models: ['nomic-embed-text:latest'] }), startFakeSite(), startFakeSite()]);
  const o = site.origin;
  site.resources.set('/robots.txt', { body: `User-agent: *\nDisallow: /private\nCrawl-delay: ${CRAWL_DELAY_S}\nSitemap: ${o}/sitemap_index.xml\n`, type: 'text/plain' });
  site.resources.set('/sitemap_index.xml', { body: sitemapIndex([`${o}/sitemap-pages.xml`]), type: 'application/xml' });
  site.resources.set('/sitemap-pages.xml', {
    body: sitemap(['/', '/breathing', '/breathing#technique', '/sleep/', '/old-habits', '/cold-showers', '/journaling', '/private/secret', '/photo.png'].map((p) => o + p)),
    type: 'application/xml',
  });
  site.resources.set('/', { body: htmlPage('Calm Coach', 'Welcome to the calm coaching library of routines.') });
  site.resources.set('/breathing', { body: htmlPage('Breathing', BREATHING_V1), validators: 'etag' });
  site.resources.set('/sleep/', { body: htmlPage('Sleep', 'A cool dark bedroom and a steady wake time deepen sleep.'), validators: 'last-modified' });
  site.resources.set('/old-habits', { redirect: '/habits' });
  site.resources.set('/habits', { body: htmlPage('Habits', 'Habit stacking ties a new habit to an existing cue such as morning coffee.') });
  site.resources.set('/cold-showers', { body: htmlPage('Cold showers', 'Thirty seconds of cold water at the end of a shower wakes you up.') });
  site.resources.set('/journaling', { body: htmlPage('Journaling', 'Write three lines of gratitude journaling every evening.') });
  site.resources.set('/private/secret', { body: htmlPage('Secret', 'Unpublished zebra strategy notes.') });
  site.resources.set('/photo.png', { body: 'not really a png', type: 'image/png' });
  // A blog read by following links: one link leads, by redirect, to a private address.
  site.resources.set('/blog/', { body: htmlPage('Blog', 'Posts about mindful eating.', ['/blog/first', 'mailto:coach@example.test', '/blog/to-intranet']) });
  site.resources.set('/blog/first', { body: htmlPage('First post', 'Mindful eating means chewing slowly and noticing fullness.', ['/blog/second', '/blog/']) });
  site.resources.set('/blog/second', { body: htmlPage('Second post', 'Portion plates keep mindful eating simple.') });
  site.resources.set('/blog/to-intranet', { redirect: 'http://10.255.255.1/admin', status: 302 });
  closedSite.resources.set('/robots.txt', { body: 'User-agent: *\nDisallow: /\n', type: 'text/plain' });
  closedSite.resources.set('/', { body: htmlPage('Closed', 'Nothing for crawlers.') });

  platform = await startTestPlatform({
    OLLAMA_HOST: ollama.url,
    // Only the fake sites' address is reachable; every other private address stays refused.
    URL_FETCH_ALLOWED_RANGES: '127.0.0.1/32',
    CRAWL_DELAY_MS: '0',
    CRAWL_MAX_PAGES: '50',
  });
  alice = await signUpCreator(platform.app, { name: 'Alice' });
  bob = await signUpCreator(platform.app, { name: 'Bob' });
  botId = (await createBot(platform.app, alice.auth, { name: 'Calm coach', language: 'en' })).id;
});

afterAll(async () => {
  await platform?.stop();
  await Promise.all([ollama?.close(), site?.close(), closedSite?.close()]);
});

describe('a website in the knowledge base', () => {
  let siteId: string;
  let firstSync: string | undefined;

  it('reads the pages its sitemap lists, honouring robots.txt, one document per page', async () => {
    const created = await api('POST', '/documents', alice, { url: `${site.origin}/`, crawl: { sitemap: true, maxPages: 20, sameOrigin: true } });
    expect(created.statusCode).toBe(202);
    const body = created.json() as SiteView & { kind: string; rootUrl: string };
    expect(body).toMatchObject({ kind: 'site', status: 'queued', rootUrl: `${site.origin}/` });
    siteId = body.id;

    const { site: done, pages } = await synced(siteId);
    firstSync = done.lastSyncedAt;
    expect(done).toMatchObject({ status: 'ready', pagesFound: 6 });
    // The redirect is stored under where it led, the fragment and trailing slash are one page each.
    expect(pages.map((p) => p.url).sort()).toEqual(['/', '/breathing', '/cold-showers', '/habits', '/journaling', '/sleep'].map((p) => site.origin + p).sort());
    expect(pages.every((p) => p.status === 'ready' && p.chunks > 0)).toBe(true);
    expect(pages.find((p) => p.url.endsWith('/breathing'))?.title).toBe('Breathing');

    const paths = site.requests.map((r) => r.path);
    expect(paths).not.toContain('/private/secret');
    // Each page was fetched once: ingestion read the crawler's copy.
    expect(paths.filter((p) => p === '/breathing')).toHaveLength(1);
    // Requests were spaced by the Crawl-delay. Judged over the whole crawl: one arrival can be late by
    // a busy event loop (this process also runs the platform), which shortens one gap and lengthens the
    // next; without the delay the requests would all arrive within a few milliseconds of each other.
    const span = site.requests.at(-1)!.at - site.requests[0]!.at;
    expect(span).toBeGreaterThanOrEqual(0.75 * (site.requests.length - 1) * CRAWL_DELAY_S * 1000);
    expect(site.requests.every((r) => r.headers['user-agent']?.startsWith('CoachingAssistant/'))).toBe(true);

    const answers = await search('box breathing counts');
    expect(answers[0]).toMatchObject({ title: 'Breathing', text: expect.stringContaining('Box breathing calms') });
  });

  it('syncs with conditional requests: only the changed page is re-embedded, removed pages leave the index', async () => {
    expect((await search('cold water shower')).some((r) => r.title === 'Cold showers')).toBe(true);
    expect((await search('gratitude journaling')).some((r) => r.title === 'Journaling')).toBe(true);
    site.resources.set('/breathing', { body: htmlPage('Breathing', BREATHING_V2), validators: 'etag' });
    site.resources.delete('/cold-showers');
    // Dropped from the sitemap while still online.
    site.resources.set('/sitemap-pages.xml', {
      body: sitemap(['/', '/breathing', '/sleep/', '/old-habits', '/cold-showers', '/private/secret'].map((p) => site.origin + p)),
      type: 'application/xml',
    });
    const mark = site.requests.length;
    const embeddedBefore = ollama.embeddedTexts.length;

    // Asked twice at once: one run, each page fetched once.
    const [first, second] = await Promise.all([api('POST', `/sites/${siteId}/sync`), api('POST', `/sites/${siteId}/sync`)]);
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    const { site: done, pages } = await synced(siteId, firstSync);
    expect(done).toMatchObject({ status: 'ready', pagesFound: 4 });
    expect(pages.map((p) => p.url).sort()).toEqual(['/', '/breathing', '/habits', '/sleep'].map((p) => site.origin + p).sort());

    const pass = site.requestsSince(mark);
    const pageRequests = pass.filter((r) => contentPaths.includes(r.path));
    expect(pageRequests.map((r) => r.path).sort()).toEqual(['/', '/breathing', '/cold-showers', '/habits', '/old-habits', '/sleep/'].sort());
    // Every page request was conditional; the unchanged ones cost a 304 and nothing more.
    expect(pageRequests.every((r) => r.headers['if-none-match'] !== undefined || r.headers['if-modified-since'] !== undefined)).toBe(true);
    expect(pageRequests.filter((r) => r.status === 304).map((r) => r.path).sort()).toEqual(['/', '/habits', '/sleep/']);
    expect(pass.find((r) => r.path === '/sleep/')?.headers['if-modified-since']).toBe(new Date('2026-01-05T10:00:00Z').toUTCString());
    // Only the changed page's text went to the embedding model.
    const reembedded = ollama.embeddedTexts.slice(embeddedBefore);
    expect(reembedded.length).toBeGreaterThan(0);
    expect(reembedded.every((text) => text.includes('Alternate nostril'))).toBe(true);

    const breathing = await search('alternate nostril breathing');
    expect(breathing[0]).toMatchObject({ title: 'Breathing', text: expect.stringContaining('Alternate nostril') });
    expect((await search('box breathing counts')).some((r) => r.text.includes('Box breathing calms'))).toBe(false);
    expect((await search('cold water shower')).some((r) => r.title === 'Cold showers')).toBe(false);
    expect((await search('gratitude journaling')).some((r) => r.title === 'Journaling')).toBe(false);
  });

  it('is private to its creator, and deleting it removes its pages from the index', async () => {
    expect((await api('GET', `/sites/${siteId}`, bob)).statusCode).toBe(404);
    expect((await api('GET', `/sites/${siteId}/pages`, bob)).statusCode).toBe(404);
    expect((await api('DELETE', `/sites/${siteId}`, bob)).statusCode).toBe(404);
    expect((await api('POST', `/sites/${siteId}/sync`, bob)).statusCode).toBe(404);

    expect((await api('DELETE', `/sites/${siteId}`)).statusCode).toBe(204);
    expect((await api('GET', `/sites/${siteId}`)).statusCode).toBe(404);
    expect(await search('habit stacking morning coffee')).toEqual([]);
    const { documents } = (await api('GET', '/documents')).json() as { documents: unknown[] };
    expect(documents).toEqual([]);
  });
});

describe('reading a site by its links', () => {
  it('follows links on the same origin, and refuses a redirect to a private address', async () => {
    const created = await api('POST', '/documents', alice, { url: `${site.origin}/blog/`, crawl: { sitemap: false, maxPages: 10 } });
    expect(created.statusCode).toBe(202);
    const { site: done, pages } = await synced((created.json() as SiteView).id);
    expect(done.status).toBe('ready');
    const byUrl = Object.fromEntries(pages.map((p) => [p.url.slice(site.origin.length), p]));
    expect(Object.keys(byUrl).sort()).toEqual(['/blog', '/blog/first', '/blog/second', '/blog/to-intranet']);
    expect(byUrl['/blog/second']?.status).toBe('ready');
    expect(byUrl['/blog/to-intranet']).toMatchObject({ status: 'failed', error: 'Address 10.255.255.1 is not allowed: it is a private network address' });
    expect((await search('portion plates mindful eating')).some((r) => r.title === 'Second post')).toBe(true);
  });
});

describe('a page added by its address alone', () => {
  /** Runs the bot's scheduled sync of single-address documents now (the job its schedule adds) and waits for it. */
  async function runScheduledSync(name: string): Promise<void> {
    const jobId = `urls_${name}`;
    await platform.infrastructure.queues.ensure('crawl', { botId, singleUrls: true }, { jobId });
    await waitFor(async () => (await platform.infrastructure.queues.jobState('crawl', jobId)) === 'completed', { what: `sync ${name}` });
  }
  async function documentView(id: string) {
    return (await api('GET', `/documents/${id}`)).json() as { status: string; error?: string; chunks: number };
  }

  it('is synced on the schedule: changed text replaced, unchanged costs a conditional request, a removed page leaves the index', async () => {
    site.resources.set('/single', { body: htmlPage('Stretching', 'Gentle hamstring stretching after walks eases tight legs.') });
    const added = await api('POST', '/documents', alice, { url: `${site.origin}/single` });
    expect(added.statusCode).toBe(202);
    const id = (added.json() as { id: string }).id;
    await waitFor(async () => (await documentView(id)).status === 'ready', { what: 'the page to be ingested' });

    site.resources.set('/single', { body: htmlPage('Stretching', 'Calf stretching against a wall loosens the ankles.') });
    await runScheduledSync('1');
    await waitFor(async () => (await search('calf stretching wall')).some((r) => r.text.includes('Calf stretching')), { what: 'the new text' });
    expect((await search('hamstring stretching walks')).some((r) => r.text.includes('hamstring'))).toBe(false);

    const mark = site.requests.length;
    const embeddedBefore = ollama.embeddedTexts.length;
    await runScheduledSync('2');
    const [request] = site.requestsSince(mark).filter((r) => r.path === '/single');
    expect(request).toMatchObject({ status: 304, headers: expect.objectContaining({ 'if-none-match': expect.any(String) }) });
    expect(ollama.embeddedTexts.length).toBe(embeddedBefore);
    expect((await documentView(id)).status).toBe('ready');

    site.resources.delete('/single');
    await runScheduledSync('3');
    expect(await documentView(id)).toMatchObject({ status: 'failed', error: 'The page is gone (HTTP 404); it was removed from the knowledge base', chunks: 0 });
    expect((await search('calf stretching wall')).some((r) => r.text.includes('Calf stretching'))).toBe(false);
  });
});

describe('sites that cannot be read', () => {
  it('says so on the site when robots.txt allows nothing, without fetching a page', async () => {
    const created = await api('POST', '/documents', alice, { url: `${closedSite.origin}/`, crawl: { maxPages: 5 } });
    expect(created.statusCode).toBe(202);
    const { site: done } = await synced((created.json() as SiteView).id);
    expect(done).toMatchObject({ status: 'failed', error: `The site's robots.txt does not allow reading ${closedSite.origin}/` });
    expect(closedSite.requests.map((r) => r.path)).toEqual(['/robots.txt']);
  });

  it('says so when the address cannot be found', async () => {
    const created = await api('POST', '/documents', alice, { url: 'http://no-such-host.invalid/', crawl: { maxPages: 5 } });
    const { site: done } = await synced((created.json() as SiteView).id);
    expect(done).toMatchObject({ status: 'failed', error: 'The address no-such-host.invalid could not be found' });
  });

  it('refuses a crawl larger than the server allows, or other bad input, with a precise 400', async () => {
    const tooMany = await api('POST', '/documents', alice, { url: `${site.origin}/`, crawl: { maxPages: 51 } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'crawl.maxPages: at most 50 pages per site' } });
    const crossOrigin = await api('POST', '/documents', alice, { url: `${site.origin}/`, crawl: { sameOrigin: false } });
    expect(crossOrigin.statusCode).toBe(400);
    const ftp = await api('POST', '/documents', alice, { url: 'ftp://example.com/', crawl: {} });
    expect(ftp.statusCode).toBe(400);
    expect((await api('GET', '/sites/not-a-uuid')).statusCode).toBe(404);
  });
});
