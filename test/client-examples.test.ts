// The SDK's examples against a real node: the Node driver and rider apps complete a trip, and so does the browser rider page in headless Chromium.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { REPO } from './helpers/cassandra.js';
import { NO_JOB_LIMITS, rebuild, removeDir, sleep, startServer } from './helpers/server.js';
import { skipOrFail } from './helpers/services.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Proc { p: ChildProcess; out: string; exited: Promise<number> }

function run(cmd: string, args: string[], env: Record<string, string>): Proc {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { p, out: '', exited: new Promise((r) => p.on('close', (code) => r(code ?? 1))) };
  p.stdout!.on('data', (d: Buffer) => (proc.out += d));
  p.stderr!.on('data', (d: Buffer) => (proc.out += d));
  return proc;
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const s = await startServer(NO_JOB_LIMITS);
const driver = run(process.execPath, [path.join(REPO, 'dist/examples/driver-app.js')], { TAXIWAY_URL: s.wsUrl, DRIVER_TOKEN: await s.token('driver', 'ex-d1') });
t.teardown(async () => {
  driver.p.kill('SIGINT');
  await driver.exited;
  await s.stop();
  removeDir(s.dataDir);
});
await until('the driver app to connect', () => (/connected as ex-d1/.test(driver.out) ? true : undefined));
const ops = await s.token('ops', 'ex-ops');
await until('the driver app to be available near its fix', async () => {
  rebuild(s);
  const res = await fetch(`${s.url}/v1/drivers/nearby?lat=43.7384&lng=7.4246`, { headers: { authorization: `Bearer ${ops}` } });
  const body = (await res.json()) as { drivers: Array<{ id?: string }> };
  return body.drivers.some((d) => d.id === 'ex-d1') ? true : undefined;
});

t.test('examples/rider-app.ts rides with examples/driver-app.ts to the end of a trip', async (t) => {
  rebuild(s);
  const rider = run(process.execPath, [path.join(REPO, 'dist/examples/rider-app.js')], { TAXIWAY_URL: s.wsUrl, RIDER_TOKEN: await s.token('rider', 'ex-r1') });
  t.equal(await rider.exited, 0, 'the rider app exits once its job ended');
  t.match(rider.out, /requested \S+: dispatching/);
  // Under load the rider's socket may open after the driver app already moved on from accepted.
  t.match(rider.out, /: (accepted|arrived|in_progress) \(driver ex-d1\)/, 'the rider saw its driver');
  t.match(rider.out, /: completed/, 'the trip completed', { out: rider.out });
  await until('the driver app to finish the trip', () => (/trip \S+ completed/.test(driver.out) ? true : undefined));
});

const noChromium = fs.existsSync(CHROMIUM) ? false : skipOrFail('chromium', `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
t.test('examples/browser-rider.html in headless Chromium: a ride requested and followed through the SDK served by the node', { skip: noChromium }, async (t) => {
  rebuild(s);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-chromium-'));
  const page = `${s.url}/examples/browser-rider.html#token=${await s.token('rider', 'ex-r2')}&auto`;
  const browser = run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--remote-debugging-port=0', page], {});
  t.teardown(async () => {
    browser.p.kill('SIGTERM');
    await browser.exited;
    fs.rmSync(profile, { recursive: true, force: true });
  });
  const port = await until('Chromium to listen', () => /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(browser.out)?.[1]);
  const target = await until('the page target', async () => {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; url: string; webSocketDebuggerUrl: string }>;
    return list.find((p) => p.type === 'page' && p.url.includes('browser-rider'))?.webSocketDebuggerUrl;
  });
  const cdp = new WebSocket(target);
  await new Promise((r, j) => { cdp.once('open', r); cdp.once('error', j); });
  t.teardown(() => cdp.close());
  let nextId = 1;
  const evaluate = (expression: string): Promise<unknown> => new Promise((resolve) => {
    const id = nextId++;
    const onMsg = (data: Buffer): void => {
      const m = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: unknown } } };
      if (m.id !== id) return;
      cdp.off('message', onMsg);
      resolve(m.result?.result?.value);
    };
    cdp.on('message', onMsg);
    cdp.send(JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }));
  });
  const state = await until('the page to show the trip completed', async () => {
    const v = String(await evaluate("document.getElementById('state')?.textContent ?? ''"));
    return v === 'completed' || v === 'failed' ? v : undefined;
  }, 60_000);
  const log = String(await evaluate("document.getElementById('log').textContent"));
  t.equal(state, 'completed', 'the page shows the trip completed', { log });
  t.match(log, /job \S+: (accepted|arrived|in_progress)/, 'the page saw the driver come');
  t.equal(await evaluate("document.getElementById('driver').textContent"), 'ex-d1', 'the driver shown');
});
