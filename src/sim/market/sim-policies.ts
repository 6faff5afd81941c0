// Which dispatch policies the marketplace simulator can run: the ones the real Dispatcher of this build runs, chosen through a PolicySelector.
import { POLICY_NAMES } from '../../matching/dispatch-policy.js';
import type { PolicyName, PolicySelector } from '../../matching/dispatch-policy.js';

/** Policies the Dispatcher of this build runs: all of them (the policy port, issue #13 item 3, since 2026-12-04). */
export const SIM_POLICIES: readonly PolicyName[] = POLICY_NAMES;

/** The policy named `name`, or an Error saying why the simulator cannot run it. */
export function checkPolicy(name: string): PolicyName | Error {
  if (!(POLICY_NAMES as readonly string[]).includes(name)) return new Error(`--policy ${name} is not a dispatch policy (${POLICY_NAMES.join(', ')})`);
  if (!SIM_POLICIES.includes(name as PolicyName)) {
    return new Error(`--policy ${name} is not available: this build's Dispatcher runs only ${SIM_POLICIES.join(', ')} (${name} comes with the dispatch policy port, issue #13 item 3)`);
  }
  return name as PolicyName;
}

/** A selector that gives every job of every city `policy`: one run of the simulator is one policy. */
export function onlyPolicy(policy: PolicyName): PolicySelector {
  const choice = { policy };
  return () => choice;
}
