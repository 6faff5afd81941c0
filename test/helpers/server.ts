// Test helper: start a real taxiway node on a free port with a temp data dir, and talk to it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startApp } from '../../src/app.js';
import type { TaxiwayApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { signToken } from '../../src/auth/tokens.js';
import type { Role } from '../../src/protocol/messages.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { checkFrame, checkHttpReply, reported, socketOf } from './spec-check.js';

export const SECRET = 'test-secret-0123456789abcdef';

/**
 * Job request limits off, for tests about something else that create many jobs from few riders (the
 * limits themselves are tested in test/job-limits.test.ts).
 */
export const NO_JOB_LIMITS: Readonly<Record<string, string>> = {
  TAXIWAY_JOB_RATE_PER_RIDER: '0', TAXIWAY_JOB_RATE_PER_IP: '0', TAXIWAY_MAX_OPEN_JOBS_PER_RIDER: '1000000',
};

export interface TestServer {
  app: TaxiwayApp;
  url: string;
  wsUrl: string;
  dataDir: string;
  token(role: Role, sub: string, ttlS?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Start a node. `env` overrides config (e.g. TAXIWAY_OFFER_TIMEOUT_MS). Reuse `dataDir` to test restarts. */
export async function startServer(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-test-'));
  // Suites written before the search window (2026-12-04) expect a job nobody can take to end at once;
  // the search window's own tests set TAXIWAY_SEARCH_WINDOW_MS.
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', TAXIWAY_AUTH_SECRET: SECRET, TAXIWAY_DATA_DIR: dir, LOG_LEVEL: 'silent', TAXIWAY_SEARCH_WINDOW_MS: '0', ...env });
  const app = await startApp(config);
  return {
    app,
    url: `http://127.0.0.1:${app.port}`,
    wsUrl: `ws://127.0.0.1:${app.port}`,
    dataDir: dir,
    token: (role, sub, ttlS) => signToken(SECRET, sub, role, ttlS),
    stop: () => app.stop(),
  };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export type Frame = Record<string, unknown>;

/** Throw a spec violation at the test (marked as shown, so the exit report does not repeat it). */
function specError(violation: string): Error {
  reported(violation);
  return new Error(violation);
}

/**
 * A WebSocket client that decodes every frame and lets tests wait for the one they expect. On the three
 * sockets every frame it sends or receives is held to docs/asyncapi.json: a sent frame that violates it
 * throws from `send`/`request` (tests sending invalid frames on purpose call `allowInvalidSends()`), a
 * received one makes `waitFor`/`request` reject, naming the frame and the schema path.
 */
export class Client {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  /** Received frames that violate docs/asyncapi.json. */
  readonly violations: string[] = [];
  private checkSends = true;
  private exemptReceived: ((f: Frame) => boolean) | null = null;
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void; from: number }> = [];
  private closeWaiters: Array<(code: number) => void> = [];

  private constructor(readonly ws: WebSocket, private readonly socket: string | null) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = isBinary ? decodeFrame(new Uint8Array(data)) : { t: '__text__', text: data.toString() };
      this.frames.push(f);
      const violation = this.socket === null || this.exemptReceived?.(f) ? null : checkFrame(this.socket, 'received', f);
      if (violation !== null) {
        this.violations.push(violation);
        for (const w of this.waiters) w.reject(specError(violation));
        this.waiters = [];
        return;
      }
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(f)) {
          w.resolve(f);
          return false;
        }
        return true;
      });
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      for (const w of this.closeWaiters) w(code);
    });
  }

  /**
   * `specCheck` false: no frame is held to docs/asyncapi.json (the chaos load measures the server under faults;
   * the spec is the protocol tests' job, and one violation would end every socket of the run).
   */
  static open(url: string, token?: string, viaQuery = false, specCheck = true): Promise<Client> {
    const full = token && viaQuery ? `${url}?token=${encodeURIComponent(token)}` : url;
    const ws = new WebSocket(full, { headers: token && !viaQuery ? { authorization: `Bearer ${token}` } : {} });
    return new Promise((resolve, reject) => {
      const c = new Client(ws, specCheck ? socketOf(url) : null);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        const violation = checkHttpReply('GET', url, res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), '');
        if (violation !== null) return reject(specError(violation));
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      });
    });
  }

  /**
   * Opt out of checking sent frames against docs/asyncapi.json, for tests that send invalid frames on
   * purpose (hardening, fuzzing, error replies). Received frames are still checked.
   */
  allowInvalidSends(): this {
    this.checkSends = false;
    return this;
  }

  /**
   * Leave out of the docs/asyncapi.json check the received frames `test` picks: only for frames a test
   * injects into the delivery path itself (transport tests), which no server code builds.
   */
  exemptInjected(test: (f: Frame) => boolean): this {
    this.exemptReceived = test;
    return this;
  }

  send(msg: object): void {
    if (this.checkSends && this.socket !== null) {
      const violation = checkFrame(this.socket, 'sent', msg);
      if (violation !== null) throw specError(violation);
    }
    this.ws.send(encodeFrame(msg));
  }

  sendRaw(data: Buffer | string, binary = true): void {
    this.ws.send(data, { binary });
  }

  /** Wait for a frame (already received since `fromIndex`, or future) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    if (this.violations.length > 0) return Promise.reject(specError(this.violations[0]!));
    for (let i = fromIndex; i < this.frames.length; i++) if (pred(this.frames[i]!)) return Promise.resolve(this.frames[i]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => { clearTimeout(timer); resolve(f); }, reject: (e) => { clearTimeout(timer); reject(e); }, from: fromIndex });
    });
  }

  /** Send with an id and wait for its ack or err. */
  async request(msg: Frame, timeoutMs = 5000): Promise<Frame> {
    const id = Math.floor(Math.random() * 1e9);
    const mark = this.frames.length;
    this.send({ ...msg, id });
    return this.waitFor((f) => (f.t === 'ack' || f.t === 'err') && f.id === id, timeoutMs, mark);
  }

  waitClose(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== null) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => { clearTimeout(timer); resolve(c); });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** `fetch`, with the reply held to docs/openapi.json (a violation rejects, naming the route and the schema path). */
export async function fetchChecked(url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, init);
  const text = await res.clone().text();
  const violation = checkHttpReply(init.method ?? 'GET', url, res.status, res.headers.get('content-type') ?? '', text);
  if (violation !== null) throw specError(violation);
  return res;
}

/** JSON over HTTP with an optional bearer token; the reply is held to docs/openapi.json. */
export async function http(method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetchChecked(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.status, body: parsed };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connected driver that said hello and went available at (lat, lng). */
export async function onlineDriver(s: TestServer, id: string, lat: number, lng: number): Promise<Client> {
  const c = await Client.open(`${s.wsUrl}/v1/driver/ws`, await s.token('driver', id));
  await c.waitFor((f) => f.t === 'hello');
  const a = await c.request({ t: 'loc', lat, lng, ts: Date.now() });
  if (a.t !== 'ack') throw new Error('loc refused: ' + JSON.stringify(a));
  const b = await c.request({ t: 'status', s: 'available' });
  if (b.t !== 'ack') throw new Error('status refused: ' + JSON.stringify(b));
  return c;
}

/** Force the fleet's snapshot index to include the newest positions (tests do not wait for the timer). */
export function rebuild(s: TestServer): void {
  s.app.fleet.rebuildDirty();
}
