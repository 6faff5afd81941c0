// Per-socket delivery with backpressure: reliable frames queue in order, location frames keep only the newest.
import type { WebSocket } from 'uWebSockets.js';
import { CloseCodes } from '../protocol/errors.js';
import type { Role } from '../protocol/messages.js';

/** State kept on every socket (uWS user data). */
export interface SocketData {
  role: Role;
  sub: string;
  /** Consecutive bad frames; 100 closes the socket. */
  badInRow: number;
  closed: boolean;
  /** Closed with servedElsewhere (its city is served by other nodes): not a disconnect for matching. */
  redirected: boolean;
  /** Reliable frames (job changes, replies) waiting for `drain`, oldest first. */
  pending: Buffer[];
  /** Latest-only frames waiting for `drain`, by key (e.g. "pos:<job>", "fleet"): a newer one replaces an older one. */
  latest: Map<string, Buffer> | null;
  /** Rider: jobs followed. */
  jobs: Set<string>;
  /** Rider: the running `sub` action already follows its job (counted in `jobs`, so not again as pending). */
  subFollowed: boolean;
  /** Ops: subscribed, and to which city (null: all). */
  opsSub: boolean;
  opsCity: string | null;
  /** Tail of this socket's async actions, so they run in the order the frames arrived. */
  chain: Promise<void>;
  /** Async actions of this socket not yet answered (their `ack`/`err` not yet sent). */
  actions: number;
  /** When the socket opened, ms since the epoch (which of two sockets of one driver is newer). */
  openedAt: number;
  /** Client IP address as text (per-IP socket limit). */
  ip: string;
  /** Driver: the token's `products` claim; undefined without one (each city's default product). */
  products: readonly string[] | undefined;
}

export type Sock = WebSocket<SocketData>;

export function newSocketData(role: Role, sub: string, ip: string, products?: readonly string[]): SocketData {
  return { role, sub, badInRow: 0, closed: false, redirected: false, pending: [], latest: null, jobs: new Set(), subFollowed: false, opsSub: false, opsCity: null, chain: Promise.resolve(), actions: 0, openedAt: Date.now(), ip, products };
}

/** Above this many buffered bytes a socket counts as slow: location frames are held latest-only. */
const SLOW_BYTES = 64 * 1024;
/** A socket with this many reliable frames queued is too slow to keep: it is closed (the client reconnects). */
const MAX_PENDING = 10_000;

// Every send goes through uWS's cork. Inside a uWS callback the socket is corked anyway; outside one (a
// timer, a resolved promise: offer expiry, job changes after an await, throttled pos frames, bus
// deliveries) uWS would otherwise keep the bytes in its cork buffer until the loop's next poll returns,
// which on a quiet node is the next timer: measured as ~1 s fan-out tails with a 1 s index timer.
// Module-level arguments: no closure allocated per send.
let sendWs: Sock | null = null;
let sendFrame: Buffer | null = null;
let sendResult = 0;
const doSend = (): void => {
  sendResult = sendWs!.send(sendFrame!, true);
};
/** ws.send inside ws.cork (flushed when it returns); uWS's result: 0 backpressure, 1 sent, 2 dropped. */
function send(ws: Sock, frame: Buffer): number {
  sendWs = ws;
  sendFrame = frame;
  ws.cork(doSend);
  sendWs = null;
  sendFrame = null;
  return sendResult;
}

export class Delivery {
  /** Count of location frames replaced before a slow socket could take them. */
  replaced = 0;

  /**
   * Send a frame that must arrive, in order (job changes, acks, errors, offers). Frames uWS refuses
   * (over maxBackpressure) wait in the socket's queue and go out on `drain`.
   */
  reliable(ws: Sock, frame: Buffer): void {
    const ud = ws.getUserData();
    if (ud.closed) return;
    if (ud.pending.length > 0) {
      if (ud.pending.length >= MAX_PENDING) {
        ud.closed = true;
        ws.end(CloseCodes.tooSlow, 'too slow: send queue full');
        return;
      }
      ud.pending.push(frame);
      return;
    }
    if (send(ws, frame) === 2) ud.pending.push(frame);
  }

  /** `reliable` for a scratch buffer that is reused after this call (IdFrame): copied only if it must wait. */
  reliableScratch(ws: Sock, frame: Buffer): void {
    const ud = ws.getUserData();
    if (ud.closed) return;
    if (ud.pending.length > 0 || send(ws, frame) === 2) this.reliable(ws, Buffer.from(frame));
  }

  /** Send a location frame; a slow socket keeps only the newest frame per key until it drains. */
  latest(ws: Sock, key: string, frame: Buffer): void {
    const ud = ws.getUserData();
    if (ud.closed) return;
    if (ud.pending.length > 0 || ws.getBufferedAmount() > SLOW_BYTES) {
      if (!ud.latest) ud.latest = new Map();
      if (ud.latest.has(key)) this.replaced++;
      ud.latest.set(key, frame);
      return;
    }
    if (send(ws, frame) === 2) {
      if (!ud.latest) ud.latest = new Map();
      ud.latest.set(key, frame);
    }
  }

  /** Forget a held latest-only frame (its subject ended). */
  dropLatest(ws: Sock, key: string): void {
    ws.getUserData().latest?.delete(key);
  }

  /** uWS `drain`: flush queued reliable frames, then the newest location frames. */
  drain(ws: Sock): void {
    const ud = ws.getUserData();
    if (ud.closed) return;
    let i = 0;
    while (i < ud.pending.length && ws.getBufferedAmount() < SLOW_BYTES) {
      if (send(ws, ud.pending[i]!) === 2) break;
      i++;
    }
    if (i > 0) ud.pending.splice(0, i);
    if (ud.pending.length > 0 || !ud.latest) return;
    for (const [key, frame] of ud.latest) {
      if (ws.getBufferedAmount() >= SLOW_BYTES) return;
      if (send(ws, frame) === 2) return;
      ud.latest.delete(key);
    }
  }
}
