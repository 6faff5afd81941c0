// JSON over HTTP for the SDK clients: the node's base URL from its WebSocket URL, errors as ClientError.
import { ClientError } from './client-error.js';
import type { ClientErrorCode } from './client-error.js';

/** `ws://host:port/...` → `http://host:port` (and wss → https); an http(s) URL keeps its origin. */
export function httpOrigin(url: string): string {
  const u = new URL(url);
  const scheme = u.protocol === 'wss:' || u.protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}`;
}

/** A configured node URL → its socket endpoint for `path` (the path appended unless already there). */
export function roleEndpoint(url: string, path: string): string {
  const u = url.replace(/\/+$/, '');
  return u.endsWith(path) ? u : u + path;
}

/** Redirects (421 `misdirected`, close 4009) the SDK follows in a row before it reports the refusal. */
export const MAX_REDIRECTS = 3;

/** A node's base URL (http(s)://host[:port][/prefix], as a redirect names it) → its socket endpoint for `path` (ws(s)://…/path). */
export function socketEndpoint(base: string, path: string): string {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`not an http(s) URL: ${base}`);
  const scheme = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
  return `${scheme}//${u.host}${u.pathname.replace(/\/+$/, '')}${path}`;
}

/** True when `err` (from fetch) is a refused TCP connection: nothing was sent, so any other node may be asked instead. */
export function connectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

/**
 * Call the HTTP API: `token` as a bearer, `body` as JSON. Resolves with the parsed JSON body of a 2xx;
 * rejects with a ClientError carrying the server's error code and message, the status and `Retry-After`.
 * A 421 `misdirected` naming a node (`url`) is sent again there, at most MAX_REDIRECTS times.
 */
export async function callJson<T>(method: string, url: string, token: string, body?: unknown): Promise<T> {
  for (let hops = 0; ; hops++) {
    try {
      return await callOnce<T>(method, url, token, body);
    } catch (e) {
      if (!(e instanceof ClientError) || e.code !== 'misdirected' || e.redirectUrl === undefined || hops >= MAX_REDIRECTS) throw e;
      const from = new URL(url);
      // The same path and query, on the named node (its base URL may carry a path prefix).
      url = `${e.redirectUrl.replace(/\/+$/, '')}${from.pathname}${from.search}`;
    }
  }
}

async function callOnce<T>(method: string, url: string, token: string, body?: unknown): Promise<T> {
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
  const e = (parsed as { error?: { code?: string; message?: string; url?: unknown } } | undefined)?.error;
  const ra = Number(res.headers.get('retry-after'));
  const redirect = typeof e?.url === 'string' && /^https?:\/\//.test(e.url) ? e.url : undefined;
  throw new ClientError((e?.code as ClientErrorCode | undefined) ?? 'http', e?.message ?? `HTTP ${res.status}`, res.status, Number.isFinite(ra) && ra > 0 ? ra : undefined, redirect);
}
