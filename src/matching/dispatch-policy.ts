// Dispatch policy choice: which policy (and which experiment arm) dispatches a city's job, decided when the job is created.
import type { DispatchSettings } from '../config/dispatch-settings.js';
import type { JobDoc } from './job-repo.js';

/** Names of the dispatch policies (docs/architecture.md, "Dispatch"). */
export const POLICY_NAMES = ['greedy', 'batched'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * What dispatches one job: a policy, the settings it overrides for that job (on top of the city's), and,
 * when a switchback experiment is running in the city, the arm the job belongs to (recorded on the job).
 */
export interface PolicyChoice {
  policy: PolicyName;
  /** Settings this arm overrides on top of the city's dispatch settings. */
  params?: Partial<DispatchSettings>;
  /** The experiment arm, `<experiment>/<arm>`; absent outside an experiment. */
  arm?: string;
}

/**
 * Chooses the policy of a job created in `city` at `createdMs` (ms since the epoch). Must be a pure
 * function of its arguments and configuration, so every node of a cluster chooses the same.
 */
export type PolicySelector = (city: string, createdMs: number) => PolicyChoice;

/**
 * A dispatch policy: how a job of its kind gets its next offer. Whatever the policy, offers go through the
 * same path (`OfferMaker`: compare-and-set commit with the driver's claim, durable expiry timer, `offer`
 * frame), so the guarantees of one offer per job and per driver hold for every policy.
 */
export interface DispatchPolicy {
  readonly name: PolicyName;
  /**
   * `doc` is `dispatching` without an offer (created, declined, expired, given back, woken by a driver,
   * or by its search timer): make its next offer now (greedy) or at the city's next batch (batched), or
   * leave it waiting in its search window, or end it `unfulfilled`. Lost races are retried, not thrown.
   */
  dispatch(doc: JobDoc, s: DispatchSettings): Promise<void>;
}
