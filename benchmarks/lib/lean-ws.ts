// A lean WebSocket client over a raw TCP socket: handshake, masked client frames written as pre-built bytes,
// and a minimal parser for the server's (unmasked) frames. Thousands of these fit in one process.
import net from 'node:net';

/** Client frames must be masked; a zero mask key leaves the payload as is, so frames can be pre-built. */
export function clientFrame(payload: Uint8Array, opcode = 0x2): Buffer {
  const n = payload.length;
  const head = n < 126 ? 6 : n < 65536 ? 8 : 14;
  const b = Buffer.allocUnsafe(head + n);
  b[0] = 0x80 | opcode;
  if (n < 126) {
    b[1] = 0x80 | n;
  } else if (n < 65536) {
    b[1] = 0x80 | 126;
    b.writeUInt16BE(n, 2);
  } else {
    b[1] = 0x80 | 127;
    b.writeUInt32BE(0, 2);
    b.writeUInt32BE(n, 6);
  }
  b.writeUInt32BE(0, head - 4); // mask key 0
  b.set(payload, head);
  return b;
}

/** Length of a client frame header for a payload of n bytes (zero mask key included). */
export function clientHeaderLength(n: number): number {
  return n < 126 ? 6 : n < 65536 ? 8 : 14;
}

export interface LeanWsOptions {
  host: string;
  port: number;
  path: string;
  token: string;
  localAddress?: string;
  timeoutMs?: number;
}

export class UpgradeError extends Error {
  constructor(readonly status: number, msg: string) {
    super(msg);
  }
}

/** One connected socket. Set onFrame to receive binary payloads (a view valid only during the call). */
export class LeanWs {
  onFrame: (payload: Buffer) => void = () => {};
  onClose: (code: number) => void = () => {};
  closed = false;
  closeCode = 0;
  private pending: Buffer | null = null;

  private constructor(readonly sock: net.Socket) {}

  static connect(o: LeanWsOptions): Promise<LeanWs> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: o.host, port: o.port, localAddress: o.localAddress, noDelay: true });
      const ws = new LeanWs(sock);
      let head: Buffer = Buffer.alloc(0);
      let done = false;
      const timer = setTimeout(() => fail(new Error('handshake timed out')), o.timeoutMs ?? 15_000);
      const fail = (e: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      };
      sock.once('error', fail);
      sock.once('connect', () => {
        sock.write(
          `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${o.token}\r\n\r\n`,
        );
      });
      const onHead = (chunk: Buffer): void => {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16384) fail(new Error('handshake response too long'));
          return;
        }
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1', 0, 16))?.[1] ?? 0);
        if (status !== 101) {
          fail(new UpgradeError(status, `upgrade refused: ${status} ${head.toString('utf8', end + 4, end + 300)}`));
          return;
        }
        done = true;
        clearTimeout(timer);
        sock.off('data', onHead);
        sock.off('error', fail);
        sock.on('data', (c: Buffer) => ws.onData(c));
        sock.on('error', () => {});
        sock.on('close', () => ws.markClosed(ws.closeCode || 1006));
        const rest = head.subarray(end + 4);
        resolve(ws);
        if (rest.length) ws.onData(rest);
      };
      sock.on('data', onHead);
    });
  }

  /** Write pre-built client frame bytes. Returns the socket's write() result. */
  write(frames: Uint8Array): boolean {
    return this.sock.write(frames);
  }

  /** Bytes buffered in Node for this socket (not yet handed to the kernel). */
  get buffered(): number {
    return this.sock.writableLength;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.sock.write(clientFrame(Buffer.from([0x03, 0xe8]), 0x8));
    } catch {
      /* already gone */
    }
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  private markClosed(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.onClose(code);
  }

  private onData(chunk: Buffer): void {
    let b = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let off = 0;
    while (b.length - off >= 2) {
      const b0 = b[off]!;
      const b1 = b[off + 1]!;
      let len = b1 & 0x7f;
      let p = off + 2;
      if (len === 126) {
        if (b.length - off < 4) break;
        len = b.readUInt16BE(p);
        p += 2;
      } else if (len === 127) {
        if (b.length - off < 10) break;
        len = b.readUInt32BE(p) * 4294967296 + b.readUInt32BE(p + 4);
        p += 8;
      }
      if (b1 & 0x80) p += 4; // servers never mask, but be tolerant
      if (b.length < p + len) break;
      const payload = b.subarray(p, p + len);
      const op = b0 & 0x0f;
      if (op === 0x2 || op === 0x1 || op === 0x0) this.onFrame(payload);
      else if (op === 0x9) this.sock.write(clientFrame(payload, 0xa));
      else if (op === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.close();
      }
      off = p + len;
    }
    if (off < b.length) this.pending = Buffer.from(b.subarray(off));
  }
}
