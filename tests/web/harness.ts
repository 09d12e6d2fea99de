import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { ROOT, removeDir, startTestRuntime, type TestRuntime, tempDir } from '../helpers/runtime.js';

/** Debian's Chromium (`.ci/run` installs it), driven by playwright-core. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface Portal {
  runtime: TestRuntime;
  app: FastifyInstance;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A real Baton (shipped templates, playground on) listening on an ephemeral loopback port. */
export async function startPortal(env: Record<string, string> = {}): Promise<Portal> {
  const dataDir = tempDir('baton-web-');
  const vars = {
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    RECIPES_DIR: `${ROOT}/recipes`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SCHEDULER_POLL_MS: '100',
    ...env,
  };
  const runtime = await startTestRuntime({ dataDir, recipesDir: vars.RECIPES_DIR, admins: [], env: vars });
  const config = parseConfig(vars);
  const app = await buildApp({ baton: runtime.baton, config, logger: createLogger(vars.LOG_LEVEL) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    runtime,
    app,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async close() {
      await app.close();
      await runtime.close();
      removeDir(dataDir);
    },
  };
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Console errors and page errors seen by a page (asserted empty by the tests). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return errors;
}

/** A browser context signed in as a demo person through the playground picker. */
export async function signInAs(
  browser: Browser,
  url: string,
  name: string,
  options: { viewport?: { width: number; height: number }; timezoneId?: string; locale?: string } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
    ...(options.locale ? { locale: options.locale } : {}),
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${url}/login`);
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await page.waitForURL(`${url}/`);
  return { context, page, errors };
}
