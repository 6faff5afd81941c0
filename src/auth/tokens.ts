// HS256 JWT tokens (jose): signing for `taxiway token`, verification with a bounded cache for hot routes.
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ProtocolError } from '../protocol/errors.js';
import { ID_PATTERN, ROLES } from '../protocol/messages.js';
import type { Role } from '../protocol/messages.js';

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** Sign a token. `ttlS` seconds from now (default one hour). */
export async function signToken(secret: string, sub: string, role: Role, ttlS = 3600): Promise<string> {
  if (!ID_PATTERN.test(sub)) throw new Error('sub must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  if (!ROLES.includes(role)) throw new Error('role must be driver, rider or ops');
  return new SignJWT({ role })
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
    if (!token) throw new ProtocolError('unauthorized', 'missing bearer token');
    const nowS = Date.now() / 1000;
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.exp > nowS) return hit;
      this.cache.delete(token);
      throw new ProtocolError('unauthorized', 'token expired');
    }
    if (token.length > 4096) throw new ProtocolError('unauthorized', 'token too long');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw new ProtocolError('unauthorized', 'token expired');
      throw new ProtocolError('unauthorized', 'invalid token');
    }
    const sub = payload.sub;
    const role = payload.role;
    if (typeof sub !== 'string' || !ID_PATTERN.test(sub)) throw new ProtocolError('unauthorized', 'token sub is not a valid id');
    if (typeof role !== 'string' || !ROLES.includes(role as Role)) throw new ProtocolError('unauthorized', 'token role must be driver, rider or ops');
    const p: Principal = { sub, role: role as Role, exp: payload.exp as number };
    if (this.cache.size >= this.maxCached) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(token, p);
    return p;
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
