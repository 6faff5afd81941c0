// The identity provider's public keys (JWKS), fetched at start-up, kept in memory for synchronous checks, refreshed.
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { StartError } from '../config/config-error.js';

/** Algorithms accepted from the key set; `none`, HMAC and others never are. */
export type JwksAlg = 'RS256' | 'ES256';

/** One usable key of the set. */
export interface JwksKey {
  key: KeyObject;
  alg: JwksAlg;
}

/** How the key set is fetched and refreshed. */
export interface JwksOptions {
  url: string;
  /** Periodic refresh, ms. */
  refreshMs: number;
  /** Fewest ms between two refreshes triggered by an unknown `kid` (a flood of made-up kids costs one fetch per window). */
  minRefetchMs: number;
  /** Longest one fetch may take, ms. */
  timeoutMs: number;
  /** Called after each fetch: ok, or the reason it failed (the old keys are kept). */
  onFetch?: (result: { ok: true; keys: number } | { ok: false; error: string }) => void;
}

/** Largest key set document read, bytes, and most keys kept: a key set is a few KiB. */
const MAX_JWKS_BYTES = 1024 * 1024;
const MAX_KEYS = 100;

/**
 * The key set, by `kid`. `get` is synchronous (WebSocket upgrades cannot wait); an unknown `kid`
 * starts a background refetch (at most one per `minRefetchMs`) and the caller refuses that token.
 */
export class JwksKeys {
  private keys = new Map<string, JwksKey>();
  private lastFetchMs = 0;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly changeListeners: Array<() => void> = [];

  constructor(private readonly opts: JwksOptions) {}

  /** Fetch the key set once; throws StartError (naming TAXIWAY_JWKS_URL) when it cannot be fetched or has no usable key. Then refresh every `refreshMs`. */
  async start(): Promise<void> {
    await this.fetchNow(true);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called after a refresh that removed or replaced a key (verified-token caches must forget). */
  addChangeListener(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  /** The key for `kid`, or undefined (then a background refetch is started unless one ran within `minRefetchMs`). */
  get(kid: string): JwksKey | undefined {
    const k = this.keys.get(kid);
    if (k === undefined && Date.now() - this.lastFetchMs >= this.opts.minRefetchMs) void this.refresh().catch(() => undefined);
    return k;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Refetch now (one at a time); a failure keeps the current keys. Resolves when done. */
  refresh(): Promise<void> {
    return (this.inFlight ??= this.fetchNow(false).finally(() => {
      this.inFlight = null;
    }));
  }

  private async fetchNow(first: boolean): Promise<void> {
    this.lastFetchMs = Date.now();
    let next: Map<string, JwksKey>;
    try {
      next = await this.download();
      if (next.size === 0) throw new Error('no usable RS256 or ES256 key with a kid in the set');
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms (TAXIWAY_JWKS_TIMEOUT_MS)` : (e as Error).message;
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      const error = `TAXIWAY_JWKS_URL=${this.opts.url}: cannot fetch the key set: ${why}${cause ? ` (${cause})` : ''}`;
      this.opts.onFetch?.({ ok: false, error });
      if (first) throw new StartError(error);
      return;
    }
    const old = this.keys;
    this.keys = next;
    this.opts.onFetch?.({ ok: true, keys: next.size });
    let changed = false;
    for (const [kid, k] of old) if (next.get(kid)?.key.equals(k.key) !== true) changed = true;
    if (changed) for (const fn of this.changeListeners) fn();
  }

  private async download(): Promise<Map<string, JwksKey>> {
    const res = await fetch(this.opts.url, { signal: AbortSignal.timeout(this.opts.timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await boundedText(res, MAX_JWKS_BYTES);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error('not JSON');
    }
    const list = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new Error('not a JWK set (no "keys" array)');
    const out = new Map<string, JwksKey>();
    for (const jwk of list.slice(0, MAX_KEYS)) {
      const k = usableKey(jwk);
      if (k) out.set(k.kid, { key: k.key, alg: k.alg });
    }
    return out;
  }
}

/** The body as UTF-8, reading no more than `max` bytes (a chunked answer has no length to check first). */
async function boundedText(res: Response, max: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? '0') > max) throw new Error(`key set over ${max} bytes`);
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel();
      throw new Error(`key set over ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A signing key of the set: RSA (RS256) or EC P-256 (ES256), with a `kid`, not marked for
 * encryption only, its `alg` (when given) matching its type. Anything else (HMAC `oct` keys included:
 * a shared secret never comes from a public document) is skipped.
 */
function usableKey(jwk: unknown): { kid: string; key: KeyObject; alg: JwksAlg } | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const j = jwk as Record<string, unknown>;
  if (typeof j.kid !== 'string' || j.kid === '' || (j.use !== undefined && j.use !== 'sig')) return undefined;
  let alg: JwksAlg;
  if (j.kty === 'RSA') alg = 'RS256';
  else if (j.kty === 'EC' && j.crv === 'P-256') alg = 'ES256';
  else return undefined;
  if (j.alg !== undefined && j.alg !== alg) return undefined;
  try {
    const { kty, n, e, crv, x, y } = j as Record<string, string>;
    const key = createPublicKey({ key: kty === 'RSA' ? { kty, n, e } : { kty, crv, x, y }, format: 'jwk' });
    return { kid: j.kid, key, alg };
  } catch {
    return undefined;
  }
}
