// The desktop app's renderer in a real browser, for the end-to-end tests: Debian's Chromium driven by playwright-core,
// a real web shell per user (its own app data directory and ProfileHost) over a real relay on loopback. Chromium
// missing is a failure with a clear message, never a skip: CI installs it (.ci/run).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { EngineOptions } from '../../core/engine/engine.ts';
import { ProfileHost } from '../../core/host/index.ts';
import { startWebShell, type WebShell } from '../../core/shell/index.ts';
import { ensureRendererBuilt, RENDERER_DIST, ROOT } from '../../scripts/build-renderer.ts';
import { tempDir } from './server-client.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** DESIGN.md section 2: what Chromium needs here (no sandbox as root in a container, no GPU, nothing phoning home). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
export const PASSPHRASE = 'correct horse battery staple';

export async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) — the end-to-end tests do not skip`);
  await ensureRendererBuilt();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface UserShell {
  host: ProfileHost;
  shell: WebShell;
  appDir: string;
  close(): Promise<void>;
}

/** A web shell of its own for one user: an app data directory, a host of its profiles, the shell on 127.0.0.1. */
export async function startUserShell(options: { firstInvite?: string; engine?: Partial<EngineOptions> } = {}): Promise<UserShell> {
  const appDir = tempDir('wardroom-e2e-');
  const host = new ProfileHost({
    root: path.join(appDir, 'profiles'), env: { WARDROOM_KDF: 'interactive' }, ...(options.firstInvite ? { firstInvite: options.firstInvite } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
  });
  const shell = await startWebShell({ host, staticDir: RENDERER_DIST });
  return {
    host, shell, appDir,
    async close() {
      await shell.close();
      await host.close();
    },
  };
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** page errors and console errors (CSP and Trusted Types violations among them) seen so far: the app must cause none */
  problems: string[];
}

export async function openApp(browser: Browser, url: string): Promise<AppPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 }, colorScheme: 'light' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { context, page, problems };
}

/** axe-core over the whole page: no serious or critical violation. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`), [], `accessibility of ${screen}`);
}

/** The screen in both themes (the app follows the system's when its theme setting is "system", the default). */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(50); // a frame for the new colours
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Checks a main screen: accessible in both themes, and photographed in both. */
export async function checkScreen(page: Page, name: string): Promise<void> {
  await assertAccessible(page, `${name} (light)`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await assertAccessible(page, `${name} (dark)`);
  await screenshots(page, name);
}

/** Waits until `check` holds in the page, saying what it waited for when it does not. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
