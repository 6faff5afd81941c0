// Ops socket: `sub` (optionally to one city) streams fleet snapshots and every job change.
import { ProtocolError } from '../protocol/errors.js';
import { parseOpsMessage } from '../protocol/validate.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { Sock } from './delivery.js';
import { replyOk } from './sockets.js';
import type { RoleHandler, SocketDeps } from './sockets.js';

export function opsHandler(deps: SocketDeps, fleet: FleetRegistry): RoleHandler {
  const { hub } = deps;
  return {
    open() {},
    message(ws: Sock, raw) {
      const m = parseOpsMessage(raw);
      if (m.t === 'unsub') hub.removeOps(ws);
      else {
        if (m.city !== undefined && !fleet.city(m.city)) throw new ProtocolError('not_found', `no city ${m.city}`);
        hub.addOps(ws, m.city ?? null);
      }
      replyOk(deps, ws, m.id);
    },
    close() {},
  };
}
