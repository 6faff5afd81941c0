// Composition of the airport queues: membership (QueueKeeper), driver frames (QueueFrames) and queue-first dispatch (QueueCandidates) over one ZoneQueue.
import type { Bus } from '../bus/bus.js';
import type { ZoneIndex } from '../catalog/zone-index.js';
import type { EtaModel } from '../eta/eta-model.js';
import type { FleetRegistry } from '../fleet/fleet-registry.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Clock } from '../util/clock.js';
import { QueueCandidates } from './queue-candidates.js';
import { QueueFrames } from './queue-frames.js';
import type { LocalDrivers } from './queue-frames.js';
import { QueueKeeper } from './queue-keeper.js';
import type { ZoneQueue } from './zone-queue.js';
import type { ZoneWatch } from './zone-watch.js';

export interface AirportQueuesDeps {
  queue: ZoneQueue;
  bus: Bus;
  zoneIndex: ZoneIndex;
  zoneWatch: ZoneWatch;
  fleet: FleetRegistry;
  eta: EtaModel;
  local: LocalDrivers;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  settings: { maxLength: number; frameMs: number; lengthFrameMs: number; offlineGraceMs: number };
}

export interface AirportQueues {
  keeper: QueueKeeper;
  frames: QueueFrames;
  candidates: QueueCandidates;
}

/** The three parts, wired to each other; the caller adds the keeper's listeners and starts the frames. */
export function airportQueues(d: AirportQueuesDeps): AirportQueues {
  const { maxLength, frameMs, lengthFrameMs, offlineGraceMs } = d.settings;
  const frames = new QueueFrames({ queue: d.queue, bus: d.bus, local: d.local, frameMs, lengthFrameMs, maxLength, metrics: d.metrics, logger: d.logger, clock: d.clock });
  const keeper = new QueueKeeper({
    queue: d.queue, statusOf: (id) => d.fleet.statusOf(id), zoneOf: (id) => d.zoneWatch.zoneOf(id), maxLength, offlineGraceMs,
    metrics: d.metrics, logger: d.logger, clock: d.clock, changed: frames.changed, touched: frames.touched,
  });
  const candidates = new QueueCandidates({
    queue: d.queue, fleet: d.fleet, eta: d.eta, metrics: d.metrics,
    airportAt: (city, lat, lng) => d.zoneIndex.find(city, lat, lng, 'airport_queue')?.def,
    prune: (driver, q) => keeper.leave(driver, q, 'pruned'), logger: d.logger,
  });
  return { keeper, frames, candidates };
}
