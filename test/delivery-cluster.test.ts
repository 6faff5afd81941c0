// Delivery-path contract across two nodes on a real 3-primary Redis Cluster: frames published on one reach sockets on the other.
import t from 'tap';
import { BusNotifier, DELIVERY_CHANNEL } from '../src/bus/deliveries.js';
import { DELIVERY_ENV, deliveryContract } from './contract/delivery-contract.js';
import type { DeliveryNode } from './contract/delivery-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';
import { removeDir, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

const skip = RedisClusterSetup.skip();
if (skip) t.test('delivery-path contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  t.teardown(() => setup.destroy());
  let running: TestServer[] = [];
  const node = async (prefix: string, id: string): Promise<DeliveryNode> => {
    const server = await startServer({ ...DELIVERY_ENV, ...setup.env, TAXIWAY_REDIS_PREFIX: prefix, TAXIWAY_NODE_ID: id });
    running.push(server);
    return { server, notifier: new BusNotifier(server.app.shared.bus, DELIVERY_CHANNEL) };
  };
  deliveryContract(t, 'cluster bus', async () => {
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
