// Embedded mode without TAXIWAY_AUTH_SECRET: generate a secret once and keep it in the data dir.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Returns the secret stored in `dataDir/auth-secret`, creating it (mode 0600) on first use. */
export function loadOrCreateSecret(dataDir: string): { secret: string; created: boolean; file: string } {
  const file = path.join(dataDir, 'auth-secret');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    const s = fs.readFileSync(file, 'utf8').trim();
    if (s.length >= 16) return { secret: s, created: false, file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { secret, created: true, file };
}

/**
 * The secret a node stored in `dataDir/auth-secret`, or undefined when there is none: for clients
 * (`taxiway replay`) that must sign with the node's secret and must never create a different one.
 */
export function readSecretFile(dataDir: string): { secret: string; file: string } | undefined {
  const file = path.join(dataDir, 'auth-secret');
  try {
    const s = fs.readFileSync(file, 'utf8').trim();
    return s.length >= 16 ? { secret: s, file } : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The node's HS256 secret: the configured one, else (embedded mode) the one stored in the data dir,
 * generated on first use; says which in the log, since a generated secret signs every token of this node.
 */
export function nodeSecret(configured: string | undefined, dataDir: string, logger: { warn(o: object, msg: string): void }): string {
  if (configured) return configured;
  const s = loadOrCreateSecret(dataDir);
  logger.warn({ file: s.file }, s.created ? 'TAXIWAY_AUTH_SECRET not set: generated a secret and stored it in the data dir' : 'TAXIWAY_AUTH_SECRET not set: using the secret stored in the data dir');
  return s.secret;
}
