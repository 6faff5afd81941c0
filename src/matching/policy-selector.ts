// The default policy selector: each city's `dispatch.policy` (else TAXIWAY_DISPATCH_POLICY), checked at start-up.
import { ConfigError } from '../config/config-error.js';
import type { CityDef } from '../config/cities.js';
import { POLICY_NAMES } from './dispatch-policy.js';
import type { PolicyName, PolicySelector } from './dispatch-policy.js';

function isPolicy(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/**
 * The selector of a configuration without experiments: a city's own `dispatch.policy`, else `fallback`
 * (TAXIWAY_DISPATCH_POLICY). Throws ConfigError naming the field when a name is not a policy.
 */
export function cityPolicySelector(cities: readonly CityDef[], fallback: string, where = 'TAXIWAY_CITIES'): PolicySelector {
  if (!isPolicy(fallback)) throw new ConfigError(`TAXIWAY_DISPATCH_POLICY=${fallback}: not a dispatch policy (${POLICY_NAMES.join(', ')})`);
  const byCity = new Map<string, PolicyName>();
  cities.forEach((c, i) => {
    const p = c.dispatch?.policy;
    if (p === undefined) return;
    if (!isPolicy(p)) throw new ConfigError(`${where}: cities[${i}].dispatch.policy ${JSON.stringify(p)} is not a dispatch policy (${POLICY_NAMES.join(', ')})`);
    byCity.set(c.name, p);
  });
  return (city) => ({ policy: byCity.get(city) ?? fallback });
}
