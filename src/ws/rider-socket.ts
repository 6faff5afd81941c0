// Rider socket: follow one's own jobs (`sub`/`unsub`), receiving `job` and `pos` frames.
import type { JobService } from '../matching/job-service.js';
import { ProtocolError } from '../protocol/errors.js';
import { parseRiderMessage } from '../protocol/validate.js';
import type { Sock } from './delivery.js';
import { replyOk } from './sockets.js';
import type { RoleHandler, SocketDeps } from './sockets.js';

/** Most jobs one rider socket may follow at once. */
const MAX_FOLLOWED = 100;

export function riderHandler(deps: SocketDeps, jobs: JobService): RoleHandler {
  const { hub } = deps;
  return {
    open() {},
    message(ws: Sock, raw) {
      const ud = ws.getUserData();
      const m = parseRiderMessage(raw);
      if (m.t === 'unsub') {
        hub.unfollow(m.job, ws);
        return replyOk(deps, ws, m.id);
      }
      if (ud.jobs.size >= MAX_FOLLOWED && !ud.jobs.has(m.job)) throw new ProtocolError('rate_limited', `at most ${MAX_FOLLOWED} jobs per socket`);
      return async () => {
        // Follow first, then read: a change committed in between is then delivered, not lost.
        const already = ud.jobs.has(m.job);
        hub.follow(m.job, ws);
        const rec = await jobs.find(m.job);
        if (!rec || rec.rider !== ud.sub) {
          if (!already) hub.unfollow(m.job, ws);
          throw new ProtocolError('not_found', `no job ${m.job} for this rider`);
        }
        if (ud.closed) return;
        replyOk(deps, ws, m.id);
        hub.delivery.reliable(ws, jobs.frameOf(rec));
      };
    },
    close() {},
  };
}
