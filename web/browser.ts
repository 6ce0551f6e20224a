/**
 * The browser of the storefront tests: Debian's chromium driven by playwright-core (pinned), found
 * by the stack's tools (`chromiumPath()`, which installs it like Postgres when missing), else
 * CHROMIUM_PATH or /usr/bin/chromium. Every page records its console errors and uncaught
 * exceptions; the tests fail on any of them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { projectRoot } from '../lib/config';
import * as stackTools from '../scripts/stack/tools';

export const screenshotDir = path.join(projectRoot, 'test-output', 'storefront');

/** Flags that work in this environment (no GPU, no sandbox as root, no background traffic). */
const launchArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

type ChromiumLocator = (install?: boolean) => string | undefined;

/** The chromium executable: the stack tools' chromiumPath() when they offer it, else the usual places. */
export function findChromium(): string {
  // chromiumPath() is the stack's (scripts/stack/tools.ts); until it is there, the usual places.
  const tools = stackTools as { chromiumPath?: ChromiumLocator };
  const found = tools.chromiumPath?.(true) ?? process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  if (!found || !existsSync(found)) {
    throw new Error('chromium is missing: `npm run stack -- up --for-tests` installs it (as root: apt-get install -y chromium), or set CHROMIUM_PATH');
  }
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), headless: true, args: launchArgs });
}

/**
 * A business refusal the storefront explains in words (409 PRICE_CHANGED, 422 INSUFFICIENT_STOCK,
 * VOUCHER_*, …) is an answer, not a fault, yet Chromium logs every 4xx fetch to the console as
 * "Failed to load resource". Only those, for the API's own /v1/ paths, are not counted as errors.
 */
function isExpectedRefusal(message: ConsoleMessage, origin: string): boolean {
  return /^Failed to load resource: the server responded with a status of (409|422) /.test(message.text()) && message.location().url.startsWith(`${origin}/v1/`);
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Saves a screenshot as test-output/storefront/<name>.png. */
  shot: (name: string) => Promise<void>;
}

export async function openPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpectedRefusal(message, origin)) errors.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  mkdirSync(screenshotDir, { recursive: true });
  return {
    page,
    errors,
    shot: async (name) => {
      await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
    },
  };
}
