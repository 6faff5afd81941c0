// Tokens for the SDK clients: a fixed token or a provider asked again when the token expires or is refused.

/** Why the provider is asked: the first connect, the cached token's `exp` has passed, or the server refused it (401). */
export type TokenReason = 'initial' | 'expired' | 'refused';

/**
 * Returns a JWT for the client's role (docs/protocol.md, "Authentication"). Called before the first
 * connect, before a reconnect when the cached token is within `expirySkewMs` of its `exp`, and after the
 * server refused the token (HTTP 401 on the upgrade). May return the same token again.
 */
export type TokenProvider = (reason: TokenReason) => string | Promise<string>;

/**
 * Expiry of a JWT, ms since the epoch, read from its `exp` claim without verifying it (only the server
 * can); undefined when the token has no readable `exp`.
 */
export function tokenExpiryMs(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Holds the current token and asks the provider for a new one when needed. */
export class TokenSource {
  private current: string | undefined;
  private stale = false;

  constructor(private readonly source: string | TokenProvider, private readonly expirySkewMs: number) {
    if (typeof source === 'string') this.current = source;
  }

  /** True when a new token can be had (a provider was given). */
  get renewable(): boolean {
    return typeof this.source === 'function';
  }

  /** The server refused the current token: the next get() asks the provider. */
  refused(): void {
    this.stale = true;
  }

  /** A token to connect with, asking the provider when there is none, it expired, or it was refused. */
  async get(now = Date.now()): Promise<string> {
    if (typeof this.source === 'string') return this.source;
    let reason: TokenReason | undefined;
    if (this.current === undefined) reason = 'initial';
    else if (this.stale) reason = 'refused';
    else {
      const exp = tokenExpiryMs(this.current);
      if (exp !== undefined && exp - this.expirySkewMs <= now) reason = 'expired';
    }
    if (reason !== undefined) {
      const t = await this.source(reason);
      if (typeof t !== 'string' || t.length === 0) throw new Error('token provider returned no token');
      this.current = t;
      this.stale = false;
    }
    return this.current!;
  }
}
