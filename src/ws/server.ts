// The uWS app: sockets, routes, static dashboard; listen, and a graceful close.
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { loadUws } from './uws.js';

export interface Listening {
  app: TemplatedApp;
  port: number;
  close(): void;
}

/** Create a uWS app (native addon only; see uws.ts). */
export function createUwsApp(): TemplatedApp {
  return loadUws().App();
}

/** Listen on host:port (port 0 picks a free one). Rejects with a clear message when the port is taken. */
export class ListenError extends Error {}

export function listen(app: TemplatedApp, host: string, port: number): Promise<Listening> {
  const uws = loadUws();
  return new Promise((resolve, reject) => {
    app.listen(host, port, (sock: us_listen_socket | false) => {
      if (!sock) return reject(new ListenError(`cannot listen on ${host}:${port} (port in use or not permitted)`));
      resolve({
        app,
        port: uws.us_socket_local_port(sock),
        close: () => uws.us_listen_socket_close(sock),
      });
    });
  });
}
