// Synchronous HS256 JWT signing with node:crypto: thousands of driver tokens in milliseconds (jose is async and slower).
import crypto from 'node:crypto';

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** A token the server's TokenVerifier accepts: claims sub, role, iat, exp. */
export function signHs256(secret: string, sub: string, role: 'driver' | 'rider' | 'ops', ttlS = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const body = b64url(JSON.stringify({ role, sub, iat: now, exp: now + ttlS }));
  const sig = crypto.createHmac('sha256', secret).update(`${HEADER}.${body}`).digest('base64url');
  return `${HEADER}.${body}.${sig}`;
}

/** The driver id of a valid, unexpired driver token signed with `secret`, else null (the baselines' auth). */
export function verifyDriverHs256(secret: string, token: string | undefined): string | null {
  if (!token) return null;
  const [h, b, s] = token.split('.');
  if (!h || !b || !s) return null;
  const sig = crypto.createHmac('sha256', secret).update(`${h}.${b}`).digest('base64url');
  if (sig !== s) return null;
  const p = JSON.parse(Buffer.from(b, 'base64url').toString()) as { sub?: string; role?: string; exp?: number };
  return p.role === 'driver' && typeof p.sub === 'string' && (p.exp ?? 0) > Date.now() / 1000 ? p.sub : null;
}
