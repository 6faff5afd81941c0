// Streams a recorded fleet through the driver protocol: one socket per taxi, fixes re-timed to now at N x speed.
import WebSocket from 'ws';
import { signToken } from '../auth/tokens.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { ClientCloseCodes } from '../protocol/errors.js';
import type { PortoFleet } from './replay-porto.js';

export interface ReplayOptions {
  fleet: PortoFleet;
  /** Server base URL (ws://host:port) or the full driver endpoint. */
  url: string;
  /** HS256 secret of the server (driver tokens are signed with it). */
  secret: string;
  /** Time compression: 1 replays in real time, 60 plays an hour in a minute. */
  speed: number;
  /** Driver id = prefix + TAXI_ID (default `porto-`). */
  idPrefix?: string;
  /**
   * Set each taxi `available` once connected, so dispatch and `nearby` see it (default: offline, as a
   * driver app that only streams fixes). A replayed taxi never answers an offer: each one times out.
   */
  available?: boolean;
  /** Called about once a second with fixes sent so far. */
  onProgress?: (sent: number, total: number) => void;
}

export interface ReplayResult {
  taxis: number;
  sent: number;
  /** Fixes the server answered with an `err` (bad_location: jumps and other GPS noise). */
  rejected: number;
  seconds: number;
}

type Frame = Record<string, unknown>;

/** One taxi's driver socket: hello received, err frames counted, request/ack by id. */
class TaxiSocket {
  errors = 0;
  private waiting = new Map<number, (f: Frame) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) return;
      const f = decodeFrame(new Uint8Array(data)) as Frame;
      const id = typeof f.id === 'number' ? f.id : undefined;
      if (id !== undefined && this.waiting.has(id)) {
        this.waiting.get(id)!(f);
        this.waiting.delete(id);
      } else if (f.t === 'err') this.errors++;
    });
  }

  static open(endpoint: string, token: string): Promise<TaxiSocket> {
    const ws = new WebSocket(endpoint, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      const s = new TaxiSocket(ws);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        const retryAfterS = Number(res.headers['retry-after']);
        reject(Object.assign(new Error(`driver socket refused: HTTP ${res.statusCode}`), { status: res.statusCode, retryAfterS }));
      });
      ws.on('message', function hello(data: Buffer) {
        if ((decodeFrame(new Uint8Array(data)) as Frame).t !== 'hello') return;
        ws.off('message', hello);
        resolve(s);
      });
    });
  }

  /**
   * Open, waiting out `429 rate_limited` refusals as the protocol asks (the node limits upgrades per
   * second and per address, and a replay opens hundreds of sockets from one address): `Retry-After`
   * seconds (1 s when absent), at most `tries` times.
   */
  static async openPolitely(endpoint: string, token: string, tries = 20): Promise<TaxiSocket> {
    for (let i = 1; ; i++) {
      try {
        return await TaxiSocket.open(endpoint, token);
      } catch (e) {
        const { status, retryAfterS } = e as { status?: number; retryAfterS?: number };
        if (status !== 429 || i >= tries) throw e;
        await new Promise((r) => setTimeout(r, (retryAfterS && retryAfterS > 0 ? retryAfterS : 1) * 1000));
      }
    }
  }

  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  /** Sends with an id; resolves with the ack/err (frames are handled in order, so it also marks "all before it done"). */
  request(frame: Frame, id: number, timeoutMs = 30_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply from the server')), timeoutMs);
      this.waiting.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.send({ ...frame, id });
    });
  }

  close(): void {
    this.ws.close(ClientCloseCodes.normal, 'replay done');
  }
}

export function driverEndpoint(url: string): string {
  const u = url.replace(/\/+$/, '');
  return u.endsWith('/v1/driver/ws') ? u : `${u}/v1/driver/ws`;
}

/**
 * Timing: a fix recorded at t is sent at start + (t - first) / speed and stamped t + shift, with
 * the shift chosen so the last fix is stamped the moment it is sent. At speed 1 every fix is stamped
 * "now"; at higher speeds the stamps keep the recorded spacing (so speeds between fixes stay real and
 * the jump filter judges real motion) and end at the present, never in the future.
 */
export async function replayFleet(o: ReplayOptions): Promise<ReplayResult> {
  if (!(o.speed > 0)) throw new Error('speed must be > 0');
  const endpoint = driverEndpoint(o.url);
  const prefix = o.idPrefix ?? 'porto-';
  const { taxis, firstTs, lastTs } = o.fleet;
  const sockets: TaxiSocket[] = new Array(taxis.length);
  const t0 = Date.now();
  try {
    // Connect 32 at a time: a burst of hundreds of handshakes is not what is being replayed.
    for (let i = 0; i < taxis.length; i += 32) {
      await Promise.all(taxis.slice(i, i + 32).map(async (tx, j) => {
        const s = await TaxiSocket.openPolitely(endpoint, await signToken(o.secret, prefix + tx.taxi, 'driver', 86_400));
        sockets[i + j] = s;
        if (o.available) {
          const reply = await s.request({ t: 'status', s: 'available' }, 2_000_000 + i + j);
          if (reply.t !== 'ack') throw new Error(`status available refused for ${prefix + tx.taxi}: ${String(reply.code)} ${String(reply.msg)}`);
        }
      }));
    }
    const order: Array<[ts: number, taxi: number, fix: number]> = [];
    taxis.forEach((tx, k) => tx.ts.forEach((ts, i) => order.push([ts, k, i])));
    order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const start = Date.now();
    const shift = start + (lastTs - firstTs) / o.speed - lastTs;
    let sent = 0;
    let lastProgress = start;
    await new Promise<void>((resolve) => {
      const step = (): void => {
        const now = Date.now();
        while (sent < order.length && start + (order[sent]![0] - firstTs) / o.speed <= now) {
          const [ts, k, i] = order[sent]!;
          const tx = taxis[k]!;
          sockets[k]!.send({ t: 'loc', lat: tx.lat[i], lng: tx.lng[i], ts: Math.round(ts + shift) });
          sent++;
        }
        if (o.onProgress && now - lastProgress >= 1000) {
          lastProgress = now;
          o.onProgress(sent, order.length);
        }
        if (sent >= order.length) return resolve();
        const due = start + (order[sent]![0] - firstTs) / o.speed;
        setTimeout(step, Math.min(1000, Math.max(2, due - Date.now())));
      };
      step();
    });
    // A request per socket after its last fix: its reply means the server has judged every fix before it.
    await Promise.all(sockets.map((s, k) => s.request({ t: 'status', s: 'offline' }, 1_000_000 + k)));
    return { taxis: taxis.length, sent, rejected: sockets.reduce((n, s) => n + s.errors, 0), seconds: (Date.now() - t0) / 1000 };
  } finally {
    for (const s of sockets) s?.close();
  }
}
