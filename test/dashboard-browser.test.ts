// The ops dashboard in headless Chromium against a running node with drivers and jobs: what a person checks, with screenshots in test-artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { signToken } from '../src/auth/tokens.js';
import { packagePath } from '../src/util/package-root.js';
import { SECRET, http, removeDir, sleep } from './helpers/server.js';
import { startOpsWorld } from './helpers/ops-world.js';
import type { OpsWorld } from './helpers/ops-world.js';
import { chromiumMissing, launchChromium } from './helpers/chromium.js';
import type { Browser } from './helpers/chromium.js';

// The page functions below run in the browser; this file is compiled without the DOM library.
declare const document: any;
declare const window: any;

const ARTIFACTS = packagePath('test-artifacts');
const DRIVERS = 6;
const JOBS = 3;

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

const rows = (page: Page): Promise<string[]> => page.$$eval('#jobs tbody tr', (trs) => trs.map((tr: any) => tr.dataset.job as string));

async function waitRows(page: Page, n: number): Promise<string[]> {
  await page.waitForFunction((n) => document.querySelectorAll('#jobs tbody tr').length === n, n, { timeout: 15_000 });
  return rows(page);
}

const skip = await chromiumMissing();

t.test('dashboard in headless chromium', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-dash-'));
  let w: OpsWorld | undefined;
  let browser: Browser | undefined;
  t.teardown(async () => {
    await browser?.close();
    await w?.stop();
    removeDir(dir);
  });
  // Jobs and drivers exist BEFORE the page opens: the table must come from the snapshot.
  w = await startOpsWorld(dir, { driverCount: DRIVERS, jobCount: JOBS, acceptFirst: 1 });
  const ops = await w.s.token('ops', 'dash-ops');
  // The driver's trail is read from storage: wait until its fixes are committed (about 4 s in embedded mode).
  for (let i = 0; i < 40; i++) {
    const r = await http('GET', `${w.s.url}/v1/drivers/drv-0/track?from=0`, ops);
    if (r.body.points?.length >= 5) break;
    await sleep(250);
  }
  browser = await launchChromium();
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await t.test('opens live: drivers drawn, job table filled from the snapshot, KPIs, OSM attribution', async (t) => {
    await page.goto(`${w!.s.url}/dashboard#token=${ops}&stuck=dispatching:2`);
    await page.waitForFunction(() => document.getElementById('conn').textContent === 'live', null, { timeout: 15_000 });
    const ids = await waitRows(page, JOBS);
    t.same([...ids].sort(), [...w!.jobs].sort(), 'every job created before the page opened is in the table');
    // Drivers drawn: every one has a position on the canvas, and the pixel there is a status colour.
    await page.waitForFunction((n) => {
      const d = (window as any).taxiwayDashboard;
      for (let i = 0; i < n; i++) if (!d.driverScreenPos('drv-' + i)) return false;
      return true;
    }, DRIVERS, { timeout: 10_000 });
    const pixel = await page.evaluate(() => {
      const [x, y] = (window as any).taxiwayDashboard.driverScreenPos('drv-5');
      const c = document.getElementById('map');
      const k = c.width / c.clientWidth;
      return Array.from<number>(c.getContext('2d').getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data);
    });
    t.ok(pixel[1]! > 150 && pixel[0]! < 120, `drv-5 (available) drawn green, got rgba ${pixel}`);
    const kpi = async (k: string): Promise<string> => page.$eval(`#kpis b[data-kpi="${k}"]`, (b: any) => b.textContent as string);
    await page.waitForFunction(() => document.querySelector('#kpis b[data-kpi="available"]')?.textContent !== '0', null, { timeout: 10_000 });
    t.equal(Number(await kpi('available')) + Number(await kpi('busy')), DRIVERS, 'drivers by status add up to the fleet');
    t.equal(await kpi('busy'), '1', 'the driver who accepted is busy');
    t.equal(await page.$eval('#counts b[data-state="dispatching"]', (b: any) => b.textContent), String(JOBS - 1), 'counters right at once');
    t.equal(await page.$eval('#counts b[data-state="accepted"]', (b: any) => b.textContent), '1');
    await page.waitForFunction(() => document.querySelector('#kpis b[data-kpi="acceptance"]')?.textContent !== '—', null, { timeout: 15_000 });
    t.match(await kpi('acceptance'), /%$/, 'acceptance rate from /metrics');
    t.ok(await page.isVisible('#attribution'), 'OSM attribution shown with the Monaco roads');
    t.match(await page.textContent('#attribution'), /OpenStreetMap/);
    // Stuck highlight (threshold 2 s for dispatching from the page address): the dispatching jobs turn stuck.
    await page.waitForFunction((n) => document.querySelectorAll('#jobs tbody tr.stuck').length === n, JOBS - 1, { timeout: 10_000 });
    t.match(await page.textContent('#table-note'), /2 stuck/);
    await shot(page, 'dashboard-overview.png');
  });

  await t.test('a click on a driver shows its detail and recent trail', async (t) => {
    const [x, y] = await page.evaluate(() => (window as any).taxiwayDashboard.driverScreenPos('drv-0'));
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + x, box.y + y);
    await page.waitForSelector('#detail:not([hidden])', { timeout: 5000 });
    t.equal(await page.textContent('#detail dd[data-field="driver"]'), 'drv-0');
    t.match(await page.textContent('#detail dd[data-field="status"]'), /available|busy/);
    await page.waitForFunction(() => /fixes/.test(document.querySelector('#detail dd[data-field="trail"]')?.textContent ?? ''), null, { timeout: 10_000 });
    t.match(await page.textContent('#detail dd[data-field="trail"]'), /^[5-9] fixes|^\d{2,} fixes/, 'the trail from GET /v1/drivers/:id/track');
    await shot(page, 'dashboard-driver-detail.png');
  });

  await t.test('filters, a new job live, the city selector, zoom', async (t) => {
    await page.selectOption('#f-state', 'accepted');
    t.equal((await rows(page)).length, 1, 'state filter');
    await page.selectOption('#f-state', '');
    const r = await http('POST', `${w!.s.url}/v1/jobs`, await w!.s.token('rider', 'dash-late'), { pickup: { lat: 43.735, lng: 7.42 } });
    t.equal(r.status, 201);
    t.ok((await waitRows(page, JOBS + 1)).includes(r.body.id), 'a job created after the page opened arrives by its job frame');
    await page.selectOption('#city', 'porto');
    await waitRows(page, 0);
    t.pass('porto: no live jobs');
    await page.selectOption('#city', 'monaco');
    await waitRows(page, JOBS + 1);
    t.pass('monaco again: its snapshot refills the table');
    // The city's fleet comes by the next fleet snapshot (at most 2 a second), after its jobs.
    await page.waitForFunction(() => (window as any).taxiwayDashboard.driverScreenPos('drv-0') !== null, null, { timeout: 5000 });
    t.pass('monaco again: its drivers are drawn');
    await page.click('#zoom-in');
    await page.click('#zoom-fit');
    const map = (await page.locator('#map').boundingBox())!;
    await page.mouse.move(map.x + map.width / 2, map.y + map.height / 2);
    await page.mouse.wheel(0, -300);
    t.ok(await page.evaluate(() => (window as any).taxiwayDashboard.driverScreenPos('drv-0') !== null), 'still drawn after zooming');
  });

  await t.test('a bad or expired token gets a clear message', async (t) => {
    const refused = async (token: string, artefact?: string): Promise<{ title: string; msg: string }> => {
      const p = await browser!.context.newPage();
      await p.goto(`${w!.s.url}/dashboard#token=${token}`);
      await p.waitForSelector('#auth:not([hidden])', { timeout: 10_000 });
      const out = { title: (await p.textContent('#auth-title'))!, msg: (await p.textContent('#auth-msg'))! };
      if (artefact) await shot(p, artefact);
      await p.close();
      return out;
    };
    const bad = await refused('not-a-token', 'dashboard-bad-token.png');
    t.match(bad.title, /token was refused/);
    t.match(bad.msg, /The server said/);
    t.match((await refused(await signToken(SECRET, 'dash-old', 'ops', -60))).title, /expired/);
    const rider = await refused(await w!.s.token('rider', 'dash-rider'), 'dashboard-not-ops.png');
    t.match(rider.title, /not an ops token/);
    t.match(rider.msg, /rider/);
  });

  t.same(errors, [], 'no script errors in the page');
});
