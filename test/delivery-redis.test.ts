// Delivery-path contract across two cluster nodes sharing a real Redis: frames published on one reach sockets on the other.
import t from 'tap';
import { BusNotifier, DELIVERY_CHANNEL } from '../src/bus/deliveries.js';
import { DELIVERY_ENV, deliveryContract } from './contract/delivery-contract.js';
import type { DeliveryNode } from './contract/delivery-contract.js';
import { redisSkip, stopTestRedis, testPrefix, testRedisUrl } from './helpers/redis.js';
import { removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const skip = await redisSkip();
if (skip) t.test('delivery-path contract on Redis', { skip }, async () => {});
else {
  const url = (await testRedisUrl())!;
  t.teardown(() => stopTestRedis());
  let running: TestServer[] = [];
  const node = async (prefix: string, id: string): Promise<DeliveryNode> => {
    const server = await startServer({ ...DELIVERY_ENV, REDIS_URL: url, TAXIWAY_REDIS_PREFIX: prefix, TAXIWAY_NODE_ID: id });
    running.push(server);
    return { server, notifier: new BusNotifier(server.app.shared.bus, DELIVERY_CHANNEL) };
  };
  deliveryContract(t, 'redis bus', async () => {
    const p = testPrefix();
    return [await node(p, 'A'), await node(p, 'B')];
  }, async () => {
    for (const s of running) {
      await s.stop();
      removeDir(s.dataDir);
    }
    running = [];
  });
}
