// Test helper: Debian's chromium driven by playwright-core (no browser download), in a fresh profile; skips or fails like other services.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { skipOrFail } from './services.js';

/** Where Debian's `chromium` package puts the browser (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.TAXIWAY_CHROMIUM || '/usr/bin/chromium';
/** Flags for a quiet, offline, throw-away headless browser (root in CI: no sandbox). */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A skip reason when chromium or playwright-core is missing (throws under TAXIWAY_REQUIRE_SERVICES=1); undefined when both are there. */
export async function chromiumMissing(): Promise<string | undefined> {
  if (!fs.existsSync(CHROMIUM)) return skipOrFail('chromium', `${CHROMIUM} not found (apt-get install chromium, or set TAXIWAY_CHROMIUM)`);
  try {
    await import('playwright-core');
  } catch (e) {
    return skipOrFail('playwright-core', `cannot load it (npm ci installs it as a dev dependency): ${(e as Error).message}`);
  }
  return undefined;
}

/** Launch headless chromium with a fresh --user-data-dir in a temp dir (removed on close). */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, timeout: 60_000 });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
