// The policy of a city outside any experiment: until per-city policies exist, every city dispatches with `greedy`.
import type { PolicySelector } from './dispatch-policy.js';

/**
 * The selector used when no experiment runs in a city. Placeholder for the per-city `dispatch.policy`
 * selector (issue #13, item 3): same signature, so replacing it changes one line of src/app.ts.
 */
export const defaultPolicySelector: PolicySelector = () => ({ policy: 'greedy' });
