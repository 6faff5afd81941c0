// One WebSocket for the SDK: the `ws` package in Node (token in a header, HTTP refusals readable), the global WebSocket elsewhere.

/** The minimal browser WebSocket surface the SDK uses (the DOM lib is not assumed). */
export interface BrowserWebSocket {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor as browsers (and Node 22's global) provide it. */
export type BrowserWebSocketCtor = new (url: string) => BrowserWebSocket;

/** What happened to an opening or open socket. */
export interface TransportEvents {
  open(): void;
  message(bytes: Uint8Array): void;
  /**
   * The socket is gone. `status` is the HTTP status when the upgrade was refused (Node only: browsers do
   * not expose it), with `retryAfterS` from its `Retry-After` header.
   */
  close(code: number, reason: string, refused?: { status: number; retryAfterS?: number }): void;
}

/** An open (or opening) socket. */
export interface Transport {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  /** True while frames can be sent. */
  readonly isOpen: boolean;
  /** True when a refused upgrade reports its HTTP status (Node); false in browsers, which hide it. */
  readonly reportsRefusals: boolean;
}

/** Which WebSocket implementation to use: `'auto'` picks `ws` in Node and the global WebSocket elsewhere. */
export type WebSocketChoice = 'auto' | BrowserWebSocketCtor;

const OPEN = 1;

function inNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Open `url` with `token`, reporting to `ev`. */
export async function openTransport(url: string, token: string, choice: WebSocketChoice, ev: TransportEvents): Promise<Transport> {
  if (choice === 'auto' && inNode()) return openNode(url, token, ev);
  const Ctor = choice === 'auto' ? (globalThis as { WebSocket?: BrowserWebSocketCtor }).WebSocket : choice;
  if (!Ctor) throw new Error('no WebSocket implementation: pass options.WebSocket');
  return openBrowser(Ctor, url, token, ev);
}

/** Browsers cannot send headers with an upgrade: the token goes in `?token=` (docs/protocol.md). */
function openBrowser(Ctor: BrowserWebSocketCtor, url: string, token: string, ev: TransportEvents): Transport {
  const ws = new Ctor(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => ev.open();
  ws.onmessage = (m) => {
    if (m.data instanceof ArrayBuffer) ev.message(new Uint8Array(m.data));
    else if (ArrayBuffer.isView(m.data)) ev.message(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  };
  ws.onclose = (c) => ev.close(c.code, c.reason);
  ws.onerror = () => undefined; // a close always follows
  return {
    send: (b) => ws.send(b),
    close: (code, reason) => ws.close(code, reason),
    get isOpen() { return ws.readyState === OPEN; },
    reportsRefusals: false,
  };
}

async function openNode(url: string, token: string, ev: TransportEvents): Promise<Transport> {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  let refused: { status: number; retryAfterS?: number } | undefined;
  ws.on('unexpected-response', (_req, res) => {
    const ra = Number(res.headers['retry-after']);
    refused = { status: res.statusCode ?? 0, retryAfterS: Number.isFinite(ra) && ra > 0 ? ra : undefined };
    res.resume();
    ws.terminate();
  });
  ws.on('open', () => ev.open());
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) ev.message(data);
  });
  ws.on('error', () => undefined); // a close always follows
  ws.on('close', (code: number, reason: Buffer) => ev.close(code, reason.toString(), refused));
  return {
    send: (b) => ws.send(b),
    close: (code, reason) => (ws.readyState === WebSocket.CONNECTING ? ws.terminate() : ws.close(code, reason)),
    get isOpen() { return ws.readyState === WebSocket.OPEN; },
    reportsRefusals: true,
  };
}
