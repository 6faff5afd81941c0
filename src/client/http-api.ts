// JSON over HTTP for the SDK clients: the node's base URL from its WebSocket URL, errors as ClientError.
import { ClientError } from './client-error.js';
import type { ClientErrorCode } from './client-error.js';

/** `ws://host:port/...` → `http://host:port` (and wss → https); an http(s) URL keeps its origin. */
export function httpOrigin(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}`;
}

/**
 * Call the HTTP API: `token` as a bearer, `body` as JSON. Resolves with the parsed JSON body of a 2xx;
 * rejects with a ClientError carrying the server's error code and message, the status and `Retry-After`.
 */
export async function callJson<T>(method: string, url: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.ok) return parsed as T;
  const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
  const ra = Number(res.headers.get('retry-after'));
  throw new ClientError((e?.code as ClientErrorCode | undefined) ?? 'http', e?.message ?? `HTTP ${res.status}`, res.status, Number.isFinite(ra) && ra > 0 ? ra : undefined);
}
