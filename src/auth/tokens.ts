// HS256 JWT tokens: signing (jose) for `taxiway token`, synchronous verification with a bounded cache for hot routes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { ProtocolError } from '../protocol/errors.js';
import { ID_PATTERN, ROLES } from '../protocol/messages.js';
import type { Role } from '../protocol/messages.js';
import { checkProductList } from '../protocol/products.js';

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /**
   * The products a driver serves, from the token's optional `products` claim (1-32 unique names of
   * a-z 0-9 _ -); absent when the token has no such claim (the driver then serves its city's default product).
   */
  products?: readonly string[];
}

/** Options of signToken beyond subject and role. */
export interface SignOptions {
  /** The `products` claim (drivers): product names the driver serves. */
  products?: readonly string[];
}

/** Sign a token. `ttlS` seconds from now (default one hour). */
export async function signToken(secret: string, sub: string, role: Role, ttlS = 3600, opts: SignOptions = {}): Promise<string> {
  if (!ID_PATTERN.test(sub)) throw new Error('sub must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  if (!ROLES.includes(role)) throw new Error('role must be driver, rider or ops');
  const claims: Record<string, unknown> = { role };
  if (opts.products !== undefined) {
    const p = checkProductList(opts.products);
    if (typeof p === 'string') throw new Error(`products ${p}`);
    claims.products = p;
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS)
    .sign(new TextEncoder().encode(secret));
}

/**
 * Verifies bearer tokens. A verified token is cached (bounded, FIFO) until its `exp`, so repeat
 * requests with the same token cost a Map lookup instead of an HMAC; expiry is still enforced.
 */
export class TokenVerifier {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, Principal>();
  constructor(secret: string, private readonly maxCached = 50_000) {
    this.key = new TextEncoder().encode(secret);
  }

  /**
   * The principal of an already verified, unexpired token without waiting (hot HTTP routes answer
   * synchronously then); undefined when the token has not been verified yet (call `verify`).
   * Throws ProtocolError('unauthorized') for a missing or expired token.
   */
  cached(token: string | undefined): Principal | undefined {
    if (!token) throw new ProtocolError('unauthorized', 'missing bearer token');
    const hit = this.cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.exp > Date.now() / 1000) return hit;
    this.cache.delete(token);
    throw new ProtocolError('unauthorized', 'token expired');
  }

  /** Resolve the principal or throw ProtocolError('unauthorized'). */
  async verify(token: string | undefined): Promise<Principal> {
    return this.verifyNow(token);
  }

  /**
   * `verify` without waiting: HS256 is one HMAC, so it is checked synchronously. WebSocket upgrades
   * need this: they must be completed inside uWS's upgrade handler (see `upgrade` in ws/sockets.ts).
   * Throws ProtocolError('unauthorized').
   */
  verifyNow(token: string | undefined): Principal {
    if (!token) throw new ProtocolError('unauthorized', 'missing bearer token');
    const nowS = Math.floor(Date.now() / 1000);
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.exp > Date.now() / 1000) return hit;
      this.cache.delete(token);
      throw new ProtocolError('unauthorized', 'token expired');
    }
    if (token.length > 4096) throw new ProtocolError('unauthorized', 'token too long');
    const payload = this.checkedPayload(token);
    if (payload === undefined) throw new ProtocolError('unauthorized', 'invalid token');
    // Registered claims as jose's jwtVerify checks them (exp and sub required, no clock tolerance).
    const { exp, nbf, iat } = payload;
    if (typeof exp !== 'number' || (nbf !== undefined && typeof nbf !== 'number') || (iat !== undefined && typeof iat !== 'number') || payload.sub === undefined) {
      throw new ProtocolError('unauthorized', 'invalid token');
    }
    if (exp <= nowS) throw new ProtocolError('unauthorized', 'token expired');
    if (typeof nbf === 'number' && nbf > nowS) throw new ProtocolError('unauthorized', 'invalid token');
    const sub = payload.sub;
    const role = payload.role;
    if (typeof sub !== 'string' || !ID_PATTERN.test(sub)) throw new ProtocolError('unauthorized', 'token sub is not a valid id');
    if (typeof role !== 'string' || !ROLES.includes(role as Role)) throw new ProtocolError('unauthorized', 'token role must be driver, rider or ops');
    const p: Principal = { sub, role: role as Role, exp };
    if (payload.products !== undefined) {
      const products = checkProductList(payload.products);
      if (typeof products === 'string') throw new ProtocolError('unauthorized', `token products claim ${products}`);
      p.products = products;
    }
    if (this.cache.size >= this.maxCached) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(token, p);
    return p;
  }

  /** The claims of a well-formed compact JWS with an `alg: HS256` header and a valid signature; undefined otherwise. */
  private checkedPayload(token: string): Record<string, unknown> | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    const header = parseB64Json(h);
    // No `crit` extensions are understood, so a token that requires one is refused (RFC 7515 4.1.11).
    if (!header || header.alg !== 'HS256' || header.crit !== undefined) return undefined;
    const sig = Buffer.from(s, 'base64url');
    if (sig.toString('base64url') !== s) return undefined; // one encoding only
    const mac = createHmac('sha256', this.key).update(`${h}.${p}`).digest();
    if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return undefined;
    return parseB64Json(p);
  }
}

/** A base64url-encoded JSON object, or undefined. */
function parseB64Json(part: string): Record<string, unknown> | undefined {
  const bytes = Buffer.from(part, 'base64url');
  if (bytes.toString('base64url') !== part) return undefined;
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Pull the token from `Authorization: Bearer x` or, for WebSockets, `?token=x`. */
export function extractToken(authorization: string, queryToken: string | undefined): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? m[1] : undefined;
  }
  return queryToken || undefined;
}
