// Switchback experiments in the cities file: a valid one loads typed; every bad field is a ConfigError naming it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadCities } from '../src/config/cities.js';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';
import { checkExperimentPolicies } from '../src/matching/switchback.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-experiments-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(experiments: unknown): string {
  const f = path.join(dir, `cities-${n++}.json`);
  fs.writeFileSync(f, JSON.stringify({ cities: [{ name: 'porto', timezone: 'Europe/Lisbon', boundary: null, experiments }] }));
  return f;
}
const arms = [{ name: 'a', policy: 'greedy' }, { name: 'b', policy: 'greedy', params: { radiusM: 2000 } }];
const good = { name: 'radius', arms, windowMs: 600_000, seed: 7 };

function failure(experiments: unknown): string {
  try {
    const cities = loadCities(file(experiments));
    checkExperimentPolicies(cities);
    return 'loaded';
  } catch (e) {
    return e instanceof ConfigError ? e.message : String(e);
  }
}

t.test('a valid experiment loads typed, with times as ISO or ms', async (t) => {
  const [city] = loadCities(file([{ ...good, start: '2026-12-07T00:00:00Z', end: 1_800_000_000_000 }]));
  t.same(city!.experiments, [{
    name: 'radius', windowMs: 600_000, seed: 7, startMs: Date.parse('2026-12-07T00:00:00Z'), endMs: 1_800_000_000_000,
    arms: [{ name: 'a', policy: 'greedy' }, { name: 'b', policy: 'greedy', params: { radiusM: 2000 } }],
  }]);
  t.equal(failure([{ ...good, arms: [{ ...arms[0], share: 0.3 }, { ...arms[1], share: 0.7 }] }]), 'loaded', 'shares summing to 1');
  t.equal(failure([{ ...good, arms: [{ ...arms[0], share: 0.1 }, { ...arms[1], share: 0.2 }, { name: 'c', policy: 'greedy', share: 0.7 }] }]), 'loaded', '0.1 + 0.2 + 0.7');
  const config = loadConfig({ TAXIWAY_CITIES: file([good]), TAXIWAY_DATA_DIR: dir, TAXIWAY_EXPERIMENT_WINDOWS_KEPT: '50' });
  t.equal(config.experimentLimits.windowsKept, 50);
});

t.test('shares out of range or not summing to 1 are refused, naming share', async (t) => {
  t.match(failure([{ ...good, arms: [{ ...arms[0], share: 0 }, { ...arms[1], share: 1 }] }]), /experiments\[0\]\.arms\[0\]\.share=0: expected a number greater than 0 and less than 1/);
  t.match(failure([{ ...good, arms: [{ ...arms[0], share: 0.5 }, { ...arms[1], share: 1.5 }] }]), /arms\[1\]\.share=1\.5/);
  t.match(failure([{ ...good, arms: [{ ...arms[0], share: '0.5' }, { ...arms[1], share: 0.5 }] }]), /arms\[0\]\.share="0\.5"/);
  t.match(failure([{ ...good, arms: [{ ...arms[0], share: 0.4 }, { ...arms[1], share: 0.4 }] }]), /arms\[\]\.share: the shares sum to 0\.8, expected 1/);
  t.match(failure([{ ...good, arms: [{ ...arms[0], share: 0.4 }, arms[1]] }]), /arms\[\]\.share: give a share to every arm or to none/);
});

t.test('windows out of range are refused, naming windowMs', async (t) => {
  t.match(failure([{ ...good, windowMs: 999 }]), /experiments\[0\]\.windowMs=999: expected an integer from 1000 to 86400000/);
  t.match(failure([{ ...good, windowMs: 86_400_001 }]), /windowMs=86400001/);
  t.match(failure([{ ...good, windowMs: 1500.5 }]), /windowMs=1500\.5/);
  t.match(failure([{ name: 'x', arms, seed: 1 }]), /windowMs=undefined/);
});

t.test('unknown policy, bad params, duplicate names and other bad fields are refused, naming the field', async (t) => {
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b', policy: 'fastest' }] }]), /cities\[0\]\.experiments\[0\]\.arms\[1\]\.policy "fastest" is not a dispatch policy \(greedy, batched\)/);
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b' }] }]), /arms\[1\]\.policy must be the name of a dispatch policy/);
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b', policy: 'greedy', params: { radiusM: 5 } }] }]), /arms\[1\]\.params\.radiusM=5: expected an integer from 10 to 1000000/);
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b', policy: 'greedy', params: { speed: 5 } }] }]), /arms\[1\]\.params\.speed is not a dispatch setting/);
  t.match(failure([{ ...good, arms: [arms[0], { ...arms[0] }] }]), /arms\[1\]\.name a is used twice/);
  t.match(failure([{ ...good, arms: [arms[0]] }]), /experiments\[0\]\.arms must be an array of 2 to 8 arms/);
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b c', policy: 'greedy' }] }]), /arms\[1\]\.name must be 1-64/);
  t.match(failure([{ ...good, arms: [arms[0], { name: 'b', policy: 'greedy', weight: 2 }] }]), /arms\[1\]\.weight is not an arm field/);
  t.match(failure([good, { ...good }]), /experiments\[1\]\.name radius is used twice/);
  t.match(failure([good, { ...good, name: 'other' }]), /experiments\[1\]\.start\/end: other overlaps radius in time/);
  t.equal(failure([{ ...good, end: 1_000_000_000_000 }, { ...good, name: 'later', start: 1_000_000_000_000 }]), 'loaded', 'back to back does not overlap');
  t.match(failure([{ ...good, seed: -1 }]), /experiments\[0\]\.seed=-1: expected an integer from 0 to 4294967295/);
  t.match(failure([{ ...good, seed: 2 ** 32 }]), /seed=4294967296/);
  t.match(failure([{ ...good, start: 'monday' }]), /experiments\[0\]\.start="monday": expected ms since the epoch or an ISO 8601/);
  t.match(failure([{ ...good, start: '2026-12-07T00:00:00' }]), /start="2026-12-07T00:00:00"/, 'an ISO time without its zone is ambiguous');
  t.match(failure([{ ...good, start: 1_000_000, end: 1_000_500 }]), /experiments\[0\]\.end must be at least one window/);
  t.match(failure([{ ...good, colour: 'red' }]), /experiments\[0\]\.colour is not an experiment field/);
  t.match(failure({ ...good }), /cities\[0\]\.experiments must be an array/);
  t.match(failure(['x']), /experiments\[0\] must be an object/);
});
