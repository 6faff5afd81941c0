// Identity-provider tokens: where the key set is (TAXIWAY_JWKS_URL) and which claims are checked, validated at startup.
import { ConfigError } from './config-error.js';
import type { EnvSource } from './config-error.js';
import { numberSetting } from './settings.js';

/** RS256/ES256 tokens verified against a JWKS; see docs/protocol.md (Authentication). */
export interface IdpSettings {
  /** The JWKS document (http or https). */
  jwksUrl: string;
  /** Required `iss`; undefined: not checked. */
  issuer?: string;
  /** Required audience (in `aud`); undefined: not checked. */
  audience?: string;
  /** Top-level claim carrying the role (default `role`). */
  roleClaim: string;
  /** Periodic refetch of the key set, ms. */
  refreshMs: number;
  /** Fewest ms between refetches triggered by an unknown `kid`. */
  refetchMinMs: number;
  /** Longest one fetch of the key set may take (the start fails past it), ms. */
  fetchTimeoutMs: number;
}

/** The identity-provider settings, or undefined when TAXIWAY_JWKS_URL is unset. Throws ConfigError naming the setting. */
export function idpFromEnv(src: EnvSource): IdpSettings | undefined {
  const raw = src.TAXIWAY_JWKS_URL;
  const dependent = ['TAXIWAY_JWT_ISSUER', 'TAXIWAY_JWT_AUDIENCE', 'TAXIWAY_JWT_ROLE_CLAIM'].filter((n) => src[n]);
  if (!raw) {
    if (dependent.length > 0) throw new ConfigError(`${dependent[0]} is set but TAXIWAY_JWKS_URL is not: issuer, audience and role claim apply to identity-provider tokens only`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`TAXIWAY_JWKS_URL=${raw}: not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`TAXIWAY_JWKS_URL=${raw}: expected an http:// or https:// URL`);
  const roleClaim = src.TAXIWAY_JWT_ROLE_CLAIM || 'role';
  if (!/^[A-Za-z0-9_:./-]{1,128}$/.test(roleClaim)) throw new ConfigError(`TAXIWAY_JWT_ROLE_CLAIM=${roleClaim}: expected a claim name (1-128 of A-Z a-z 0-9 _ : . / -)`);
  return {
    jwksUrl: url.href,
    issuer: src.TAXIWAY_JWT_ISSUER || undefined,
    audience: src.TAXIWAY_JWT_AUDIENCE || undefined,
    roleClaim,
    refreshMs: numberSetting(src, 'TAXIWAY_JWKS_REFRESH_MS'),
    refetchMinMs: numberSetting(src, 'TAXIWAY_JWKS_REFETCH_MIN_MS'),
    fetchTimeoutMs: numberSetting(src, 'TAXIWAY_JWKS_TIMEOUT_MS'),
  };
}
