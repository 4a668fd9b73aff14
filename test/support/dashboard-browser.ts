/**
 * What the dashboard's browser tests share: Debian's Chromium driven by playwright-core, the two
 * screen sizes, axe and a photograph of each screen under test-results/dashboard/, and a watch on
 * what the page reports (script errors, content-policy violations, refused requests).
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestPlatform } from './test-platform.js';

const CHROMIUM = '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };
const shots = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

/** CI installs Chromium (.ci/run); elsewhere the browser tests need `apt-get install chromium`. */
export const chromiumMissing = !existsSync(CHROMIUM) && !process.env.CI;

/** Chromium, headless and quiet (no background traffic: nothing here reaches the internet). */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(shots, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Serves the platform on a free local port; resolves to its base URL. */
export async function serve(platform: TestPlatform): Promise<string> {
  await platform.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(platform.app.server.address() as AddressInfo).port}`;
}

/** The screen's own heading (each screen has one h1). */
export const screenHeading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name, exact: true });

/**
 * Runs axe on the screen as it is and photographs it at both sizes; returns the serious or critical
 * violations, and any width beyond the phone's screen (a wide table or code line scrolls in its own box).
 */
export async function checkScreen(page: Page, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const [size, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(viewport);
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations) {
      if (v.impact === 'serious' || v.impact === 'critical') found.push(`${name} (${size}): ${v.id} — ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
    if (size === 'phone') {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) found.push(`${name} (phone): the page is ${overflow}px wider than the screen`);
    }
    await page.screenshot({ path: path.join(shots, `${name}-${viewport.width}x${viewport.height}.png`), fullPage: true });
  }
  return found;
}

/**
 * Collects what the page reports: script errors, console errors (content-policy violations among
 * them) and responses of the platform at `base` of 400 or more that `expected` does not allow.
 */
export function watchPage(page: Page, base: string, expected: (status: number, pathname: string) => boolean): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    // Failed requests are reported with their address below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== base) return;
    if (response.status() >= 400 && !expected(response.status(), url.pathname)) problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on('pageerror', (err) => problems.push(err.message));
  return problems;
}

/** Runs the walk; when a step fails, photographs what the page showed as `failure` for whoever reads the failure. */
export async function walkOrPhotograph(page: Page, failure: string, walk: () => Promise<void>): Promise<void> {
  try {
    await walk();
  } catch (err) {
    await page.screenshot({ path: path.join(shots, `${failure}.png`), fullPage: true }).catch(() => undefined);
    throw err;
  }
}
