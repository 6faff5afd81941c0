// A rider app on the taxiway client SDK: requests a ride and follows it until it ends.
// Run: npx tsc -p . && RIDER_TOKEN=$(npx taxiway token --role rider --sub r1) node dist/examples/rider-app.js
import { RiderClient, isFinalJobState } from 'taxiway/client';
import type { ClientError } from 'taxiway/client';

const url = process.env.TAXIWAY_URL ?? 'ws://127.0.0.1:8080';
const token = process.env.RIDER_TOKEN;
if (!token) throw new Error('set RIDER_TOKEN (npx taxiway token --role rider --sub r1)');

const rider = new RiderClient({ url, token });
rider.on('job', (j) => {
  console.log(`job ${j.job}: ${j.state}${j.driver ? ` (driver ${j.driver.id})` : ''}${j.eta_s === undefined ? '' : `, ETA ${j.eta_s} s`}`);
  if (isFinalJobState(j.state)) void rider.close();
});
rider.on('pos', (p) => console.log(`driver at ${p.lat.toFixed(5)},${p.lng.toFixed(5)} (fix of ${new Date(p.ts).toISOString()})`));
rider.on('close', (c) => {
  if (c.reconnectInMs !== undefined) console.log(`connection lost (${c.code}); following again in ${c.reconnectInMs} ms`);
});

try {
  // HTTP: POST /v1/jobs. The SDK turns an error reply into a ClientError with the server's code.
  const job = await rider.createJob({ pickup: { lat: 43.7384, lng: 7.4246 }, dropoff: { lat: 43.7311, lng: 7.4197 } });
  console.log(`requested ${job.id}: ${job.state}`);
  if (isFinalJobState(job.state)) await rider.close();
  else await rider.follow(job.id); // followed again automatically after a reconnect
} catch (err) {
  console.error(`request failed: ${(err as ClientError).code} ${(err as Error).message}`);
  await rider.close();
}
