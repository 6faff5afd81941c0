// Chaos: a TCP proxy in front of one Redis server that can stop forwarding (both directions) for a while: a network stall.
import net from 'node:net';

/** Forwards 127.0.0.1:port to 127.0.0.1:target; `stall(ms)` holds every byte (already-open and new connections) for ms. */
export class StallProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private stalledUntil = 0;
  private stalls = 0;
  private constructor(readonly port: number, private readonly target: number) {
    this.server = net.createServer((client) => this.pipe(client));
  }

  static async start(port: number, target: number): Promise<StallProxy> {
    const p = new StallProxy(port, target);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(port, '127.0.0.1', () => resolve());
    });
    return p;
  }

  /** Stop forwarding for `ms`; bytes sent meanwhile are delivered after it (TCP does not lose them, it only waits). */
  stall(ms: number): void {
    this.stalledUntil = Date.now() + ms;
    const n = ++this.stalls;
    for (const s of this.sockets) s.pause();
    // Compared by count, not by clock: a timer may fire a millisecond before Date.now() reaches stalledUntil.
    setTimeout(() => {
      if (n !== this.stalls) return;
      this.stalledUntil = 0;
      for (const s of this.sockets) s.resume();
    }, ms).unref();
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      if (Date.now() < this.stalledUntil) s.pause();
    }
    // Writes go through the peer's 'data' handler, so pausing both sockets stops both directions.
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
