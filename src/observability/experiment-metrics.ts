// Prometheus metrics of switchback experiments, labelled by city, experiment and arm (docs/architecture.md, "Experiments").
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

type ArmLabels = 'city' | 'experiment' | 'arm';
/** Job times of an experiment, seconds: from a near-instant offer to a long wait for a pickup. */
const SECONDS_BUCKETS = [0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

/**
 * Every node hears every job change of the cluster (the delivery bus), so every node counts every
 * experiment job: aggregate these across nodes with `max`, not `sum`.
 */
export class ExperimentMetrics {
  readonly jobs: Counter<ArmLabels | 'state'>;
  readonly fulfilled: Counter<ArmLabels>;
  readonly offers: Counter<ArmLabels>;
  readonly timeToFirstOffer: Histogram<ArmLabels>;
  readonly timeToAccept: Histogram<ArmLabels>;
  readonly pickupEta: Histogram<ArmLabels>;
  readonly pickupWait: Histogram<ArmLabels>;
  readonly utilisation: Gauge<ArmLabels>;
  readonly untracked: Counter<'reason'>;

  constructor(registry: Registry) {
    const labelNames = ['city', 'experiment', 'arm'] as const;
    const registers = [registry];
    const seconds = (name: string, help: string): Histogram<ArmLabels> =>
      new Histogram({ name: `taxiway_experiment_${name}_seconds`, help, labelNames, buckets: SECONDS_BUCKETS, registers });
    this.jobs = new Counter({
      name: 'taxiway_experiment_jobs_total', help: 'Ended jobs of experiment arms, by final state (completed, cancelled, unfulfilled)',
      labelNames: [...labelNames, 'state'] as const, registers,
    });
    this.fulfilled = new Counter({ name: 'taxiway_experiment_jobs_fulfilled_total', help: 'Ended jobs of experiment arms that got a driver (were accepted)', labelNames, registers });
    this.offers = new Counter({ name: 'taxiway_experiment_offers_total', help: 'Offers made for ended jobs of experiment arms', labelNames, registers });
    this.timeToFirstOffer = seconds('time_to_first_offer', 'Job creation to its first offer, experiment jobs');
    this.timeToAccept = seconds('time_to_accept', 'Job creation to a driver accepting, experiment jobs');
    this.pickupEta = seconds('pickup_eta', 'Predicted pickup ETA when the driver accepted, experiment jobs');
    this.pickupWait = seconds('pickup_wait', 'Actual pickup wait, accepted to arrived, experiment jobs');
    this.utilisation = new Gauge({
      name: 'taxiway_experiment_driver_utilisation_ratio', help: 'Busy drivers / online drivers in the city at the last sample, under the arm running then',
      labelNames, registers,
    });
    this.untracked = new Counter({
      name: 'taxiway_experiment_observations_dropped_total',
      help: 'Experiment observations dropped: evicted (past TAXIWAY_EXPERIMENT_JOBS_TRACKED), too_old (window no longer kept), unknown_arm (arm not in the configuration)',
      labelNames: ['reason'] as const, registers,
    });
    for (const r of ['evicted', 'too_old', 'unknown_arm'] as const) this.untracked.inc({ reason: r }, 0);
  }
}
