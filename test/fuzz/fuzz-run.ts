// Seeded fuzz run against a live node: hostile frames on all three sockets, odd HTTP and raw TCP, while a
// well-behaved driver and a health probe check the node keeps serving. Returns every violation found.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { signToken } from '../../src/auth/tokens.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { ClientCloseCodes, CloseCodes, ErrorCodes } from '../../src/protocol/errors.js';
import type { Role } from '../../src/protocol/messages.js';
import { mulberry32 } from '../../src/util/random.js';
import { Gen } from './fuzz-gen.js';

export interface FuzzOptions {
  seed: number;
  /** Hostile frames per socket role. */
  framesPerRole: number;
  /** Hostile HTTP requests. */
  httpRequests: number;
  /** Raw TCP connections with garbage bytes. */
  rawConnections: number;
  /** Longest a well-behaved client may wait for an answer, ms, before it is a violation. */
  maxServiceMs: number;
  dataDir: string;
}

export interface FuzzReport {
  seed: number;
  framesSent: Record<Role, number>;
  errCodes: Record<string, number>;
  closeCodes: Record<string, number>;
  httpStatuses: Record<string, number>;
  goodAcks: number;
  goodMaxMs: number;
  healthMaxMs: number;
  violations: string[];
}

const SECRET = 'fuzz-secret-0123456789abcdef';
/** Close codes a hostile client may legitimately earn; 1006 (no close frame) never is. */
const ALLOWED_CLOSES = new Set<number>([...Object.values(ClientCloseCodes), ...Object.values(CloseCodes)]);

/** Run one seeded fuzz campaign on a fresh embedded node in this process. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const violations: string[] = [];
  const violate = (m: string): void => {
    if (violations.length < 50) violations.push(m);
  };
  const onRejection = (e: unknown): void => violate(`unhandled rejection: ${String((e as Error)?.stack ?? e)}`);
  const onException = (e: unknown): void => violate(`uncaught exception: ${String((e as Error)?.stack ?? e)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  // Error-level log lines are defects: the node logs at error only for faults it did not expect.
  const logSink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          const rec = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
          if (rec.level >= 50) violate(`error logged: ${rec.msg} ${rec.err?.message ?? ''}`);
        } catch { /* not JSON */ }
      }
      cb();
    },
  });
  const logger = pino({ level: 'error' }, logSink);
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', TAXIWAY_AUTH_SECRET: SECRET, TAXIWAY_DATA_DIR: o.dataDir, LOG_LEVEL: 'error' });
  const app = await startApp(config, { logger });
  const base = `127.0.0.1:${app.port}`;
  const rep: FuzzReport = {
    seed: o.seed, framesSent: { driver: 0, rider: 0, ops: 0 }, errCodes: {}, closeCodes: {}, httpStatuses: {},
    goodAcks: 0, goodMaxMs: 0, healthMaxMs: 0, violations,
  };
  const tokens: Record<string, string> = {
    driver: await signToken(SECRET, 'fuzz-driver', 'driver'), rider: await signToken(SECRET, 'fuzz-rider', 'rider'),
    ops: await signToken(SECRET, 'fuzz-ops', 'ops'), owner: await signToken(SECRET, 'fuzz-owner', 'rider'),
  };
  // A job owned by someone else: the hostile rider must never see a frame of it.
  const created = await fetch(`http://${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${tokens.owner}`, 'content-type': 'application/json' }, body: JSON.stringify({ pickup: { lat: 43.735, lng: 7.425 } }) });
  const jobId = ((await created.json()) as { id: string }).id;

  let running = true;
  const good = goodDriver(base, await signToken(SECRET, 'fuzz-good', 'driver'), o.maxServiceMs, rep, violate, () => running);
  const health = healthProbe(base, o.maxServiceMs, rep, violate, () => running);
  try {
    const gen = new Gen(mulberry32(o.seed));
    await Promise.all((['driver', 'rider', 'ops'] as const).map((role) => hostileSocket(base, role, tokens[role]!, jobId, o.framesPerRole, new Gen(mulberry32(o.seed * 31 + role.length)), rep, violate)));
    await hostileHttp(base, jobId, tokens, o.httpRequests, gen, rep, violate);
    await rawTcp(app.port, o.rawConnections, gen, violate);
  } finally {
    running = false;
    await Promise.all([good, health]);
    await app.stop();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
  return rep;
}

function count(m: Record<string, number>, k: string | number): void {
  m[k] = (m[k] ?? 0) + 1;
}

function open(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Send `n` hostile frames on a `role` socket, reopening after each close, checking every answer. */
async function hostileSocket(base: string, role: Role, token: string, jobId: string, n: number, gen: Gen, rep: FuzzReport, violate: (m: string) => void): Promise<void> {
  let sent = 0;
  while (sent < n) {
    const ws = await open(`ws://${base}/v1/${role}/ws`, token);
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('message', (data: Buffer) => {
      let f: Record<string, unknown>;
      try {
        f = decodeFrame(new Uint8Array(data)) as Record<string, unknown>;
      } catch {
        return violate(`${role}: server sent an undecodable frame`);
      }
      if (f.t === 'err') {
        const code = String(f.code);
        count(rep.errCodes, code);
        if (!(code in ErrorCodes)) violate(`${role}: undocumented error code ${code}`);
        if (code === 'internal') violate(`${role}: internal error: ${String(f.msg)}`);
      }
      if (role === 'rider' && (f.t === 'job' || f.t === 'pos') && (f.job === jobId || (f.job as { id?: string })?.id === jobId)) violate(`rider received a frame of a job it does not own: ${f.t}`);
    });
    let open_ = true;
    void closed.then(() => (open_ = false));
    while (open_ && sent < n) {
      const fr = gen.frame(role, jobId);
      ws.send(fr.data, { binary: fr.binary });
      sent++;
      rep.framesSent[role]++;
      // Yield now and then so answers flow and the client's own buffer stays small.
      if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 1));
      if (ws.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 5));
    }
    if (open_) {
      // Let the last answers arrive before closing.
      await new Promise((r) => setTimeout(r, 100));
      ws.close();
    }
    const code = await closed;
    count(rep.closeCodes, code);
    if (!ALLOWED_CLOSES.has(code)) violate(`${role}: socket closed with ${code}`);
  }
}

async function hostileHttp(base: string, jobId: string, tokens: Record<string, string>, n: number, gen: Gen, rep: FuzzReport, violate: (m: string) => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = gen.request(jobId, tokens);
    let res: Response;
    try {
      res = await fetch(`http://${base}${r.path}`, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(5000) });
    } catch (e) {
      // fetch itself refuses some inputs (bad header bytes); only a timeout is the server's fault.
      if ((e as Error).name === 'TimeoutError') violate(`HTTP ${r.method} ${r.path.slice(0, 80)}: no answer in 5 s`);
      continue;
    }
    count(rep.httpStatuses, res.status);
    const text = await res.text();
    if (res.status >= 500 && res.status !== 503) violate(`HTTP ${r.method} ${r.path.slice(0, 80)}: ${res.status} ${text.slice(0, 200)}`);
    if (res.status >= 400 && text.startsWith('{')) {
      try {
        const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        if (code === undefined || !(code in ErrorCodes)) violate(`HTTP ${r.method} ${r.path.slice(0, 80)}: undocumented error body ${text.slice(0, 120)}`);
      } catch {
        violate(`HTTP ${r.method} ${r.path.slice(0, 80)}: unparsable JSON error body`);
      }
    }
  }
}

/** Garbage on raw TCP connections: the node must answer or close, never hang or die. */
async function rawTcp(port: number, n: number, gen: Gen, violate: (m: string) => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    const payload = gen.chance(0.5)
      ? Buffer.from(new Uint8Array(gen.int(1, 2000)).map(() => gen.int(0, 255)))
      : Buffer.from(`${gen.pick(['GET', 'POST', 'G\0T', ''])} ${gen.pick(['/', '/v1/jobs', '*', 'http://x/'])} HTTP/${gen.pick(['1.1', '1.0', '9.9', ''])}\r\n${gen.pick(['Content-Length: -1\r\n', 'Transfer-Encoding: chunked\r\n\r\nzz\r\n', 'Host: x\r\n', ''])}\r\n`);
    await new Promise<void>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.end(payload));
      const timer = setTimeout(() => {
        violate(`raw TCP: connection ${i} neither answered nor closed in 5 s`);
        sock.destroy();
      }, 5000);
      sock.on('data', () => {});
      sock.on('error', () => {});
      sock.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** A driver that sends one valid fix every 100 ms and expects each ack within `maxMs`. */
async function goodDriver(base: string, token: string, maxMs: number, rep: FuzzReport, violate: (m: string) => void, running: () => boolean): Promise<void> {
  const ws = await open(`ws://${base}/v1/driver/ws`, token);
  const pending = new Map<number, number>();
  ws.on('message', (data: Buffer) => {
    const f = decodeFrame(new Uint8Array(data)) as Record<string, unknown>;
    const sentAt = pending.get(f.id as number);
    if (sentAt === undefined) return;
    pending.delete(f.id as number);
    if (f.t !== 'ack') violate(`well-behaved driver got ${f.t} ${String(f.code)}: ${String(f.msg)}`);
    rep.goodAcks++;
    rep.goodMaxMs = Math.max(rep.goodMaxMs, Date.now() - sentAt);
  });
  let id = 0;
  let lat = 43.73;
  while (running()) {
    lat += 0.00005;
    pending.set(++id, Date.now());
    ws.send(encodeFrame({ t: 'loc', id, lat, lng: 7.42, ts: Date.now() }));
    await new Promise((r) => setTimeout(r, 100));
    for (const [k, at] of pending) if (Date.now() - at > maxMs) {
      violate(`well-behaved driver: no ack of fix ${k} within ${maxMs} ms`);
      pending.delete(k);
    }
  }
  ws.close();
}

async function healthProbe(base: string, maxMs: number, rep: FuzzReport, violate: (m: string) => void, running: () => boolean): Promise<void> {
  while (running()) {
    const t0 = Date.now();
    try {
      const res = await fetch(`http://${base}/healthz`, { signal: AbortSignal.timeout(maxMs) });
      if (res.status !== 200) violate(`/healthz answered ${res.status}`);
      await res.arrayBuffer();
    } catch {
      violate(`/healthz: no answer within ${maxMs} ms`);
    }
    rep.healthMaxMs = Math.max(rep.healthMaxMs, Date.now() - t0);
    await new Promise((r) => setTimeout(r, 250));
  }
}

