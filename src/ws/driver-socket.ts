// Driver socket: hello on connect, fixes into ingest, status and job answers into matching.
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { Ingest } from '../ingest/ingest.js';
import { FixVerdict } from '../ingest/jump-filter.js';
import type { JobService } from '../matching/job-service.js';
import { encodeFrame, msInt } from '../protocol/codec.js';
import { CloseCodes, ProtocolError } from '../protocol/errors.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { Fix } from '../protocol/messages.js';
import { fixNumbersValid, parseDriverMessage } from '../protocol/validate.js';
import { LOC_OK, LocScratch, decodeLoc } from '../protocol/fast-loc.js';
import { IdFrame } from '../protocol/id-frame.js';
import { LocsPeek, peekLocs } from '../protocol/locs-peek.js';
import { Limits } from '../protocol/messages.js';
import type { Sock } from './delivery.js';
import type { DriverConfig } from './driver-config.js';
import type { CityRouting } from './city-routing.js';
import { errFrame, replyOk } from './sockets.js';
import type { RoleHandler, SocketDeps } from './sockets.js';

const OVERLOADED_MSG = 'server overloaded: fix not stored, send it again later';
const OVERLOADED = new IdFrame({ t: 'err', code: 'unavailable', msg: OVERLOADED_MSG });
const LIMITED_MSG = 'fix budget spent: fix not stored, send it again later';
const LIMITED = new IdFrame({ t: 'err', code: 'rate_limited', msg: LIMITED_MSG });

/** `config`: the driver app's settings, sent as a `config` frame right after `hello` (docs/protocol.md). */
export function driverHandler(deps: SocketDeps, ingest: Ingest, jobs: JobService, fleet: FleetRegistry, fixIntervalMs: number, config: DriverConfig, routing: CityRouting): RoleHandler {
  const { hub } = deps;
  const reasonOf = (v: number, fix: Fix): string =>
    v === FixVerdict.overloaded
      ? OVERLOADED_MSG
      : v === FixVerdict.rateLimited
      ? LIMITED_MSG
      : v === FixVerdict.future
      ? `ts ${fix.ts} is more than 60 s in the future`
      : `jump: reaching ${fix.lat},${fix.lng} at ts ${fix.ts} implies more than 250 km/h from the last accepted fix`;
  const codeOf = (v: number): ErrorCode =>
    v === FixVerdict.overloaded ? 'unavailable' : v === FixVerdict.rateLimited ? 'rate_limited' : 'bad_location';
  const scratch = new LocScratch();
  const peek = new LocsPeek();
  // One reused Fix for the fast path: ingest copies what it keeps, so no fix object is made per frame.
  const fix: Fix = { ts: 0, lat: 0, lng: 0, hdg: NaN, spd: NaN, acc: NaN };
  /**
   * A `locs` frame from a driver whose budget is already spent is refused whole before its points are
   * decoded: every point counts as `limited` (none is read, so none is judged or validated). Refusing a
   * flood must cost less than serving it, so one flooding socket cannot crowd out the others.
   */
  const refuseSpentLocs = (ws: Sock, driver: string, bytes: Uint8Array): boolean => {
    if (!ingest.budgetSpent(driver, Date.now()) || !peekLocs(bytes, Limits.maxLocsPoints, peek)) return false;
    const n = peek.count;
    ingest.countLimited(n);
    const id = peek.id === peek.id ? peek.id : undefined;
    if (id !== undefined) {
      hub.delivery.reliable(ws, encodeFrame({ t: 'ack', id, accepted: 0, rejected: 0, duplicates: 0, limited: n }));
    } else if (n > 0) {
      deps.metrics.limitedFrames++;
      hub.delivery.reliable(ws, errFrame(undefined, 'rate_limited', `0 of ${n} points rejected, ${n} rate-limited; first: ${LIMITED_MSG}`));
    }
    return true;
  };
  return {
    fast(ws, ud, bytes) {
      const s = scratch;
      if (decodeLoc(bytes, s) !== LOC_OK) return refuseSpentLocs(ws, ud.sub, bytes);
      if (!fixNumbersValid(s.ts, s.lat, s.lng, s.hdg, s.spd, s.acc)) return false;
      fix.ts = s.ts;
      fix.lat = s.lat;
      fix.lng = s.lng;
      fix.hdg = s.hdg;
      fix.spd = s.spd;
      fix.acc = s.acc;
      const id = s.id === s.id ? s.id : undefined;
      const v = ingest.accept(ud.sub, fix, Date.now());
      if (v === FixVerdict.overloaded) {
        // Shedding must cost less than accepting: a patched, pre-encoded err and a plain tally.
        deps.metrics.shedFrames++;
        hub.delivery.reliableScratch(ws, OVERLOADED.with(id));
      } else if (v === FixVerdict.rateLimited) {
        deps.metrics.limitedFrames++;
        hub.delivery.reliableScratch(ws, LIMITED.with(id));
      } else if (v >= FixVerdict.future) {
        // Same accounting as the general path, which counts every `err` it answers.
        deps.metrics.wsBadFrames.inc({ role: 'driver', code: 'bad_location' });
        hub.delivery.reliable(ws, errFrame(id, 'bad_location', reasonOf(v, fix)));
      } else replyOk(deps, ws, id);
      return true;
    },
    open(ws) {
      const ud = ws.getUserData();
      const driver = ud.sub;
      const old = hub.addDriver(driver, ws);
      // A copy of the driver in a city served elsewhere is stale here (that city is not mirrored to this node):
      // its next fix places it anew, and is handed over again if it is still there.
      const was = fleet.cityNameOf(driver);
      if (was !== null && !routing.serves(was)) fleet.forget(driver);
      // The newest socket's token says what the driver serves (set before any of its fixes is ingested).
      fleet.setDriverProducts(driver, ud.products);
      hub.delivery.reliable(ws, encodeFrame({ t: 'hello', driver, interval_ms: fixIntervalMs, server_ts: msInt(Date.now()) }));
      config.send(ws, fleet.cityNameOf(driver));
      ud.chain = (async () => {
        if (old) {
          old.getUserData().closed = true;
          old.end(CloseCodes.replaced, 'replaced by a newer connection');
          // The offer went to the old socket, which is now closed: that counts as a decline.
          await jobs.declineHeldOffer(driver);
        }
        const active = await jobs.activeJobFrame(driver);
        if (active && !ud.closed) hub.delivery.reliable(ws, active);
      })().catch((err) => deps.logger.error({ err, driver }, 'driver reconnect handling failed'));
    },
    message(ws: Sock, raw) {
      const driver = ws.getUserData().sub;
      const m = parseDriverMessage(raw);
      switch (m.t) {
        case 'loc': {
          const v = ingest.accept(driver, m.fix, Date.now());
          if (v >= FixVerdict.future) throw new ProtocolError(codeOf(v), reasonOf(v, m.fix));
          return replyOk(deps, ws, m.id);
        }
        case 'locs': {
          const now = Date.now();
          let accepted = 0;
          let rejected = 0;
          let duplicates = 0;
          let limited = 0;
          let firstError: ProtocolError | null = null;
          for (const p of m.pts) {
            if (typeof p === 'string') {
              rejected++;
              ingest.countInvalid();
              firstError ??= new ProtocolError('bad_request', p);
              continue;
            }
            const v = ingest.accept(driver, p, now);
            if (v === FixVerdict.live || v === FixVerdict.history) accepted++;
            else if (v === FixVerdict.duplicate) duplicates++;
            else if (v === FixVerdict.rateLimited) {
              // Not in `rejected`: a rejected point is bad and must not be sent again, a limited one may be.
              limited++;
              firstError ??= new ProtocolError('rate_limited', LIMITED_MSG);
            } else {
              rejected++;
              firstError ??= new ProtocolError(codeOf(v), reasonOf(v, p));
            }
          }
          if (m.id !== undefined) {
            hub.delivery.reliable(ws, encodeFrame({ t: 'ack', id: m.id, accepted, rejected, duplicates, limited }));
          } else if (firstError) {
            // No id: success is silent, but a failure must be answered; one err names the first refused point.
            if (firstError.code === 'rate_limited') deps.metrics.limitedFrames++;
            else deps.metrics.wsBadFrames.inc({ role: 'driver', code: firstError.code });
            hub.delivery.reliable(ws, errFrame(undefined, firstError.code, `${rejected} of ${m.pts.length} points rejected, ${limited} rate-limited; first: ${firstError.message}`));
          }
          return;
        }
        case 'status':
          return async () => {
            await jobs.setDriverStatus(driver, m.s);
            replyOk(deps, ws, m.id);
          };
        default:
          return async () => {
            // The job frame this action caused goes out first, then the ack (docs/protocol.md, order of replies).
            const frame = await jobs.driverAction(driver, m.t, m.job);
            if (frame) hub.ownJobFrame(ws, frame);
            replyOk(deps, ws, m.id);
          };
      }
    },
    close(ws) {
      const driver = ws.getUserData().sub;
      // A shutdown closes every socket: that is not the driver going away (its offer and status stay for
      // the node that resumes them, or for the node its app reconnects to).
      if (!hub.removeDriver(driver, ws)) return; // replaced: the newer socket's products stand
      fleet.forgetDriverProducts(driver);
      // Handed over to a node serving its city: its status, offer and job go on there.
      if (ws.getUserData().redirected) return;
      if (deps.accepting()) {
        jobs.driverDisconnected(driver, () => hub.driverSocket(driver) !== undefined).catch((err) => deps.logger.error({ err, driver }, 'driver disconnect handling failed'));
      }
    },
  };
}
