// JobRepo contract through Redis Sentinel (primary + replica + 3 Sentinels), and what a commit's WAIT guarantees across a failover.
import t from 'tap';
import { redisConnection } from '../src/bus/redis-connection.js';
import type { RedisClient } from '../src/bus/redis-connection.js';
import type { FinishedRetention, JobDoc } from '../src/matching/job-repo.js';
import { RedisJobRepo } from '../src/matching/redis-job-repo.js';
import type { UnreplicatedReason } from '../src/bus/replica-wait.js';
import { createLogger } from '../src/observability/logger.js';
import { jobRepoContract } from './contract/job-repo-contract.js';
import { testPrefix } from './helpers/redis.js';
import { SentinelSetup } from './helpers/redis-sentinel.js';

const skip = SentinelSetup.skip();
if (skip) t.test('JobRepo contract through Sentinel', { skip }, async () => {});
else {
  const setup = await SentinelSetup.start();
  const conns: RedisClient[] = [];
  t.teardown(async () => {
    for (const c of conns) c.disconnect();
    await setup.destroy();
  });
  const logger = createLogger('silent');
  const prefixes = new Map<RedisJobRepo, string>();
  const reports: UnreplicatedReason[] = [];
  const open = (prefix: string, retention?: Partial<FinishedRetention>): RedisJobRepo => {
    const r = redisConnection(setup.target, logger, 'jobs');
    conns.push(r);
    const repo = new RedisJobRepo(r, prefix, { retention, durability: { replicas: 1, timeoutMs: 50 }, onUnreplicated: (why) => reports.push(why) });
    prefixes.set(repo, prefix);
    return repo;
  };
  jobRepoContract(t, 'sentinel', async (retention) => open(testPrefix(), retention), {
    reopen: async (closed) => open(prefixes.get(closed as RedisJobRepo)!),
  });

  t.test('sentinel: writes a replica acknowledged survive SIGKILL of the primary; after it, with no replica left, writes stand and are reported', async (t) => {
    t.same(reports, [], 'with a replica in sync, every WAIT of the contract was acknowledged');
    const repo = open(testPrefix());
    const now = Date.now();
    const docs: JobDoc[] = [];
    for (let i = 0; i < 50; i++) {
      const d: JobDoc = {
        rec: { id: `j_fo_${process.pid}_${i}`, state: 'dispatching', rider: 'r1', driver: null, pickup: { lat: 1, lng: 2 }, dropoff: null, product: 'taxi', city: 'world', created_ts: now, updated_ts: now, times: { dispatching: now } },
        seq: 1, attempts: 0, offer: null, offerExpires: 0, tried: [], version: 1,
      };
      await repo.create(d);
      const o: JobDoc = { ...structuredClone(d), offer: `d_fo_${i}`, offerExpires: now + 60_000, attempts: 1 };
      t.equal(await repo.commit(o, 1, [{ op: 'claimOffer', driver: `d_fo_${i}` }]), 'ok');
      docs.push(o);
    }
    t.same(reports, [], 'every write was acknowledged by the replica');
    const { ms } = await setup.killPrimaryAndWaitFailover();
    t.comment(`failover seen after ${ms} ms`);
    for (const d of docs) {
      t.same(await repo.get(d.rec.id), { ...d, version: 2 }, `${d.rec.id} is on the new primary`);
      t.equal(await repo.offerOf(d.offer!), d.rec.id, 'and so is its claim');
    }
    // The new primary has no replica: a write stands on it, reported as unreplicated, and WAIT backs off.
    const last = docs[0]!;
    const t0 = Date.now();
    t.equal(await repo.commit({ ...structuredClone(last), attempts: 2 }, 2, []), 'ok');
    t.equal(await repo.commit({ ...structuredClone(last), attempts: 3 }, 3, []), 'ok');
    t.ok(Date.now() - t0 < 1000, `two commits without a replica took ${Date.now() - t0} ms (one WAIT of 50 ms, then the back-off)`);
    t.same(reports, ['timeout', 'skipped'], 'the first timed out, the next skipped WAIT');
    t.equal((await repo.get(last.rec.id))!.attempts, 3, 'both stood');
  });
}
