// JWT tokens: HS256 signing (jose) for `taxiway token`; synchronous verification (HS256 with the shared secret,
// RS256/ES256 against an identity provider's key set) with a bounded cache for hot routes.
import { createHmac, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import type { JwksKeys } from './jwks.js';
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

/** Tokens of an identity provider: RS256/ES256 signed by a key of its JWKS, with their own claim checks. */
export interface IdpTokenOptions {
  keys: JwksKeys;
  /** Required `iss` (exact match); undefined: not checked. */
  issuer?: string;
  /** Required audience: `aud` equals it or, as an array, contains it; undefined: not checked. */
  audience?: string;
  /** Top-level claim holding the role: `driver|rider|ops`, or an array holding exactly one of them. */
  roleClaim: string;
  /** Leeway on `exp` and `nbf` for the provider's clock, seconds. */
  clockSkewS: number;
}

/** Leeway on an identity provider's `exp`/`nbf`, seconds: its clock is another machine's. */
export const IDP_CLOCK_SKEW_S = 30;

/**
 * Verifies bearer tokens: `alg: HS256` with the shared secret (when one is configured) and, with an
 * identity provider, `alg: RS256`/`ES256` with the key of the set named by `kid`. The header's `alg`
 * picks the path and each path accepts only its own algorithms with its own keys, so an HS256 token
 * made with a provider's public key as its secret is refused (algorithm confusion), and `none` never passes.
 * A verified token is cached (bounded, FIFO) until its `exp`, so repeat requests with the same token
 * cost a Map lookup instead of a signature check; expiry is still enforced. The cache is emptied when
 * the provider's key set drops or replaces a key.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | undefined;
  private readonly cache = new Map<string, Principal>();
  constructor(secret: string | undefined, private readonly maxCached = 50_000, private readonly idp?: IdpTokenOptions) {
    this.key = secret ? new TextEncoder().encode(secret) : undefined;
    idp?.keys.addChangeListener(() => this.cache.clear());
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
    const parts = token.split('.');
    const header = parts.length === 3 ? parseB64Json(parts[0]!) : undefined;
    // No `crit` extensions are understood, so a token that requires one is refused (RFC 7515 4.1.11).
    if (!header || header.crit !== undefined) throw new ProtocolError('unauthorized', 'invalid token');
    let p: Principal;
    if (header.alg === 'HS256' && this.key) {
      const payload = this.checkedPayload(parts as [string, string, string], this.key);
      if (payload === undefined) throw new ProtocolError('unauthorized', 'invalid token');
      p = claimsPrincipal(payload, 'role', 0, nowS);
    } else if ((header.alg === 'RS256' || header.alg === 'ES256') && this.idp) {
      p = this.idpPrincipal(parts as [string, string, string], header, this.idp, nowS);
    } else {
      throw new ProtocolError('unauthorized', `token alg ${JSON.stringify(header.alg)} is not accepted (${this.algs().join(', ')})`);
    }
    if (this.cache.size >= this.maxCached) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(token, p);
    return p;
  }

  /** The algorithms this verifier accepts, for refusal messages. */
  private algs(): string[] {
    return [...(this.key ? ['HS256'] : []), ...(this.idp ? ['RS256', 'ES256'] : [])];
  }

  /** The claims of a compact JWS whose HS256 signature is valid; undefined otherwise. */
  private checkedPayload([h, p, s]: [string, string, string], key: Uint8Array): Record<string, unknown> | undefined {
    const sig = Buffer.from(s, 'base64url');
    if (sig.toString('base64url') !== s) return undefined; // one encoding only
    const mac = createHmac('sha256', key).update(`${h}.${p}`).digest();
    if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) return undefined;
    return parseB64Json(p);
  }

  /** An identity provider's token: key by `kid`, signature, then `iss`, `aud` and the shared claim checks. */
  private idpPrincipal([h, p, s]: [string, string, string], header: Record<string, unknown>, idp: IdpTokenOptions, nowS: number): Principal {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid === '') throw new ProtocolError('unauthorized', 'token has no kid (key id) in its header');
    const k = idp.keys.get(kid);
    // The key set was refetched in the background (unless it was within the last refetch interval): retry.
    if (k === undefined) throw new ProtocolError('unauthorized', `token kid ${JSON.stringify(kid.slice(0, 64))} is not in the key set (refreshing it; retry shortly)`);
    if (k.alg !== header.alg) throw new ProtocolError('unauthorized', `token alg ${header.alg} does not match key ${JSON.stringify(kid.slice(0, 64))} (${k.alg})`);
    const sig = Buffer.from(s, 'base64url');
    if (sig.toString('base64url') !== s) throw new ProtocolError('unauthorized', 'invalid token');
    const ok = verifySignature('sha256', Buffer.from(`${h}.${p}`), k.alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, sig);
    if (!ok) throw new ProtocolError('unauthorized', 'invalid token');
    const payload = parseB64Json(p);
    if (payload === undefined) throw new ProtocolError('unauthorized', 'invalid token');
    if (idp.issuer !== undefined && payload.iss !== idp.issuer) throw new ProtocolError('unauthorized', `token issuer (iss) must be ${idp.issuer}`);
    if (idp.audience !== undefined) {
      const aud = payload.aud;
      if (!(aud === idp.audience || (Array.isArray(aud) && aud.includes(idp.audience)))) throw new ProtocolError('unauthorized', `token audience (aud) must include ${idp.audience}`);
    }
    return claimsPrincipal(payload, idp.roleClaim, idp.clockSkewS, nowS);
  }
}

/**
 * The principal of a verified token's claims: registered claims as jose's jwtVerify checks them (`exp`
 * and `sub` required; `skewS` of leeway), `sub` an id, the role from `roleClaim`, the optional `products`.
 */
function claimsPrincipal(payload: Record<string, unknown>, roleClaim: string, skewS: number, nowS: number): Principal {
  const { exp, nbf, iat } = payload;
  if (typeof exp !== 'number' || (nbf !== undefined && typeof nbf !== 'number') || (iat !== undefined && typeof iat !== 'number') || payload.sub === undefined) {
    throw new ProtocolError('unauthorized', 'invalid token');
  }
  if (exp + skewS <= nowS) throw new ProtocolError('unauthorized', 'token expired');
  if (typeof nbf === 'number' && nbf - skewS > nowS) throw new ProtocolError('unauthorized', 'invalid token');
  const sub = payload.sub;
  if (typeof sub !== 'string' || !ID_PATTERN.test(sub)) throw new ProtocolError('unauthorized', 'token sub is not a valid id');
  const role = roleOf(payload[roleClaim]);
  if (role === undefined) throw new ProtocolError('unauthorized', `token ${roleClaim === 'role' ? 'role' : `role claim ${roleClaim}`} must be driver, rider or ops`);
  // Cached until exp plus the leeway the check allowed.
  const p: Principal = { sub, role, exp: exp + skewS };
  if (payload.products !== undefined) {
    const products = checkProductList(payload.products);
    if (typeof products === 'string') throw new ProtocolError('unauthorized', `token products claim ${products}`);
    p.products = products;
  }
  return p;
}

/** `driver|rider|ops`, or an array (a provider's role list) holding exactly one of them; undefined otherwise. */
function roleOf(v: unknown): Role | undefined {
  if (typeof v === 'string') return ROLES.includes(v as Role) ? (v as Role) : undefined;
  if (!Array.isArray(v) || v.length > 256) return undefined;
  const found = ROLES.filter((r) => v.includes(r));
  return found.length === 1 ? found[0] : undefined;
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
