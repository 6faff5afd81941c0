// Where zone enter/exit events go: a `zone` frame to ops dashboards (encoded once), a metric, and the log (the driver's zone history).
import type { JobNotifier } from '../bus/deliveries.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { encodeFrame, msInt } from '../protocol/codec.js';
import type { ZoneListener } from './zone-watch.js';

/**
 * Zone listener: every event becomes one `zone` frame for the ops dashboards of its city on every node
 * (docs/protocol.md, ops socket), one count of `taxiway_zone_events_total{kind,ev}`, and one `info` log
 * line (`c: "zones"`, `msg: "zone event"`): the history store holds fixes and job events only, so the
 * log is where a driver's zone history is kept (docs/architecture.md, "Zones").
 */
export function zoneEventsOut(notifier: Pick<JobNotifier, 'toOps'>, metrics: Pick<Metrics, 'zoneEvents'>, logger: Logger): ZoneListener {
  return (driver, zone, ev, ts) => {
    notifier.toOps(zone.city, encodeFrame({ t: 'zone', driver, zone: zone.id, city: zone.city, kind: zone.kind, ev, ts: msInt(ts) }));
    metrics.zoneEvents.inc({ kind: zone.kind, ev });
    logger.info({ driver, zone: zone.id, city: zone.city, kind: zone.kind, ev, ts }, 'zone event');
  };
}
