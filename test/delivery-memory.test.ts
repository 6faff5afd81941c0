// Delivery-path contract on one embedded node: its in-memory bus carries the notifier's frames to its own hub.
import t from 'tap';
import { BusNotifier, DELIVERY_CHANNEL } from '../src/bus/deliveries.js';
import { DELIVERY_ENV, deliveryContract } from './contract/delivery-contract.js';
import type { DeliveryNode } from './contract/delivery-contract.js';
import { removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

let running: TestServer[] = [];
deliveryContract(t, 'memory bus', async () => {
  const server = await startServer(DELIVERY_ENV);
  running.push(server);
  const node: DeliveryNode = { server, notifier: new BusNotifier(server.app.shared.bus, DELIVERY_CHANNEL) };
  return [node, node];
}, async () => {
  for (const s of running) {
    await s.stop();
    removeDir(s.dataDir);
  }
  running = [];
});
