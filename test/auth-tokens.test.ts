// The synchronous HS256 verifier against jose's jwtVerify on good, forged, expired and malformed tokens.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { jwtVerify } from 'jose';
import { TokenVerifier, signToken } from '../src/auth/tokens.js';

const SECRET = 'test-secret-0123456789abcdef';
const key = new TextEncoder().encode(SECRET);
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const sign = (h: string, p: string, k = SECRET): string => createHmac('sha256', k).update(`${h}.${p}`).digest('base64url');
function token(header: Record<string, unknown>, payload: Record<string, unknown>, k = SECRET): string {
  const h = b64(header), p = b64(payload);
  return `${h}.${p}.${sign(h, p, k)}`;
}
const now = Math.floor(Date.now() / 1000);
const H = { alg: 'HS256', typ: 'JWT' };
const ok = { sub: 'd1', role: 'driver', iat: now, exp: now + 600 };

t.test('verifyNow agrees with jose jwtVerify', async (t) => {
  const good = await signToken(SECRET, 'drv-1', 'driver', 600);
  const [gh, gp] = good.split('.') as [string, string, string];
  const cases: Array<[string, string]> = [
    ['signed by signToken', good],
    ['hand-made', token(H, ok)],
    ['wrong key', token(H, ok, 'another-secret-0123456789')],
    ['expired', token(H, { ...ok, exp: now - 1 })],
    ['exp == now', token(H, { ...ok, exp: now })],
    ['no exp', token(H, { sub: 'd1', role: 'driver' })],
    ['exp a string', token(H, { ...ok, exp: String(now + 600) })],
    ['iat a string', token(H, { ...ok, iat: 'yesterday' })],
    ['nbf in the future', token(H, { ...ok, nbf: now + 300 })],
    ['nbf past', token(H, { ...ok, nbf: now - 300 })],
    ['no sub', token(H, { role: 'driver', exp: now + 600 })],
    ['alg none', `${b64({ alg: 'none' })}.${b64(ok)}.`],
    ['alg HS384', token({ alg: 'HS384' }, ok)],
    ['crit header', token({ ...H, crit: ['x'], x: 1 }, ok)],
    ['payload swapped', `${gh}.${b64({ ...ok, sub: 'someone-else' })}.${good.split('.')[2]}`],
    ['payload not an object', (() => { const h = b64(H), p = Buffer.from('[1,2]').toString('base64url'); return `${h}.${p}.${sign(h, p)}`; })()],
    ['two parts', `${gh}.${gp}`],
    ['garbage', 'not.a.jwt'],
  ];
  for (const [name, tok] of cases) {
    const joseOk = await jwtVerify(tok, key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] }).then(() => true, () => false);
    let ours = true;
    try {
      new TokenVerifier(SECRET).verifyNow(tok);
    } catch {
      ours = false;
    }
    // Role and sub format are our own checks on top of jose's: only compare where both could pass.
    t.equal(ours, joseOk, `${name}: ${joseOk ? 'accepted' : 'refused'} by both`);
  }
});

t.test('verifyNow: principal, reasons and the cache', async (t) => {
  const v = new TokenVerifier(SECRET);
  const tok = await signToken(SECRET, 'rid-9', 'rider', 600);
  t.match(v.verifyNow(tok), { sub: 'rid-9', role: 'rider' });
  t.ok(v.cached(tok), 'cached after the first check');
  t.throws(() => v.verifyNow(undefined), /missing bearer token/);
  t.throws(() => v.verifyNow(token(H, { ...ok, exp: now - 5 })), /expired/);
  t.throws(() => v.verifyNow(token(H, { ...ok, role: 'admin' })), /role must be/);
  t.throws(() => v.verifyNow(token(H, { ...ok, sub: 'bad sub!' })), /sub is not a valid id/);
  t.throws(() => v.verifyNow('x'.repeat(5000)), /too long/);
  t.match(await v.verify(tok), { sub: 'rid-9' }, 'the async form answers the same');
});

t.test('the products claim: carried into the principal, refused naming the claim when malformed', async (t) => {
  const v = new TokenVerifier(SECRET);
  const tok = await signToken(SECRET, 'drv-2', 'driver', 600, { products: ['taxi', 'xl'] });
  t.same(v.verifyNow(tok).products, ['taxi', 'xl']);
  t.equal(v.verifyNow(await signToken(SECRET, 'drv-3', 'driver', 600)).products, undefined, 'no claim: no products (the city default applies)');
  const refused: Array<[string, unknown, RegExp]> = [
    ['not an array', 'taxi', /token products claim must be an array/],
    ['an object', { taxi: true }, /token products claim must be an array/],
    ['empty', [], /token products claim must list 1-32 products/],
    ['33 products', Array.from({ length: 33 }, (_, i) => `p${i}`), /token products claim must list 1-32 products, got 33/],
    ['upper case', ['XL'], /token products claim has "XL"/],
    ['too long', ['x'.repeat(33)], /token products claim has/],
    ['a number', [7], /token products claim has 7/],
    ['twice', ['xl', 'xl'], /token products claim lists xl twice/],
  ];
  for (const [name, products, re] of refused) {
    const bad = token(H, { ...ok, products });
    t.throws(() => v.verifyNow(bad), re, name);
    t.throws(() => v.verifyNow(bad), { code: 'unauthorized' }, `${name}: unauthorized (401)`);
    t.equal(v.cached(bad), undefined, `${name}: not cached`);
  }
  await t.rejects(signToken(SECRET, 'd', 'driver', 600, { products: ['BAD'] }), /products has/);
});
