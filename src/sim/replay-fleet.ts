// Streams a recorded fleet through the driver protocol: one SDK DriverClient per taxi, fixes re-timed to now at N x speed.
import { signToken } from '../auth/tokens.js';
import { DriverClient } from '../client/driver-client.js';
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

/** How long one taxi may take to connect (the SDK waits out 429s and retries refused connections), ms. */
const CONNECT_TIMEOUT_MS = 60_000;

/** One taxi's DriverClient, connected (hello received) within CONNECT_TIMEOUT_MS, else closed and failed. */
async function openTaxi(endpoint: string, token: string): Promise<DriverClient> {
  const c = new DriverClient({ url: endpoint, token, requestTimeoutMs: 30_000 });
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';
  c.on('error', (err) => (lastError = err.message));
  c.on('close', ({ code, reason }) => (lastError = `socket closed (${code}${reason ? `: ${reason}` : ''})`));
  try {
    await Promise.race([
      c.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not connect to ${endpoint} within ${CONNECT_TIMEOUT_MS / 1000} s: ${lastError}`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
    return c;
  } catch (err) {
    await c.close();
    throw err;
  } finally {
    clearTimeout(timer);
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
  const sockets: DriverClient[] = new Array(taxis.length);
  const t0 = Date.now();
  try {
    // Connect 32 at a time: a burst of hundreds of handshakes is not what is being replayed.
    for (let i = 0; i < taxis.length; i += 32) {
      await Promise.all(taxis.slice(i, i + 32).map(async (tx, j) => {
        // A fixed token (a day long): a refused one (wrong secret) stops the client at once instead of asking again.
        const s = await openTaxi(endpoint, await signToken(o.secret, prefix + tx.taxi, 'driver', 86_400));
        sockets[i + j] = s;
        if (o.available) {
          await s.setStatus('available').catch((err: Error) => {
            throw new Error(`status available refused for ${prefix + tx.taxi}: ${err.message}`);
          });
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
          sockets[k]!.sendFix({ lat: tx.lat[i]!, lng: tx.lng[i]!, ts: Math.round(ts + shift) });
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
    await Promise.all(sockets.map((s) => s.setStatus('offline')));
    // Refused fixes: `bad_location` and invalid ones, and any the fix budget refused (`limited`).
    const rejected = sockets.reduce((n, s) => n + s.fixes.rejected + s.fixes.limited, 0);
    return { taxis: taxis.length, sent, rejected, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await Promise.all(sockets.map((s) => s?.close()));
  }
}
