// Identity-provider tokens: RS256/ES256 signed by a key set served over HTTP, on a real node's sockets and routes;
// key rotation, the refetch limit, and refusals (issuer, audience, expiry, alg none, algorithm confusion, role).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import t from 'tap';
import { SignJWT } from 'jose';
import { JwksKeys } from '../src/auth/jwks.js';
import { TokenVerifier } from '../src/auth/tokens.js';
import { Client, http as call, removeDir, sleep, startServer } from './helpers/server.js';

const ISS = 'https://idp.example.test/realms/taxiway';
const AUD = 'taxiway-api';

interface Pair { kid: string; alg: 'RS256' | 'ES256'; priv: KeyObject; pub: KeyObject }
function pair(kid: string, alg: 'RS256' | 'ES256'): Pair {
  const kp = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, priv: kp.privateKey, pub: kp.publicKey };
}
const jwk = (p: Pair): object => ({ ...p.pub.export({ format: 'jwk' }), kid: p.kid, alg: p.alg, use: 'sig' });

/** A JWKS endpoint whose key set the test swaps, counting fetches. */
async function keySetServer(keys: Pair[]): Promise<{ url: string; fetches: () => number; serve(k: Pair[]): void; close(): Promise<void> }> {
  let doc = JSON.stringify({ keys: keys.map(jwk) });
  let n = 0;
  const srv = http.createServer((_req, res) => {
    n++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(doc);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/.well-known/jwks.json`,
    fetches: () => n,
    serve: (k) => { doc = JSON.stringify({ keys: k.map(jwk) }); },
    close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

interface Claims { sub?: string; role?: unknown; iss?: string; aud?: string | string[]; expS?: number; nbfS?: number; products?: string[]; [k: string]: unknown }
/** A token signed by `p` with the right issuer and audience unless `c` overrides them. */
function sign(p: Pair, c: Claims = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { sub = 'd1', role = 'driver', iss = ISS, aud = AUD, expS = now + 600, nbfS, ...rest } = c;
  const j = new SignJWT({ role, ...rest }).setProtectedHeader({ alg: p.alg, kid: p.kid, typ: 'JWT', ...header })
    .setSubject(sub).setIssuer(iss).setAudience(aud).setIssuedAt().setExpirationTime(expS);
  if (nbfS !== undefined) j.setNotBefore(nbfS);
  return j.sign(p.priv);
}
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

const rsa1 = pair('rsa-1', 'RS256');
const ec1 = pair('ec-1', 'ES256');

t.test('a node verifies RS256 and ES256 tokens from a key set served over HTTP', async (t) => {
  const idp = await keySetServer([rsa1, ec1]);
  const s = await startServer({ TAXIWAY_JWKS_URL: idp.url, TAXIWAY_JWT_ISSUER: ISS, TAXIWAY_JWT_AUDIENCE: AUD, TAXIWAY_JWKS_REFETCH_MIN_MS: '500' });
  t.teardown(async () => { await s.stop(); await idp.close(); removeDir(s.dataDir); });
  const nearby = `${s.url}/v1/drivers/nearby?lat=43.73&lng=7.42`;

  await t.test('accepted on the driver socket and an HTTP route; HS256 keeps working', async (t) => {
    const d = await Client.open(`${s.wsUrl}/v1/driver/ws`, await sign(rsa1, { sub: 'idp-driver', products: ['taxi', 'xl'] }));
    t.equal((await d.waitFor((f) => f.t === 'hello')).t, 'hello', 'RS256 driver token opens the driver socket');
    t.equal((await d.request({ t: 'loc', lat: 43.73, lng: 7.42, ts: Date.now() })).t, 'ack');
    d.close();
    const e = await Client.open(`${s.wsUrl}/v1/driver/ws`, await sign(ec1, { sub: 'idp-driver-2' }), true);
    await e.waitFor((f) => f.t === 'hello');
    e.close();
    t.pass('ES256 driver token (query string) opens the driver socket');
    t.equal((await call('GET', nearby, await sign(ec1, { sub: 'r1', role: 'rider' }))).status, 200, 'ES256 rider token on an HTTP route');
    t.equal((await call('GET', nearby, await sign(rsa1, { sub: 'o1', role: 'ops', aud: ['other', AUD] }))).status, 200, 'RS256 ops token, audience in an array');
    t.equal((await call('GET', nearby, await sign(rsa1, { sub: 'r2', role: ['offline_access', 'rider'] }))).status, 200, 'role claim as an array holding one role');
    t.equal((await call('GET', nearby, await s.token('rider', 'r3'))).status, 200, 'HS256 with the shared secret still accepted');
    const late = await sign(rsa1, { role: 'rider', expS: Math.floor(Date.now() / 1000) - 10 });
    t.equal((await call('GET', nearby, late)).status, 200, 'expired 10 s ago: inside the 30 s leeway for the provider clock');
  });

  await t.test('refused with a clear message', async (t) => {
    const now = Math.floor(Date.now() / 1000);
    const rsaPem = rsa1.pub.export({ format: 'pem', type: 'spki' }).toString();
    const confused = await new SignJWT({ role: 'rider' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).setSubject('r1').setIssuer(ISS)
      .setAudience(AUD).setExpirationTime(now + 600).sign(new TextEncoder().encode(rsaPem));
    const cases: Array<[string, string, number, RegExp]> = [
      ['wrong issuer', await sign(rsa1, { role: 'rider', iss: 'https://evil.example' }), 401, /token issuer \(iss\) must be https:\/\/idp\.example\.test/],
      ['wrong audience', await sign(rsa1, { role: 'rider', aud: 'someone-else' }), 401, /token audience \(aud\) must include taxiway-api/],
      ['no audience array match', await sign(ec1, { role: 'rider', aud: ['a', 'b'] }), 401, /audience/],
      ['expired past the leeway', await sign(rsa1, { role: 'rider', expS: now - 120 }), 401, /token expired/],
      ['not yet valid', await sign(rsa1, { role: 'rider', nbfS: now + 300 }), 401, /invalid token/],
      ['alg none', `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64({ sub: 'r1', role: 'rider', iss: ISS, aud: AUD, exp: now + 600 })}.`, 401, /token alg "none" is not accepted/],
      ['HS256 signed with the public key', confused, 401, /invalid token/],
      ['ES256 header on an RSA key', `${b64({ alg: 'ES256', kid: 'rsa-1' })}.${(await sign(rsa1, { role: 'rider' })).split('.').slice(1).join('.')}`, 401, /does not match key "rsa-1"/],
      ['signature of another key', `${(await sign(rsa1, { role: 'rider' })).split('.').slice(0, 2).join('.')}.${(await sign(pair('rsa-1', 'RS256'), { role: 'rider' })).split('.')[2]}`, 401, /invalid token/],
      ['no kid', await sign(rsa1, { role: 'rider' }, { kid: undefined }), 401, /no kid/],
      ['unknown role', await sign(rsa1, { role: 'admin' }), 401, /token role must be driver, rider or ops/],
      ['two roles', await sign(rsa1, { role: ['rider', 'ops'] }), 401, /token role must be/],
      ['bad sub', await sign(rsa1, { role: 'rider', sub: 'no spaces allowed' }), 401, /sub is not a valid id/],
      ['driver on a rider route', await sign(rsa1, { role: 'driver' }), 403, /role driver may not use/],
    ];
    for (const [name, tok, status, msg] of cases) {
      const r = await call('GET', nearby, tok);
      t.equal(r.status, status, `${name}: ${status}`);
      t.match(r.body?.error?.message, msg, `${name}: ${r.body?.error?.message}`);
    }
    const refused = await Client.open(`${s.wsUrl}/v1/driver/ws`, await sign(rsa1, { aud: 'someone-else' })).then(() => 0, (e: { status: number }) => e.status);
    t.equal(refused, 401, 'a wrong audience refuses the upgrade too');
    const wrongRole = await Client.open(`${s.wsUrl}/v1/driver/ws`, await sign(rsa1, { role: 'rider' })).then(() => 0, (e: { status: number }) => e.status);
    t.equal(wrongRole, 403, 'a rider token on the driver socket: 403');
  });

  await t.test('key rotation: an unknown kid is refused once, refetched, then accepted; a dropped key stops working', async (t) => {
    const oldTok = await sign(rsa1, { role: 'rider', sub: 'r-old' });
    t.equal((await call('GET', nearby, oldTok)).status, 200, 'old key accepted (and cached)');
    const rsa2 = pair('rsa-2', 'RS256');
    idp.serve([rsa2, ec1]);
    await sleep(600); // past TAXIWAY_JWKS_REFETCH_MIN_MS since any earlier fetch
    const before = idp.fetches();
    const tok = await sign(rsa2, { sub: 'd-new' });
    const first = await Client.open(`${s.wsUrl}/v1/driver/ws`, tok).then(() => 0, (e: { status: number }) => e.status);
    t.equal(first, 401, 'the first upgrade with the new kid is refused (the upgrade cannot wait for the fetch)');
    const r = await call('GET', nearby, await sign(pair('never-published', 'ES256'), { role: 'rider' }));
    t.equal(r.status, 401);
    t.match(r.body?.error?.message, /token kid "never-published" is not in the key set \(refreshing it; retry shortly\)/, 'the message says to retry');
    let accepted = false;
    for (let i = 0; i < 50 && !accepted; i++) {
      await sleep(100);
      accepted = await Client.open(`${s.wsUrl}/v1/driver/ws`, tok).then((c) => { c.close(); return true; }, () => false);
    }
    t.ok(accepted, 'a retry after the refetch is accepted');
    t.equal(idp.fetches() - before, 1, 'one refetch for the burst of unknown-kid tokens');
    t.equal((await call('GET', nearby, oldTok)).status, 401, 'a token of the dropped key is refused, even though it was cached');
  });

  await t.test('unknown kids refetch at most once per TAXIWAY_JWKS_REFETCH_MIN_MS', async (t) => {
    await sleep(600);
    const before = idp.fetches();
    for (let i = 0; i < 20; i++) await call('GET', nearby, await sign(pair(`made-up-${i}`, 'ES256'), { role: 'rider' }));
    await sleep(100);
    t.equal(idp.fetches() - before, 1, '20 made-up kids within the window: one fetch');
    const text = await s.app.metrics.registry.metrics();
    t.match(text, /taxiway_jwks_fetches_total\{result="ok"\} \d+/, 'fetches counted');
    t.match(text, /taxiway_jwks_keys 2/, 'usable keys as a gauge');
  });
});

t.test('the role claim is configurable', async (t) => {
  const idp = await keySetServer([ec1]);
  t.teardown(() => idp.close());
  const keys = new JwksKeys({ url: idp.url, refreshMs: 60_000, minRefetchMs: 30_000, timeoutMs: 2000 });
  await keys.start();
  t.teardown(() => keys.stop());
  const v = new TokenVerifier(undefined, 100, { keys, roleClaim: 'taxiway_roles', clockSkewS: 30 });
  t.match(v.verifyNow(await sign(ec1, { role: undefined, taxiway_roles: ['ops'] })), { sub: 'd1', role: 'ops' }, 'role read from the configured claim');
  t.throws(() => v.verifyNow(undefined), /missing bearer token/);
  await t.rejects(async () => v.verifyNow(await sign(ec1, { role: 'ops' })), /token role claim taxiway_roles must be driver, rider or ops/, 'the default claim is not read');
  const hs = `${b64({ alg: 'HS256' })}.${b64({ sub: 'x', role: 'ops', exp: 9e9 })}.xx`;
  t.throws(() => v.verifyNow(hs), /token alg "HS256" is not accepted \(RS256, ES256\)/, 'no shared secret: HS256 refused');
});

t.test('a node does not start when the key set cannot be fetched', async (t) => {
  const idp = await keySetServer([]);
  const url = idp.url;
  await t.rejects(startServer({ TAXIWAY_JWKS_URL: url }), /TAXIWAY_JWKS_URL=http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: cannot fetch the key set: no usable RS256 or ES256 key/);
  await idp.close();
  await t.rejects(startServer({ TAXIWAY_JWKS_URL: url, TAXIWAY_JWKS_TIMEOUT_MS: '500' }), /TAXIWAY_JWKS_URL=.*cannot fetch the key set: .*ECONNREFUSED/);
  const huge = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = (): void => { while (res.write(chunk)); res.once('drain', pump); };
    res.write('{"keys": [');
    pump();
  });
  await new Promise<void>((r) => huge.listen(0, '127.0.0.1', r));
  await t.rejects(startServer({ TAXIWAY_JWKS_URL: `http://127.0.0.1:${(huge.address() as AddressInfo).port}/` }), /cannot fetch the key set: key set over 1048576 bytes/, 'an endless answer is cut at 1 MiB');
  huge.closeAllConnections();
  huge.close();
  const silent = http.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => { silent.closeAllConnections(); silent.close(); });
  const t0 = Date.now();
  await t.rejects(startServer({ TAXIWAY_JWKS_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, TAXIWAY_JWKS_TIMEOUT_MS: '300' }), /no answer within 300 ms \(TAXIWAY_JWKS_TIMEOUT_MS\)/);
  t.ok(Date.now() - t0 < 5000, 'bounded by the timeout');
});

t.test('settings: checked at load, naming the variable', async (t) => {
  const { loadConfig } = await import('../src/config/load-config.js');
  t.throws(() => loadConfig({ TAXIWAY_JWT_ISSUER: ISS }), /TAXIWAY_JWT_ISSUER is set but TAXIWAY_JWKS_URL is not/);
  t.throws(() => loadConfig({ TAXIWAY_JWKS_URL: 'not a url' }), /TAXIWAY_JWKS_URL=not a url: not a URL/);
  t.throws(() => loadConfig({ TAXIWAY_JWKS_URL: 'ftp://x/keys' }), /expected an http:\/\/ or https:\/\/ URL/);
  t.throws(() => loadConfig({ TAXIWAY_JWKS_URL: 'https://x/keys', TAXIWAY_JWT_ROLE_CLAIM: 'a b' }), /TAXIWAY_JWT_ROLE_CLAIM=a b/);
  t.throws(() => loadConfig({ TAXIWAY_JWKS_URL: 'https://x/keys', TAXIWAY_JWKS_REFRESH_MS: '5' }), /TAXIWAY_JWKS_REFRESH_MS="5": expected an integer/);
  t.match(loadConfig({ TAXIWAY_JWKS_URL: 'https://x/keys', TAXIWAY_JWT_AUDIENCE: AUD }).idp, { jwksUrl: 'https://x/keys', audience: AUD, roleClaim: 'role', refreshMs: 600_000, refetchMinMs: 30_000, fetchTimeoutMs: 5000 });
  t.equal(loadConfig({}).idp, undefined, 'unset: HS256 only');
  t.throws(() => loadConfig({ REDIS_URL: 'redis://h:1' }), /TAXIWAY_AUTH_SECRET is required in cluster mode/);
  t.equal(loadConfig({ REDIS_URL: 'redis://h:1', TAXIWAY_JWKS_URL: 'https://x/keys' }).mode, 'cluster', 'a cluster may rely on the provider alone');
});
