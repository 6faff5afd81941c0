// Rider socket: follow one's own jobs (`sub`/`unsub`), receiving `job` and `pos` frames.
import type { JobService } from '../matching/job-service.js';
import { ProtocolError } from '../protocol/errors.js';
import { parseRiderMessage } from '../protocol/validate.js';
import type { Sock } from './delivery.js';
import { replyOk } from './sockets.js';
import type { CityRouting } from './city-routing.js';
import type { RoleHandler, SocketDeps } from './sockets.js';

/** Most jobs one rider socket may follow at once, counting `sub`s still waiting for their answer. */
export const MAX_FOLLOWED = 100;

export function riderHandler(deps: SocketDeps, jobs: JobService, routing: CityRouting): RoleHandler {
  const { hub } = deps;
  return {
    open() {},
    message(ws: Sock, raw) {
      const ud = ws.getUserData();
      const m = parseRiderMessage(raw);
      if (m.t === 'unsub') {
        const unsub = (): void => {
          hub.unfollow(m.job, ws);
          replyOk(deps, ws, m.id);
        };
        // Behind a pending `sub` of the same socket, `unsub` waits its turn: run now, it would be undone.
        if (ud.actions === 0) return unsub();
        return async () => unsub();
      }
      // Every pending action of a rider socket is a `sub`/`unsub`: counting them with the followed jobs keeps
      // a burst of `sub`s (all checked before the first one is answered) within the limit. Actions run one
      // at a time, so at most one of them has already followed its job and must not count twice.
      const pending = ud.actions - (ud.subFollowed ? 1 : 0);
      if (!ud.jobs.has(m.job) && ud.jobs.size + pending >= MAX_FOLLOWED) throw new ProtocolError('rate_limited', `at most ${MAX_FOLLOWED} jobs per socket`);
      return async () => {
        // Ownership first: the socket joins the job's followers only once the job is known to be this
        // rider's, so no frame of a stranger's job can reach it (in a cluster, job frames reach every node).
        const rec = await jobs.find(m.job);
        if (!rec || rec.rider !== ud.sub) throw new ProtocolError('not_found', `no job ${m.job} for this rider`);
        if (ud.closed) return;
        // A job of a city served elsewhere: the rider's socket belongs on a node of that city.
        if (!routing.serves(rec.city)) return routing.redirect(ws, rec.city);
        if (ud.jobs.has(m.job)) {
          replyOk(deps, ws, m.id);
          hub.delivery.reliable(ws, jobs.frameOf(rec));
          return;
        }
        if (ud.jobs.size >= MAX_FOLLOWED) throw new ProtocolError('rate_limited', `at most ${MAX_FOLLOWED} jobs per socket`);
        hub.follow(m.job, ws);
        ud.subFollowed = true;
        try {
          // Read again after following: a change committed between the first read and the follow is then
          // in this read, and every later one is delivered live.
          const now = (await jobs.find(m.job)) ?? rec;
          if (ud.closed) return;
          replyOk(deps, ws, m.id);
          hub.delivery.reliable(ws, jobs.frameOf(now));
        } finally {
          ud.subFollowed = false;
        }
      };
    },
    close() {},
  };
}
