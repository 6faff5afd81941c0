// TAXIWAY_SERVE_CITIES and TAXIWAY_PUBLIC_URL: parsed, checked against the live cities, a bad one stops the start in one line naming the setting.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadConfig } from '../src/config/load-config.js';
import { ServedCities, checkServedCities, publicUrlFromEnv, servedCitiesFromEnv } from '../src/config/serve-cities.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const city = (name: string) => ({ name, timezone: 'UTC', boundary: null });

t.test('TAXIWAY_SERVE_CITIES: unset, empty or * serves every city; a list serves those', async (t) => {
  for (const v of [undefined, '', '*', ' * ']) t.ok(servedCitiesFromEnv({ TAXIWAY_SERVE_CITIES: v }).all, `${JSON.stringify(v)}: every city`);
  const s = servedCitiesFromEnv({ TAXIWAY_SERVE_CITIES: 'porto, lisbon' });
  t.notOk(s.all);
  t.ok(s.serves('porto') && s.serves('lisbon'));
  t.notOk(s.serves('madrid'), 'a city created later is not served by a node with a list');
  t.ok(ServedCities.everyCity().serves('madrid'), 'but by a node serving every city');
  t.same(s.list(), ['porto', 'lisbon']);
  t.throws(() => servedCitiesFromEnv({ TAXIWAY_SERVE_CITIES: 'porto,,lisbon' }), /^TAXIWAY_SERVE_CITIES=porto,,lisbon: "" is not a city name/);
  t.throws(() => servedCitiesFromEnv({ TAXIWAY_SERVE_CITIES: 'porto,porto' }), /^TAXIWAY_SERVE_CITIES=porto,porto: a city is named twice/);
  t.throws(() => servedCitiesFromEnv({ TAXIWAY_SERVE_CITIES: 'são paulo' }), /TAXIWAY_SERVE_CITIES=são paulo: "são paulo" is not a city name/);
});

t.test('every named city must be a live city', async (t) => {
  checkServedCities(ServedCities.listed(['porto']), [city('porto'), city('lisbon')]);
  checkServedCities(ServedCities.everyCity(), []);
  t.throws(() => checkServedCities(ServedCities.listed(['porto', 'atlantis']), [city('porto'), city('lisbon')]),
    /^TAXIWAY_SERVE_CITIES=porto,atlantis: no city named atlantis in the cities config \(TAXIWAY_CITIES or the admin catalog\); known: porto, lisbon$/);
});

t.test('TAXIWAY_PUBLIC_URL: an http(s) URL of at most 56 characters', async (t) => {
  t.equal(publicUrlFromEnv({}), undefined);
  t.equal(publicUrlFromEnv({ TAXIWAY_PUBLIC_URL: 'https://porto.api.example.com/' }), 'https://porto.api.example.com');
  t.equal(publicUrlFromEnv({ TAXIWAY_PUBLIC_URL: 'http://10.0.0.7:8080/porto' }), 'http://10.0.0.7:8080/porto');
  t.throws(() => publicUrlFromEnv({ TAXIWAY_PUBLIC_URL: 'ws://x' }), /^TAXIWAY_PUBLIC_URL=ws:\/\/x: expected an http/);
  t.throws(() => publicUrlFromEnv({ TAXIWAY_PUBLIC_URL: 'nope' }), /^TAXIWAY_PUBLIC_URL=nope: not a URL/);
  t.throws(() => publicUrlFromEnv({ TAXIWAY_PUBLIC_URL: `https://${'a'.repeat(60)}.com` }), /at most 56 characters/);
  t.throws(() => loadConfig({ TAXIWAY_NODE_HEARTBEAT_MS: '5000', TAXIWAY_NODE_TTL_MS: '6000' }), /^TAXIWAY_NODE_TTL_MS=6000: at least twice TAXIWAY_NODE_HEARTBEAT_MS/);
});

t.test('taxiway serve: a city no cities config defines stops the start (exit 2) in one line naming TAXIWAY_SERVE_CITIES', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-serve-cities-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cities = path.join(dir, 'cities.json');
  const sq = (a: number, b: number) => ({ type: 'Polygon', coordinates: [[[a, b], [a + 1, b], [a + 1, b + 1], [a, b + 1], [a, b]]] });
  fs.writeFileSync(cities, JSON.stringify({ cities: [{ name: 'porto', timezone: 'Europe/Lisbon', boundary: sq(-9, 41) }, { name: 'lisbon', timezone: 'Europe/Lisbon', boundary: sq(-10, 38) }] }));
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/taxiway.js'), 'serve'], {
      env: { PATH: process.env.PATH ?? '', TAXIWAY_DATA_DIR: path.join(dir, 'data'), TAXIWAY_CITIES: cities, TAXIWAY_SERVE_CITIES: 'porto,atlantis', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  t.equal(r.code, 2, 'a configuration error');
  t.match(r.stderr, /TAXIWAY_SERVE_CITIES=porto,atlantis: no city named atlantis/);
  t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
});
