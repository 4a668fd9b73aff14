/**
 * Website crawl and re-sync: a local 100-page site (sitemap, robots.txt, ETags) read through the API
 * by the real crawl and ingest workers on a fresh PostgreSQL database, embeddings from a local fake
 * Ollama that answers at once. Then five pages change and the site is synced again. The baseline,
 * measured in the same run, is a plain sequential fetch of the same 100 URLs (the floor of any
 * crawl); the second pass is set against re-reading everything (requests and bytes embedded by the
 * first pass). The politeness delay is 0 here so the figures measure the platform, not the wait.
 *
 *   npm run bench:crawl -- [--pages 100]
 */
import { request } from 'undici';
import { createBot, signUpCreator } from '../test/support/creator-session.js';
import { startFakeOllama } from '../test/support/fake-ollama.js';
import { htmlPage, sitemap, startFakeSite } from '../test/support/fake-site.js';
import { startTestPlatform } from '../test/support/test-platform.js';
import { waitFor } from '../test/support/wait-for.js';
import { saveResults } from './bench-report.js';

const pageCount = Number(process.argv[process.argv.indexOf('--pages') + 1]) || 100;
const CHANGED = 5;
const topics = ['sleep', 'habit', 'morning light', 'hydration', 'walking', 'breathing', 'protein', 'strength', 'focus', 'journaling'];

function pageText(i: number, version: number): string {
  const topic = topics[i % topics.length]!;
  return Array.from({ length: 12 }, (_, k) => `Lesson ${i} on ${topic}, part ${k} (edition ${version}): small daily steps compound into lasting change.`).join(' ');
}

async function main() {
  const [site, ollama] = await Promise.all([startFakeSite(), startFakeOllama({ models: ['nomic-embed-text:latest'] })]);
  const paths = Array.from({ length: pageCount }, (_, i) => `/lessons/${i}`);
  site.resources.set('/robots.txt', { body: `User-agent: *\nDisallow: /admin\nSitemap: ${site.origin}/sitemap.xml\n`, type: 'text/plain' });
  site.resources.set('/sitemap.xml', { body: sitemap(paths.map((p) => site.origin + p)), type: 'application/xml' });
  paths.forEach((p, i) => site.resources.set(p, { body: htmlPage(`Lesson ${i}`, pageText(i, 1)) }));

  // Baseline: the same URLs fetched one after another, bodies read, nothing else.
  let started = performance.now();
  for (const p of paths) await (await request(site.origin + p)).body.text();
  const baselineSeconds = (performance.now() - started) / 1000;
  const baselineRequests = pageCount;

  const platform = await startTestPlatform({
    OLLAMA_HOST: ollama.url,
    URL_FETCH_ALLOWED_RANGES: '127.0.0.1/32',
    CRAWL_DELAY_MS: '0',
    CRAWL_MAX_PAGES: String(Math.max(pageCount, 100)),
  });
  try {
    const creator = await signUpCreator(platform.app, { name: 'Bench' });
    const botId = (await createBot(platform.app, creator.auth, { name: 'Lessons', language: 'en' })).id;
    const get = async <T>(url: string) => (await platform.app.inject({ url: `/v1/bots/${botId}${url}`, headers: creator.auth })).json() as T;
    const settled = (siteId: string, after: string | undefined) =>
      waitFor(
        async () => {
          const current = await get<{ status: string; lastSyncedAt?: string; error?: string }>(`/sites/${siteId}`);
          if (current.status === 'failed') throw new Error(current.error);
          if (current.status !== 'ready' || current.lastSyncedAt === after) return undefined;
          const { pages } = await get<{ pages: Array<{ status: string }> }>(`/sites/${siteId}/pages`);
          return pages.length && pages.every((p) => p.status === 'ready' || p.status === 'failed') ? current : undefined;
        },
        { timeoutMs: 600_000, intervalMs: 50, what: 'the site to settle' },
      );
    const embeddedBytes = (from: number) => ollama.embeddedTexts.slice(from).reduce((sum, text) => sum + Buffer.byteLength(text), 0);

    // Pass 1: discover, fetch, ingest.
    let mark = site.requests.length;
    let embedMark = ollama.embeddedTexts.length;
    started = performance.now();
    const created = await platform.app.inject({
      method: 'POST',
      url: `/v1/bots/${botId}/documents`,
      headers: creator.auth,
      payload: { url: `${site.origin}/`, crawl: { sitemap: true, maxPages: pageCount } },
    });
    const siteId = (created.json() as { id: string }).id;
    const first = await settled(siteId, undefined);
    const firstSeconds = (performance.now() - started) / 1000;
    const firstPass = { seconds: firstSeconds, pagesPerSecond: pageCount / firstSeconds, requests: site.requests.length - mark, bytesEmbedded: embeddedBytes(embedMark) };

    // Pass 2: five pages changed, the rest untouched.
    paths.slice(0, CHANGED).forEach((p, i) => site.resources.set(p, { body: htmlPage(`Lesson ${i}`, pageText(i, 2)) }));
    mark = site.requests.length;
    embedMark = ollama.embeddedTexts.length;
    started = performance.now();
    await platform.app.inject({ method: 'POST', url: `/v1/bots/${botId}/sites/${siteId}/sync`, headers: creator.auth });
    await settled(siteId, first.lastSyncedAt);
    const secondSeconds = (performance.now() - started) / 1000;
    const passRequests = site.requestsSince(mark);
    const secondPass = {
      seconds: secondSeconds,
      pagesPerSecond: pageCount / secondSeconds,
      requests: passRequests.length,
      notModified: passRequests.filter((r) => r.status === 304).length,
      fullResponses: passRequests.filter((r) => r.status === 200).length,
      bytesEmbedded: embeddedBytes(embedMark),
    };

    const figures = {
      pages: pageCount,
      changedOnSecondPass: CHANGED,
      baseline: { what: 'plain sequential fetch of the same URLs', seconds: baselineSeconds, pagesPerSecond: pageCount / baselineSeconds, requests: baselineRequests },
      firstPass,
      secondPass,
      ratios: {
        firstPassPagesPerSecondVsBaseline: firstPass.pagesPerSecond / (pageCount / baselineSeconds),
        secondPassBytesEmbeddedVsFirst: secondPass.bytesEmbedded / firstPass.bytesEmbedded,
        secondPassRequestsVsFirst: secondPass.requests / firstPass.requests,
      },
    };
    console.log(`baseline fetch: ${figures.baseline.pagesPerSecond.toFixed(1)} pages/s (${baselineRequests} requests)`);
    console.log(`crawl + ingest, pass 1: ${firstPass.pagesPerSecond.toFixed(1)} pages/s, ${firstPass.requests} requests, ${firstPass.bytesEmbedded} bytes embedded (${figures.ratios.firstPassPagesPerSecondVsBaseline.toFixed(3)}× baseline)`);
    console.log(
      `re-sync, pass 2 (${CHANGED} changed): ${secondPass.pagesPerSecond.toFixed(1)} pages/s, ${secondPass.requests} requests (${secondPass.notModified} answered 304, ${secondPass.fullResponses} full), ${secondPass.bytesEmbedded} bytes re-embedded (${(figures.ratios.secondPassBytesEmbeddedVsFirst * 100).toFixed(1)}% of pass 1)`,
    );
    console.log(`results: ${saveResults('crawl', figures)}`);
  } finally {
    await platform.stop();
    await Promise.all([site.close(), ollama.close()]);
  }
}

await main();
