import { describe, expect, it } from 'vitest';
import { extractPageLinks } from '../../rag/crawl/page-links.js';
import { fetchableUrl, onOrigin, pageKey } from '../../rag/crawl/page-url.js';
import { parseSitemap } from '../../rag/crawl/sitemap.parser.js';

describe('page addresses', () => {
  it('gives one key per page: fragment, trailing slash, host case and default port do not count', () => {
    const key = 'https://coach.example/guide';
    for (const variant of ['https://coach.example/guide', 'https://coach.example/guide/', 'https://COACH.example:443/guide#part-2', 'https://coach.example/guide//']) {
      expect(pageKey(variant)).toBe(key);
    }
    expect(pageKey('https://coach.example/')).toBe('https://coach.example/');
    expect(pageKey('https://coach.example/guide?page=2')).not.toBe(key);
  });

  it('fetches only http(s), without the fragment, resolved against the page', () => {
    expect(fetchableUrl('../b#x', 'https://coach.example/a/c')).toBe('https://coach.example/b');
    expect(fetchableUrl('mailto:coach@example.test')).toBeUndefined();
    expect(fetchableUrl('javascript:void(0)')).toBeUndefined();
    expect(fetchableUrl('http://[bad')).toBeUndefined();
    expect(onOrigin('https://coach.example/x', 'https://coach.example')).toBe(true);
    expect(onOrigin('http://coach.example/x', 'https://coach.example')).toBe(false);
  });
});

describe('links of an HTML page', () => {
  it('finds anchors in document order once each, resolved against <base>, and the canonical address', () => {
    const html = `<html><head><base href="/docs/"><link rel="canonical" href="https://coach.example/docs/start"></head><body>
      <a href="intro">Intro</a> <A HREF='/about?a=1&amp;b=2'>About</A> <a class="x" href=faq>FAQ</a>
      <a href="intro#again">Intro again</a> <a href="mailto:x@example.test">Mail</a> <a name="no-href">anchor</a></body></html>`;
    expect(extractPageLinks(html, 'https://coach.example/docs/start?ref=1')).toEqual({
      links: ['https://coach.example/docs/intro', 'https://coach.example/about?a=1&b=2', 'https://coach.example/docs/faq'],
      canonical: 'https://coach.example/docs/start',
    });
  });
});

describe('sitemaps', () => {
  it('reads a urlset and a sitemap index, one entry or many', () => {
    expect(parseSitemap('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> https://a.example/x?y=1&amp;z=2 </loc><lastmod>2026-01-01</lastmod></url></urlset>')).toEqual({
      pages: ['https://a.example/x?y=1&z=2'],
      sitemaps: [],
    });
    expect(parseSitemap('<sitemapindex><sitemap><loc>https://a.example/1.xml</loc></sitemap><sitemap><loc>https://a.example/2.xml</loc></sitemap></sitemapindex>')).toEqual({
      pages: [],
      sitemaps: ['https://a.example/1.xml', 'https://a.example/2.xml'],
    });
  });

  it('yields nothing for an HTML error page or junk', () => {
    expect(parseSitemap('<!doctype html><html><body>Not found</body></html>')).toEqual({ pages: [], sitemaps: [] });
    expect(parseSitemap('<<<not xml')).toEqual({ pages: [], sitemaps: [] });
  });
});
