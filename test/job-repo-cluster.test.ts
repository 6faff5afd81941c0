// JobRepo contract on a real 3-primary Redis Cluster: every job's keys in its city's slot, claims found by driver across cities.
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import type { FinishedRetention, JobDoc } from '../src/matching/job-repo.js';
import { newJobId } from '../src/protocol/job-id.js';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import { createLogger } from '../src/observability/logger.js';
import { RedisKeys, hashSlot } from '../src/storage/redis-keys.js';
import { jobRepoContract } from './contract/job-repo-contract.js';
import { testPrefix } from './helpers/redis.js';
import { RedisClusterSetup } from './helpers/redis-cluster.js';

const skip = RedisClusterSetup.skip();
if (skip) t.test('JobRepo contract on Redis Cluster', { skip }, async () => {});
else {
  const setup = await RedisClusterSetup.start();
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const logger = createLogger('silent');
  const prefixes = new Map<RedisJobRepo, string>();
  const open = (prefix: string, retention?: Partial<FinishedRetention>): RedisJobRepo => {
    const r = redisConnection(setup.target, logger, 'jobs');
    conns.push(r);
    const repo = new RedisJobRepo(r, prefix, { retention });
    prefixes.set(repo, prefix);
    return repo;
  };
  jobRepoContract(t, 'cluster', async (retention) => open(testPrefix(), retention), {
    reopen: async (closed) => open(prefixes.get(closed as RedisJobRepo)!),
    legacyIds: false,
  });

  t.test('cluster: a city\'s job keys share one slot; the contract\'s cities spread over the primaries', async (t) => {
    const k = new RedisKeys('tw:');
    const id = 'porto.abcdefghijklmnop';
    const slot = hashSlot(k.job(id));
    for (const key of [k.held('porto'), k.done('porto'), k.seq('porto'), k.riderOpen('porto', 'r1'), k.driverOffer('porto', 'd1'), k.driverActive('porto', 'd1'), k.fleet('geo', 'porto'), k.eta('porto')]) {
      t.equal(hashSlot(key), slot, key);
    }
    t.not(hashSlot(k.job('lisbon.abcdefghijklmnop')), slot, 'another city: another slot');
    t.equal(hashSlot('foo'), 12182, 'the CRC16 of Redis Cluster (CLUSTER KEYSLOT foo)');
    t.equal(hashSlot('{user1000}.following'), hashSlot('{user1000}.followers'));
    const ports = new Set(await Promise.all(['world', 'porto', 'lisbon', 'dublin', 'madrid', 'london'].map((c) => setup.portOfSlot(hashSlot(k.held(c))))));
    t.ok(ports.size >= 2, `six cities land on ${ports.size} primaries`);
  });
}

// A cluster with a replica per primary: writes a replica acknowledged (WAIT 1, sent to the city's primary) survive its SIGKILL.
if (!skip) {
  t.test('cluster with replicas: job writes acknowledged by the city\'s replica survive SIGKILL of its primary', async (t) => {
    const setup = await RedisClusterSetup.start(3, 1);
    const conns: RedisClient[] = [];
    t.teardown(async () => {
      for (const c of conns) c.disconnect();
      await setup.destroy();
    });
    const r = redisConnection(setup.target, createLogger('silent'), 'jobs');
    conns.push(r);
    const reports: string[] = [];
    const prefix = testPrefix();
    const repo = new RedisJobRepo(r, prefix, { durability: { replicas: 1, timeoutMs: 500 }, onUnreplicated: (why) => reports.push(why) });
    const now = Date.now();
    const docs: JobDoc[] = [];
    for (let i = 0; i < 30; i++) {
      const city = ['porto', 'lisbon', 'dublin'][i % 3]!;
      const d: JobDoc = {
        rec: { id: newJobId(city), state: 'dispatching', rider: 'r1', driver: null, pickup: { lat: 1, lng: 2 }, dropoff: null, product: 'taxi', city, created_ts: now, updated_ts: now, times: { dispatching: now } },
        seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
      };
      await repo.create(d);
      const o: JobDoc = { ...structuredClone(d), offer: `d_rc_${i}`, offerExpires: now + 60_000, attempts: 1 };
      t.equal(await repo.commit(o, 1, [{ op: 'claimOffer', driver: `d_rc_${i}` }]), 'ok');
      docs.push(o);
    }
    t.same(reports, [], 'every write was acknowledged by its shard\'s replica');
    const { ms, port } = await setup.killPrimaryOf(hashSlot(new RedisKeys(prefix).held('porto')));
    t.comment(`porto's primary (${port}) SIGKILLed; its replica serves the slot after ${ms} ms`);
    for (const d of docs) t.same(await repo.get(d.rec.id), { ...d, version: 2 }, `${d.rec.id} is there`);
    const porto = docs.find((d) => d.rec.city === 'porto')!;
    t.equal(await repo.commit({ ...structuredClone(porto), attempts: 2 }, 2, []), 'ok', 'porto takes writes again');
  });
}
