// Seeded generators of hostile input for the fuzz run: odd msgpack values, mutated valid frames, raw bytes, HTTP requests.
import { Packr } from 'msgpackr';
import { encodeFrame } from '../../src/protocol/codec.js';

/** Packs any value, top-level scalars included (the server's own encoder only takes objects). */
const anyPackr = new Packr({ useRecords: false });
import type { Role } from '../../src/protocol/messages.js';

/** encodeURIComponent that survives lone surrogates (they become U+FFFD, as a browser would send). */
function enc(s: string): string {
  return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** A seeded source of choices; every draw comes from `rnd`, so a seed replays a run exactly. */
export class Gen {
  constructor(readonly rnd: () => number) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.rnd() < p;
  }

  /** Strings that break naive parsers: empty, long, unicode, control bytes, ids near the 64-char limit. */
  str(): string {
    switch (this.int(0, 7)) {
      case 0: return '';
      case 1: return 'x'.repeat(this.int(60, 70));
      case 2: return 'a'.repeat(this.int(1000, 70_000));
      case 3: return '\u0000\u0001\uffff\ud800';
      case 4: return 'j_' + this.int(0, 1e9);
      case 5: return this.pick(['loc', 'locs', 'status', 'accept', 'sub', 'unsub', 'available', 'busy', 'offline', '__proto__', 'constructor']);
      case 6: return '🚕'.repeat(this.int(1, 40));
      default: return Math.floor(this.rnd() * 1e12).toString(36);
    }
  }

  /** Numbers at the edges: NaN, infinities, -0, huge, tiny, out-of-range coordinates, int64 times. */
  num(): number | bigint {
    switch (this.int(0, 9)) {
      case 0: return NaN;
      case 1: return this.chance(0.5) ? Infinity : -Infinity;
      case 2: return -0;
      case 3: return Number.MAX_SAFE_INTEGER + this.int(0, 10);
      case 4: return BigInt(Date.now()) * BigInt(this.int(-3, 3));
      case 5: return (this.rnd() - 0.5) * 400;
      case 6: return Date.now() + this.int(-1e7, 1e7);
      case 7: return 5e-324;
      case 8: return this.int(-(2 ** 31), 2 ** 31);
      default: return this.rnd() * 360;
    }
  }

  /** Any msgpack-encodable value, nested at most `depth` deep. */
  value(depth = 2): unknown {
    const k = this.int(0, depth > 0 ? 9 : 6);
    switch (k) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: case 3: return this.num();
      case 4: return this.str();
      case 5: return new Uint8Array(this.int(0, 64)).map(() => this.int(0, 255));
      case 6: return undefined;
      case 7: return Array.from({ length: this.int(0, 6) }, () => this.value(depth - 1));
      case 8: {
        const o: Record<string, unknown> = {};
        // defineProperty: a key `__proto__` stays an own key, as a decoder would see it on the wire.
        for (let i = this.int(0, 5); i > 0; i--) Object.defineProperty(o, this.str().slice(0, 20), { value: this.value(depth - 1), enumerable: true, writable: true, configurable: true });
        return o;
      }
      default: return new Map([[this.value(0), this.value(depth - 1)]]);
    }
  }

  /** A valid-looking frame of `role`, the base that mutations start from. */
  template(role: Role, jobId: string): Record<string, unknown> {
    const now = Date.now();
    const fix = (): Record<string, unknown> => ({ lat: 43.73 + this.rnd() * 0.01, lng: 7.42 + this.rnd() * 0.01, ts: now - this.int(0, 5000), hdg: this.rnd() * 359, spd: this.rnd() * 20, acc: this.rnd() * 30 });
    if (role === 'driver') {
      switch (this.int(0, 4)) {
        case 0: return { t: 'loc', id: this.int(0, 1e6), ...fix() };
        case 1: return { t: 'locs', id: this.int(0, 1e6), pts: Array.from({ length: this.int(0, 20) }, () => [...Object.values(fix())].slice(0, this.int(3, 6))) };
        case 2: return { t: 'status', id: this.int(0, 1e6), s: this.pick(['available', 'busy', 'offline']) };
        case 3: return { t: this.pick(['accept', 'decline', 'arrived', 'start', 'complete']), id: this.int(0, 1e6), job: jobId };
        default: return { t: 'cancel', id: this.int(0, 1e6), job: jobId, reason: this.str().slice(0, 100) };
      }
    }
    if (role === 'rider') return { t: this.pick(['sub', 'unsub']), id: this.int(0, 1e6), job: jobId };
    return this.chance(0.5) ? { t: 'sub', id: this.int(0, 1e6), city: this.pick(['monaco', 'porto', this.str()]) } : { t: 'unsub', id: this.int(0, 1e6) };
  }

  /** A mutated template: keys deleted, values replaced by odd ones, extra keys added. */
  mutated(role: Role, jobId: string): Record<string, unknown> {
    const f = this.template(role, jobId);
    const keys = Object.keys(f);
    for (let i = this.int(1, 3); i > 0; i--) {
      const key = this.pick(keys);
      switch (this.int(0, 3)) {
        case 0: delete f[key]; break;
        case 1: f[key] = this.value(1); break;
        case 2: Object.defineProperty(f, this.str().slice(0, 16), { value: this.value(1), enumerable: true, writable: true, configurable: true }); break;
        default: f[key] = this.num(); break;
      }
    }
    return f;
  }

  /** The bytes of one WebSocket frame for `role`: mostly mutated frames, some raw or truncated bytes. */
  frame(role: Role, jobId: string): { data: Uint8Array | string; binary: boolean } {
    const k = this.int(0, 9);
    if (k <= 4) return { data: encodeFrame(this.mutated(role, jobId)), binary: true };
    if (k === 5) return { data: anyPackr.pack(this.value(3)), binary: true };
    if (k === 6) {
      const b = encodeFrame(this.template(role, jobId));
      return { data: b.subarray(0, this.int(0, b.length)), binary: true };
    }
    if (k === 7) {
      const b = Uint8Array.from(encodeFrame(this.template(role, jobId)));
      for (let i = this.int(1, 4); i > 0; i--) b[this.int(0, b.length - 1)] = this.pick([0xc1, 0xff, 0x00, 0xdf, 0xdd, this.int(0, 255)]);
      return { data: b, binary: true };
    }
    if (k === 8) return { data: this.str().slice(0, 5000), binary: false };
    return { data: new Uint8Array(this.int(0, 300)).map(() => this.int(0, 255)), binary: true };
  }

  /** One HTTP request against the routes: odd methods, paths, queries, bodies and tokens. */
  request(jobId: string, tokens: Record<string, string>): { method: string; path: string; body?: string; headers: Record<string, string> } {
    const q = (): string => {
      const parts: string[] = [];
      for (let i = this.int(0, 5); i > 0; i--) {
        const key = this.pick(['lat', 'lng', 'from_lat', 'from_lng', 'to_lat', 'to_lng', 'radius', 'limit', 'k', 'from', 'to', 'product', 'state', 'city', this.str().slice(0, 10)]);
        const v = this.chance(0.5) ? String(this.num()) : this.str().slice(0, 200);
        parts.push(this.chance(0.05) ? `${key.length}=%ff%fe%c1%80` : `${enc(key)}=${enc(v)}`);
      }
      return parts.length ? '?' + parts.join('&') : '';
    };
    const id = this.pick([jobId, this.str().slice(0, 80), '..%2f..%2fetc%2fpasswd', '%00', 'j_' + this.int(0, 99)]);
    // Mostly a real route with its own method, so requests get past routing into the handlers.
    const routes: Array<[string, string]> = [
      ['POST', '/v1/jobs'], ['GET', `/v1/jobs/${enc(id)}`], ['POST', `/v1/jobs/${enc(id)}/cancel`], ['GET', '/v1/drivers/nearby'],
      ['GET', '/v1/eta'], ['GET', `/v1/drivers/${enc(id)}/track`], ['GET', '/healthz'], ['GET', '/readyz'], ['GET', '/metrics'],
      ['GET', '/dashboard/'], ['GET', '/v1/jobs'], ['GET', '/v1/../../x'], ['GET', '/' + this.str().slice(0, 300).replace(/[^\x21-\x7e]/g, 'x')],
    ];
    const [m0, p0] = this.pick(routes);
    const method = this.chance(0.8) ? m0 : this.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    const path = p0 + q();
    const headers: Record<string, string> = {};
    const tok = this.chance(0.7) ? this.pick(Object.values(tokens)) : this.pick(['garbage', '', 'a.b.c']);
    if (tok) headers.authorization = this.chance(0.85) ? `Bearer ${tok}` : this.pick([tok, `Basic ${tok}`]);
    if (this.chance(0.3)) headers.origin = this.pick(['http://evil.example', 'null', 'http://localhost:3000']);
    let body: string | undefined;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      headers['content-type'] = this.pick(['application/json', 'text/plain', 'application/msgpack']);
      const pickup = { lat: 43.73 + this.rnd() * 0.01, lng: 7.42 + this.rnd() * 0.01 };
      body = this.pick([
        JSON.stringify({ pickup, dropoff: this.chance(0.5) ? pickup : this.value(1), product: this.chance(0.7) ? 'taxi' : this.value(0) }, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)),
        JSON.stringify(this.value(2), (_k, v) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? [...v] : v)) ?? 'null',
        '{"pickup":', '[]', 'null', '{"pickup":{"lat":1e999,"lng":-1e999}}', this.str(),
      ]);
    }
    return { method, path, body, headers };
  }
}
