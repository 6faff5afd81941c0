// The health listener on its worker thread (TAXIWAY_HEALTH_PORT): answers while the main thread is blocked,
// and /healthz fails once the main thread's heartbeat is older than TAXIWAY_HEALTH_STALL_MS (a stuck node).
import { spawn } from 'node:child_process';
import t from 'tap';
import { startServer } from './helpers/server.js';

/** Block this (the main) thread for `ms` without yielding, as a stuck event loop would. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

t.test('health port answers /healthz, /readyz, /metrics from its worker', async (t) => {
  const s = await startServer({ TAXIWAY_HEALTH_PORT: '0', TAXIWAY_HEALTH_STALL_MS: '400', TAXIWAY_HEALTH_METRICS_MS: '200' });
  t.teardown(() => s.stop());
  const port = s.app.healthPort!;
  t.ok(port > 0 && port !== s.app.port, 'a port of its own');
  const h = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.equal(h.status, 200);
  t.equal(((await h.json()) as { ok: boolean }).ok, true);
  const r = await fetch(`http://127.0.0.1:${port}/readyz`);
  t.equal(r.status, 200, 'ready: storage answers');
  const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(m, /taxiway_fixes_accepted_total/, 'the main registry snapshot');
  t.match(m, /taxiway_metrics_snapshot_age_seconds \d/, 'says how old it is');
  const head = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'HEAD' });
  t.equal(head.status, 200);
  const nf = await fetch(`http://127.0.0.1:${port}/v1/drivers/nearby`);
  t.equal(nf.status, 404, 'only the health routes');
});

t.test('a blocked main thread: probes still answered, and /healthz fails once the heartbeat is older than the bound', async (t) => {
  const s = await startServer({ TAXIWAY_HEALTH_PORT: '0', TAXIWAY_HEALTH_STALL_MS: '300', TAXIWAY_HEALTH_METRICS_MS: '200' });
  t.teardown(() => s.stop());
  const port = s.app.healthPort!;
  // A separate process probes every 50 ms and prints each status with its latency; it cannot be blocked by us.
  const code = `const u='http://127.0.0.1:${port}/healthz';const out=[];let n=0;process.stdout.write('go\\n');
    const tick=async()=>{const t0=performance.now();try{const r=await fetch(u);await r.text();out.push([r.status,Math.round(performance.now()-t0)]);}catch{out.push([0,Math.round(performance.now()-t0)]);}
    if(++n<60)setTimeout(tick,50);else process.stdout.write(JSON.stringify(out)+'\\n');};tick();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  const lines: string[] = [];
  const gotLine = (): Promise<string> => new Promise((resolve) => {
    const check = (): void => { const i = buf.indexOf('\n'); if (i >= 0) { const l = buf.slice(0, i); buf = buf.slice(i + 1); resolve(l); } else child.stdout.once('data', (d: Buffer) => { buf += d.toString(); check(); }); };
    check();
  });
  lines.push(await gotLine());
  t.equal(lines[0], 'go');
  await new Promise((r) => setTimeout(r, 300));
  blockMainThread(1500);
  const out = JSON.parse(await gotLine()) as Array<[number, number]>;
  child.kill();
  const statuses = out.map((x) => x[0]);
  t.ok(statuses.includes(503), `503 while the main thread was blocked: ${JSON.stringify(statuses)}`);
  t.equal(statuses.at(-1), 200, 'healthy again once the main thread runs');
  t.notOk(statuses.includes(0), 'every probe answered');
});
