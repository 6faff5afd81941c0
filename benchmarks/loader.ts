// Load-generator worker process (forked by the bench tools): holds thousands of driver or rider sockets,
// streams pre-encoded fixes at a set rate or flat out with an ack window, plays drivers that accept
// offers, and measures what it sees (acks, offers, rider pos latency). Controlled over IPC.
import os from 'node:os';
import { Packr, Unpackr } from 'msgpackr';
import { LeanWs, UpgradeError, clientFrame } from './lib/lean-ws.js';
import { LOCS_POINT_BYTES, locTemplate, locsTemplate, putLoc, writeU64 } from './lib/fix-frames.js';
import type { LocTemplate, LocsTemplate } from './lib/fix-frames.js';
import { signHs256 } from './lib/jwt.js';
import { nowMs, summarize } from './lib/util.js';

export type LoaderCmd =
  | { cmd: 'open'; role: 'driver' | 'rider'; ids: string[]; points?: number[]; host: string; port: number; path?: string; secret: string; localAddrs: string[]; concurrency: number }
  | { cmd: 'status'; s: 'available' | 'busy' | 'offline' }
  | { cmd: 'bot'; mode: 'none' | 'complete' | 'hold' }
  | { cmd: 'stream'; mode: 'rate' | 'flat'; rate: number; batch: number; ackEvery: number; window: number; stepScale?: number; backoffMs?: number }
  | { cmd: 'stop-stream' }
  | { cmd: 'sub'; pairs: Array<[number, string]> }
  | { cmd: 'collect'; reset: boolean; offers?: boolean; pos?: boolean }
  | { cmd: 'close' };

export interface LoaderStats {
  sockets: number;
  open: number;
  sentFixes: number;
  sentFrames: number;
  sentBytes: number;
  acks: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  blocked: number;
  errs: Record<string, number>;
  closes: Record<string, number>;
  offers: number;
  ackLatencyMs: ReturnType<typeof summarize> | null;
  cpuMs: number;
}

const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'number', moreTypes: false });
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const CTRL_ID = 0x40000000; // ids at or above this are control frames (status, sub, job actions)
const MAX_SAMPLES = 2_000_000;

let socks: LeanWs[] = [];
let lat = new Float64Array(0);
let lng = new Float64Array(0);
let lastTs = new Float64Array(0);
let dir = new Int8Array(0);
let frameSeq = new Uint32Array(0);
let idSeq = new Uint32Array(0);
let inflight = new Uint16Array(0);
let ackSentAt = new Float64Array(0);
let botMode: 'none' | 'complete' | 'hold' = 'none';
let ctrlSeq = CTRL_ID;

const st = { sentFixes: 0, sentFrames: 0, sentBytes: 0, acks: 0, accepted: 0, rejected: 0, duplicates: 0, blocked: 0, errs: {} as Record<string, number>, closes: {} as Record<string, number> };
/** Per offer: job, when it arrived here, and its `expires_ts` (the server's send time plus the offer timeout). */
let offers: Array<[string, number, number]> = [];
let posLat: number[] = [];
let ackLat: number[] = [];

// ---- streaming state ----
let streaming = false;
let mode: 'rate' | 'flat' = 'rate';
let batch = 1;
let ackEvery = 32;
let windowFrames = 4;
/** Flat mode: after an `unavailable` err for an id-frame, the socket waits this long before sending on (ms). */
let backoffMs = 250;
let rate = 0;
let stepScale = 1;
let tick: NodeJS.Timeout | null = null;
let t0 = 0;
let cursor = 0;
let tplPlain: LocTemplate | LocsTemplate = locTemplate(false);
let tplId: LocTemplate | LocsTemplate = locTemplate(true);

function send(m: unknown): void {
  process.send!(m);
}

function ctrl(i: number, msg: Record<string, unknown>): void {
  const ws = socks[i];
  if (!ws || ws.closed) return;
  ws.write(clientFrame(packr.pack({ ...msg, id: ctrlSeq++ })));
}

/** Metres per degree of latitude; fixes move north/south at about 5.5 m/s of fix time. */
const STEP_DEG_PER_MS = 5e-8;

/** Fill and send `frames` fix frames for driver i. Returns false when the driver must wait (window or clock). */
function sendFrames(i: number, frames: number): boolean {
  const ws = socks[i]!;
  if (ws.closed) return false;
  const now = Date.now();
  const isLoc = batch === 1;
  const plainLen = tplPlain.frame.length;
  const idLen = tplId.frame.length;
  // Upper bound of the bytes; frames with an id are longer.
  const buf = Buffer.allocUnsafe(frames * idLen);
  let at = 0;
  let sentHere = 0;
  for (let f = 0; f < frames; f++) {
    const seq = ++frameSeq[i]!;
    const withId = seq % ackEvery === 0;
    if (withId && inflight[i]! >= windowFrames) {
      frameSeq[i]!--;
      st.blocked++;
      break;
    }
    if (lastTs[i]! + batch > now + 55_000) {
      frameSeq[i]!--;
      break; // never run more than ~55 s ahead of the server clock (the rule allows 60 s)
    }
    const t = withId ? tplId : tplPlain;
    if (isLoc) {
      const lt = t as LocTemplate;
      const prev = lastTs[i]!;
      const ts = prev + 1 > now ? prev + 1 : now;
      if (prev > 0) lat[i]! += dir[i]! * STEP_DEG_PER_MS * stepScale * Math.min(ts - prev, 1000);
      lastTs[i] = ts;
      putLoc(buf, at, lt, lat[i]!, lng[i]!, ts, 0);
    } else {
      const lt = t as LocsTemplate;
      lt.frame.copy(buf, at);
      for (let p = 0; p < lt.n; p++) {
        const prev = lastTs[i]!;
        const ts = prev + 1 > now ? prev + 1 : now;
        if (prev > 0) lat[i]! += dir[i]! * STEP_DEG_PER_MS * stepScale * Math.min(ts - prev, 1000);
        lastTs[i] = ts;
        const o = at + lt.ptsOff + p * LOCS_POINT_BYTES;
        writeU64(buf, ts, o + 2);
        buf.writeDoubleBE(lat[i]!, o + 11);
        buf.writeDoubleBE(lng[i]!, o + 20);
      }
    }
    if (withId) {
      const id = ++idSeq[i]!;
      buf.writeUInt32BE(id, at + t.idOff);
      inflight[i]!++;
      ackSentAt[i * windowFrames + (id % windowFrames)] = nowMs();
    }
    at += withId ? idLen : plainLen;
    sentHere++;
  }
  if (sentHere === 0) return false;
  ws.write(at === buf.length ? buf : buf.subarray(0, at));
  st.sentFrames += sentHere;
  st.sentFixes += sentHere * batch;
  st.sentBytes += at;
  return true;
}

/** Flat out: keep `window` id-frames in flight on every socket; each ack lets the socket send the next chunk. */
function refill(i: number): void {
  if (!streaming || mode !== 'flat') return;
  sendFrames(i, ackEvery - (frameSeq[i]! % ackEvery));
}

function rateTick(): void {
  if (!streaming) return;
  const n = socks.length;
  if (n === 0) return;
  const due = Math.floor(((Date.now() - t0) * rate) / 1000 / batch);
  let owed = due - st.sentFrames;
  if (owed <= 0) return;
  const perSock = Math.max(1, Math.ceil(owed / n));
  let visited = 0;
  while (owed > 0 && visited < n) {
    const i = cursor;
    cursor = (cursor + 1) % n;
    visited++;
    const k = Math.min(perSock, owed);
    const before = st.sentFrames;
    sendFrames(i, k);
    owed -= Math.max(1, st.sentFrames - before);
  }
}

function onDriverFrame(i: number, payload: Buffer): void {
  let m: Record<string, unknown>;
  try {
    m = unpackr.unpack(payload) as Record<string, unknown>;
  } catch {
    st.errs.undecodable = (st.errs.undecodable ?? 0) + 1;
    return;
  }
  switch (m.t) {
    case 'ack': {
      const id = m.id as number;
      if (typeof m.accepted === 'number') {
        st.accepted += m.accepted;
        st.rejected += m.rejected as number;
        st.duplicates += m.duplicates as number;
      }
      if (id < CTRL_ID) {
        st.acks++;
        if (inflight[i]! > 0) inflight[i]!--;
        if (ackLat.length < MAX_SAMPLES) ackLat.push(nowMs() - ackSentAt[i * windowFrames + (id % windowFrames)]!);
        refill(i);
      }
      return;
    }
    case 'err': {
      const code = String(m.code);
      st.errs[code] = (st.errs[code] ?? 0) + 1;
      const id = m.id as number | undefined;
      if (id !== undefined && id < CTRL_ID) {
        if (inflight[i]! > 0) inflight[i]!--;
        // A driver app told the server is overloaded sends again later, as the protocol asks.
        if (code === 'unavailable' && backoffMs > 0) setTimeout(() => refill(i), backoffMs);
        else refill(i);
      }
      return;
    }
    case 'offer': {
      const job = String(m.job);
      if (offers.length < MAX_SAMPLES) offers.push([job, nowMs(), Number(m.expires_ts)]);
      if (botMode !== 'none') ctrl(i, { t: 'accept', job });
      return;
    }
    case 'job': {
      if (botMode === 'none' || m.state !== 'accepted') return;
      const drv = m.driver as { id?: string } | undefined;
      if (drv && drv.id !== undefined && drv.id !== idOf[i]) return;
      const job = String(m.job);
      if (botMode === 'complete') {
        ctrl(i, { t: 'arrived', job });
        ctrl(i, { t: 'start', job });
        ctrl(i, { t: 'complete', job });
      } else ctrl(i, { t: 'start', job });
      return;
    }
    default:
      return;
  }
}

function onRiderFrame(payload: Buffer): void {
  let m: Record<string, unknown>;
  try {
    m = unpackr.unpack(payload) as Record<string, unknown>;
  } catch {
    st.errs.undecodable = (st.errs.undecodable ?? 0) + 1;
    return;
  }
  if (m.t === 'pos') {
    if (posLat.length < MAX_SAMPLES) posLat.push(nowMs() - (m.ts as number));
  } else if (m.t === 'ack') st.acks++;
  else if (m.t === 'err') {
    const code = String(m.code);
    st.errs[code] = (st.errs[code] ?? 0) + 1;
  }
}

let idOf: string[] = [];

async function open(c: Extract<LoaderCmd, { cmd: 'open' }>): Promise<void> {
  const n = c.ids.length;
  idOf = c.ids;
  socks = new Array<LeanWs>(n);
  lat = new Float64Array(n);
  lng = new Float64Array(n);
  lastTs = new Float64Array(n);
  dir = new Int8Array(n);
  frameSeq = new Uint32Array(n);
  idSeq = new Uint32Array(n);
  inflight = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    if (c.points) {
      lat[i] = c.points[2 * i]!;
      lng[i] = c.points[2 * i + 1]!;
    }
    dir[i] = i % 2 === 0 ? 1 : -1;
  }
  const path = c.path ?? `/v1/${c.role}/ws`;
  let next = 0;
  let failed = 0;
  const statuses: Record<string, number> = {};
  const t = Date.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const token = signHs256(c.secret, c.ids[i]!, c.role, 6 * 3600);
      for (let attempt = 0; ; attempt++) {
        try {
          const ws = await LeanWs.connect({ host: c.host, port: c.port, path, token, localAddress: c.localAddrs[i % c.localAddrs.length] });
          ws.onFrame = c.role === 'driver' ? (p) => onDriverFrame(i, p) : onRiderFrame;
          ws.onClose = (code) => {
            st.closes[code] = (st.closes[code] ?? 0) + 1;
          };
          socks[i] = ws;
          break;
        } catch (e) {
          if (e instanceof UpgradeError || attempt >= 4) {
            failed++;
            const k = e instanceof UpgradeError ? String(e.status) : (e as Error).message.slice(0, 40);
            statuses[k] = (statuses[k] ?? 0) + 1;
            break;
          }
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(c.concurrency, n) }, worker));
  if (failed > 0) {
    // Keep the arrays dense: drop the sockets that never opened.
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (socks[i]) keep.push(i);
    const pick = <T extends Float64Array | Int8Array>(a: T): T => {
      const b = new (a.constructor as new (k: number) => T)(keep.length);
      keep.forEach((j, k) => (b[k] = a[j]!));
      return b;
    };
    lat = pick(lat);
    lng = pick(lng);
    dir = pick(dir);
    idOf = keep.map((j) => c.ids[j]!);
    const old = socks;
    socks = keep.map((j) => old[j]!);
    socks.forEach((ws, k) => {
      ws.onFrame = c.role === 'driver' ? (p) => onDriverFrame(k, p) : onRiderFrame;
    });
    lastTs = new Float64Array(keep.length);
    frameSeq = new Uint32Array(keep.length);
    idSeq = new Uint32Array(keep.length);
    inflight = new Uint16Array(keep.length);
  }
  send({ ev: 'opened', ok: socks.length, failed, statuses, ids: idOf, ms: Date.now() - t });
}

function stats(): LoaderStats {
  const cpu = process.cpuUsage();
  return {
    sockets: socks.length,
    open: socks.filter((s) => !s.closed).length,
    ...st,
    offers: offers.length,
    ackLatencyMs: ackLat.length ? summarize(ackLat) : null,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

process.on('message', (c: LoaderCmd) => {
  switch (c.cmd) {
    case 'open':
      open(c).catch((e) => send({ ev: 'error', message: String(e?.stack ?? e) }));
      return;
    case 'status': {
      for (let i = 0; i < socks.length; i++) ctrl(i, { t: 'status', s: c.s });
      send({ ev: 'ok' });
      return;
    }
    case 'bot':
      botMode = c.mode;
      send({ ev: 'ok' });
      return;
    case 'stream': {
      mode = c.mode;
      batch = c.batch;
      ackEvery = Math.max(1, c.ackEvery);
      windowFrames = Math.max(1, c.window);
      backoffMs = Math.max(0, c.backoffMs ?? 250);
      rate = c.rate;
      stepScale = c.stepScale ?? 1;
      ackSentAt = new Float64Array(socks.length * windowFrames);
      tplPlain = batch === 1 ? locTemplate(false) : locsTemplate(batch, false);
      tplId = batch === 1 ? locTemplate(true) : locsTemplate(batch, true);
      streaming = true;
      t0 = Date.now();
      st.sentFrames = 0;
      st.sentFixes = 0;
      inflight.fill(0);
      if (mode === 'flat') {
        for (let i = 0; i < socks.length; i++) for (let w = 0; w < windowFrames; w++) refill(i);
      } else {
        tick = setInterval(rateTick, 5);
      }
      send({ ev: 'ok' });
      return;
    }
    case 'stop-stream':
      streaming = false;
      if (tick) clearInterval(tick);
      tick = null;
      send({ ev: 'stats', stats: stats() });
      return;
    case 'sub': {
      for (const [i, job] of c.pairs) ctrl(i, { t: 'sub', job });
      send({ ev: 'ok' });
      return;
    }
    case 'collect': {
      send({ ev: 'collected', stats: stats(), offers: c.offers ? offers : [], pos: c.pos ? posLat : [] });
      if (c.reset) {
        offers = [];
        posLat = [];
        ackLat = [];
        for (const k of Object.keys(st.errs)) delete st.errs[k];
        st.acks = 0;
        st.blocked = 0;
      }
      return;
    }
    case 'close': {
      streaming = false;
      if (tick) clearInterval(tick);
      for (const ws of socks) ws.close();
      setTimeout(() => process.exit(0), 300);
      return;
    }
  }
});
process.on('disconnect', () => process.exit(0));
// The generators stand in for phones on other machines; where they need as much CPU as the server they can be
// run BENCH_LOADER_NICE nice levels below the bench (LoaderPool.start sets it; 0 or unset: same priority).
{
  const n = Number(process.env.BENCH_LOADER_NICE ?? 0);
  if (Number.isFinite(n) && n > 0) {
    try {
      os.setPriority(0, Math.min(19, os.getPriority(0) + n));
    } catch {
      /* not permitted: run at the inherited priority */
    }
  }
}
send({ ev: 'ready', pid: process.pid });
