// A driver app on the taxiway client SDK: reports fixes, goes available, accepts offers and drives each trip.
// Run: npx tsc -p . && DRIVER_TOKEN=$(npx taxiway token --role driver --sub d1) node dist/examples/driver-app.js
import { DriverClient } from 'taxiway/client';
import type { ClientError, OfferFrame } from 'taxiway/client';

const url = process.env.TAXIWAY_URL ?? 'ws://127.0.0.1:8080';
const token = process.env.DRIVER_TOKEN;
if (!token) throw new Error('set DRIVER_TOKEN (npx taxiway token --role driver --sub d1)');

// A real app asks its backend for a fresh token here; the SDK calls this again when the token expires or is refused.
const driver = new DriverClient({ url, token: async (reason) => (console.log(`token asked for (${reason})`), token) });

// Where the car is: a slow walk east through Monaco, one fix a second.
let pos = { lat: 43.7384, lng: 7.4246 };
const gps = setInterval(() => {
  pos = { lat: pos.lat, lng: pos.lng + 0.00002 };
  driver.sendFix({ ...pos, ts: Date.now(), spd: 1.6, acc: 5 }); // buffered while offline, flushed as `locs` later
}, 1000);

driver.on('hello', (h) => console.log(`connected as ${h.driver}; send a fix every ${h.interval_ms} ms`));
driver.on('close', (c) => console.log(`socket closed (${c.code})${c.reconnectInMs === undefined ? '' : `; reconnecting in ${c.reconnectInMs} ms`}`));
driver.on('flushed', (r) => console.log(`sent ${r.points} buffered fixes: ${r.accepted} stored, ${r.rejected} rejected, ${r.limited} to resend`));
driver.on('stopped', (s) => {
  console.log(`stopped: ${s.reason}`);
  clearInterval(gps);
});
driver.on('offer_revoked', (o) => console.log(`offer for ${o.job} ${o.reason}`));
driver.on('job', (j) => console.log(`job ${j.job}: ${j.state}`));
driver.on('offer', (offer) => void drive(offer));

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Accept the offer and drive the trip: to the pickup, rider aboard, to the dropoff. */
async function drive(offer: OfferFrame): Promise<void> {
  console.log(`offer ${offer.job}: pickup ${offer.pickup.lat},${offer.pickup.lng}, ${offer.eta_s} s away, answer by ${new Date(offer.expires_ts).toISOString()}`);
  try {
    await driver.accept(offer.job);
    await wait(3000);
    await driver.arrived(offer.job);
    await wait(2000);
    await driver.start(offer.job);
    await wait(5000);
    await driver.complete(offer.job);
    console.log(`trip ${offer.job} completed`);
  } catch (err) {
    console.log(`trip ${offer.job} ended early: ${(err as ClientError).code} ${(err as Error).message}`);
  }
}

await driver.connect();
await driver.setStatus('available'); // sent again by the SDK after every reconnect
process.once('SIGINT', () => void driver.close());
