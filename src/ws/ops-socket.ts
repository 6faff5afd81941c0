// Ops socket: `sub` (optionally to one city) sends the live-job snapshot, then streams fleet snapshots and every job change.
import { ProtocolError } from '../protocol/errors.js';
import { parseOpsMessage } from '../protocol/validate.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { LiveJobSnapshots } from '../matching/live-job-snapshot.js';
import type { Sock } from './delivery.js';
import { replyOk } from './sockets.js';
import type { RoleHandler, SocketDeps } from './sockets.js';

export function opsHandler(deps: SocketDeps, fleet: FleetRegistry, snapshots: LiveJobSnapshots): RoleHandler {
  const { hub } = deps;
  /** Per socket, the number of its latest `sub`: a snapshot finishing after a newer sub (or an unsub) is dropped. */
  const subs = new WeakMap<Sock, number>();
  return {
    open() {},
    message(ws: Sock, raw) {
      const m = parseOpsMessage(raw);
      const n = (subs.get(ws) ?? 0) + 1;
      subs.set(ws, n);
      if (m.t === 'unsub') {
        hub.removeOps(ws);
        replyOk(deps, ws, m.id);
        return;
      }
      if (m.city !== undefined && !fleet.city(m.city)) throw new ProtocolError('not_found', `no city ${m.city}`);
      // Subscribed before the read starts: a change committed during the read is not lost, only maybe
      // sent before the snapshot (clients keep the newest `ts` per job, as documented).
      hub.addOps(ws, m.city ?? null);
      replyOk(deps, ws, m.id);
      void snapshots.frame(m.city ?? null).then((frame) => {
        if (subs.get(ws) !== n || ws.getUserData().closed) return;
        hub.delivery.reliable(ws, frame);
      });
    },
    close() {},
  };
}
