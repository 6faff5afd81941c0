// `npm run chaos [-- --short]`: a real cluster (3 taxiway nodes, Redis primary + replica + 3 Sentinels, two Cassandra
// DCs) under a steady fleet and a job stream; injects faults one after another and prints what each cost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { isFinalState } from '../../src/protocol/job-record.js';
import { createClient } from '../../src/storage/cassandra/cassandra-client.js';
import { openCassandraStorage } from '../../src/storage/cassandra/cassandra-storage.js';
import { migrate } from '../../src/storage/cassandra/cassandra-schema.js';
import { TwoDcCassandra } from '../helpers/cassandra-two-dc.js';
import type { Dc } from '../helpers/cassandra-two-dc.js';
import { newNode } from '../helpers/cluster.js';
import type { Cluster, Node } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/redis.js';
import { NO_JOB_LIMITS, SECRET, http, sleep } from '../helpers/server.js';
import { signToken } from '../../src/auth/tokens.js';
import { ChaosLoad } from './chaos-load.js';
import { ChaosRedis } from './chaos-redis.js';
import { doubleAllowed, overlappingJobs } from './chaos-claims.js';
import type { Double, Failover } from './chaos-claims.js';

const SHORT = process.argv.includes('--short');
/** The faults to inject, in this order (`--faults kill-node,kill-redis,freeze-dc,stall`; default all four). */
const FAULTS = ['kill-node', 'kill-redis', 'freeze-dc', 'stall'] as const;
type FaultName = (typeof FAULTS)[number];
const faultsArg = process.argv.indexOf('--faults');
const CHOSEN: FaultName[] = faultsArg < 0 ? [...FAULTS] : (process.argv[faultsArg + 1] ?? '').split(',').map((f) => {
  if (!(FAULTS as readonly string[]).includes(f)) throw new Error(`--faults: unknown fault ${JSON.stringify(f)} (known: ${FAULTS.join(', ')})`);
  return f as FaultName;
});
const P = SHORT
  ? { fleet: 100, bots: 15, jobEveryMs: 500, warmMs: 8_000, settleMs: 5_000, cassandraStopMs: 10_000, stallMs: 3000 }
  : { fleet: 300, bots: 30, jobEveryMs: 300, warmMs: 20_000, settleMs: 20_000, cassandraStopMs: 30_000, stallMs: 3000 };
/** A SIGKILLed node loses the fixes it acknowledged but had not written yet: up to 4 s in its ingest cohorts and 5 s of
 * chunk sealing (docs/storage.md); counted as allowed when acknowledged by that node at most this long before the kill, ms. */
const KILL_LOSS_WINDOW_MS = 10_000;
const log = (m: string): void => void process.stderr.write(`chaos: ${m}\n`);
/** Whole-run bound: past it the run stops, cleans up and fails, ms. */
const RUN_LIMIT_MS = SHORT ? 330_000 : 900_000;
/** An HTTP call that gives up after 5 s (a request can wait in a node while Redis is between primaries). */
const httpT = (...a: Parameters<typeof http>): ReturnType<typeof http> => Promise.race([http(...a), sleep(5000).then(() => { throw new Error('timeout'); })]);

interface Phase {
  fault: string;
  at: number;
  recoverMs: number;
  killed?: { node: string; at: number };
}

const runStart = Date.now();

async function main(): Promise<number> {
  if (!RedisServer.available()) {
    log('redis-server is not installed');
    return 2;
  }
  const cass = await TwoDcCassandra.acquire(true);
  if (typeof cass === 'string') {
    log(cass);
    return 2;
  }
  const cleanup: Array<() => Promise<unknown>> = [() => cass.release()];
  const abort = async (why: string): Promise<never> => {
    log(`${why}: stopping everything`);
    for (const f of cleanup.splice(0)) await f().catch(() => undefined);
    process.exit(2);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void abort(sig));
  setTimeout(() => void abort(`not done within ${RUN_LIMIT_MS / 1000} s`), RUN_LIMIT_MS).unref();
  try {
    const keyspace = `taxiway_chaos_${process.pid}`;
    const replication = { class: 'NetworkTopologyStrategy' as const, dcs: { dc1: 1, dc2: 1 } };
    const admin = createClient({ contactPoints: [cass.contactPoints.dc1], localDataCenter: 'dc1', consistency: 'LOCAL_QUORUM' });
    await admin.connect();
    await migrate(admin, keyspace, replication);
    cleanup.unshift(async () => {
      await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await admin.shutdown();
    });
    const redis = await ChaosRedis.start();
    cleanup.unshift(() => redis.destroy());

    // n0, n1 in dc1; n2 in dc2 (so freezing dc2 leaves n2 spooling while n0, n1 write on).
    const prefix = `chaos${process.pid}:`;
    const nodes: Node[] = [];
    for (const [i, dc] of (['dc1', 'dc1', 'dc2'] as Dc[]).entries()) {
      nodes.push(await newNode('', prefix, `n${i}`, {
        ...redis.env, ...NO_JOB_LIMITS, CASSANDRA_CONTACT_POINTS: cass.contactPoints[dc], CASSANDRA_LOCAL_DC: dc,
        CASSANDRA_KEYSPACE: keyspace, CASSANDRA_REPLICATION: 'dc1:1,dc2:1', TAXIWAY_OFFER_TIMEOUT_MS: '3000', TAXIWAY_MAX_ATTEMPTS: '100',
        // Every simulated driver connects from 127.0.0.1: the per-address upgrade limit (200/s) turned the reconnect of a
        // killed node's sockets into a storm of refusals that never settled (a real fleet comes from many addresses).
        TAXIWAY_WS_UPGRADES_PER_SEC_PER_IP: '0', TAXIWAY_WS_MAX_SOCKETS_PER_IP: '0',
      }));
    }
    await Promise.all(nodes.map((n) => n.start()));
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-chaos-logs-'));
    /** Every line a node prints (LOG_LEVEL warn) goes to <logDir>/<node>.log too, for the post-mortem. */
    const tee = (n: Node): void => {
      const out = fs.createWriteStream(path.join(logDir, `${n.name}.log`), { flags: 'a' });
      n.proc!.stdout!.on('data', (d: Buffer) => out.write(d));
      n.proc!.stderr!.on('data', (d: Buffer) => out.write(d));
    };
    nodes.forEach(tee);
    cleanup.unshift(async () => {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      for (const n of nodes) fs.rmSync(n.env.TAXIWAY_DATA_DIR!, { recursive: true, force: true });
    });
    const cluster: Cluster = { nodes, prefix, token: (role, sub) => signToken(SECRET, sub, role), stop: async () => undefined };
    const live = (): Node[] => nodes.filter((n) => n.proc !== null && n.proc.exitCode === null);
    const load = new ChaosLoad(cluster, live);
    load.fleet(P.fleet);
    load.bots(P.bots);
    await sleep(2000);
    load.jobStream(P.jobEveryMs);
    log(`${nodes.length} nodes up, ${P.fleet} fleet drivers + ${P.bots} bots, a job every ${P.jobEveryMs} ms; warming up ${P.warmMs} ms`);
    await sleep(P.warmMs);

    /** From `t0` until every live node answers /readyz 200, a job can be created, and the whole fleet is connected again. */
    const recovered = async (t0: number): Promise<number> => {
      for (;;) {
        const ready = await Promise.all(live().map((n) => httpT('GET', `${n.url}/readyz`).then((r) => r.status === 200, () => false)));
        const probe = ready.every(Boolean) && (await httpT('POST', `${live()[0]!.url}/v1/jobs`, await cluster.token('rider', 'chaos-probe'), { pickup: { lat: 41.15, lng: -8.6095 } }).then((r) => r.status === 201, () => false));
        if (probe && load.connected >= P.fleet + P.bots) return Date.now() - t0;
        if (Date.now() - t0 > 180_000) return NaN;
        if (load.sessionErrors.size) log(`driver sessions ended by: ${[...load.sessionErrors].join(' | ')}`), load.sessionErrors.clear();
        await sleep(200);
      }
    };
    const phases: Phase[] = [];
    /** Sum over live nodes of taxiway_redis_unreplicated_writes_total (job writes no replica confirmed within WAIT's 50 ms). */
    const unreplicated = async (): Promise<number> => {
      let n = 0;
      for (const node of live()) {
        const text = await Promise.race([fetch(`${node.url}/metrics`).then((r) => r.text()), sleep(5000).then(() => '')]).catch(() => '');
        for (const m of text.matchAll(/^taxiway_redis_unreplicated_writes_total(?:\{[^}]*\})? (\d+)/gm)) n += Number(m[1]);
      }
      return n;
    };
    const unrepl0 = await unreplicated();

    let unreplBeforeFailover = 0;
    /** Unreplicated job writes counted in the 5 s before the primary's kill: what a failover can lose (docs/reliability.md). */
    let unreplAtKill = 0;
    let failover: { at: number; promoted: number } | null = null;
    /** Primaries the Sentinels named other than after the planned kill (a stall mistaken for a death): when, from, to. */
    const unplanned: string[] = [];
    for (const fault of CHOSEN) {
      const t0 = Date.now();
      if (fault === 'kill-node') {
        log('fault: SIGKILL of taxiway node n1');
        await nodes[1]!.stop('SIGKILL');
        // Acks n1 sent before it died can reach their drivers just after the signal: the window ends at its exit.
        const exitAt = Date.now();
        phases.push({ fault: 'SIGKILL taxiway node n1', at: t0, recoverMs: await recovered(t0), killed: { node: 'n1', at: exitAt } });
        log(`recovered after ${phases.at(-1)!.recoverMs} ms`);
        await nodes[1]!.start(); // back, for the faults that follow
        tee(nodes[1]!);
      } else if (fault === 'kill-redis') {
        unreplBeforeFailover = (await unreplicated()) - unrepl0;
        await sleep(5000);
        unreplAtKill = (await unreplicated()) - unrepl0 - unreplBeforeFailover;
        const t1 = Date.now();
        log('fault: SIGKILL of the Redis primary');
        const k = await redis.killPrimary();
        phases.push({ fault: `SIGKILL Redis primary (promoted after ${(k.ms / 1000).toFixed(1)} s)`, at: t1, recoverMs: await recovered(t1) });
        failover = { at: t1, promoted: t1 + k.ms };
        log(`recovered after ${phases.at(-1)!.recoverMs} ms`);
        await redis.rejoin(k.index);
      } else if (fault === 'freeze-dc') {
        log(`fault: SIGSTOP of Cassandra dc2 for ${P.cassandraStopMs} ms`);
        cass.signal('dc2', 'SIGSTOP');
        await sleep(P.cassandraStopMs);
        cass.signal('dc2', 'SIGCONT');
        phases.push({ fault: `SIGSTOP Cassandra dc2 ${P.cassandraStopMs / 1000} s`, at: t0, recoverMs: await recovered(t0) });
        log(`recovered after ${phases.at(-1)!.recoverMs} ms`);
      } else {
        const before = await redis.primaryFront();
        log(`fault: Redis network stall ${P.stallMs} ms`);
        redis.stall(P.stallMs);
        phases.push({ fault: `Redis network stall ${P.stallMs / 1000} s`, at: t0, recoverMs: await recovered(t0) });
        log(`recovered after ${phases.at(-1)!.recoverMs} ms`);
        // A stall is shorter than down-after-milliseconds; on a loaded machine the Sentinels could still take it for a death.
        const after = await redis.primaryFront();
        if (after !== before) unplanned.push(`the Sentinels moved the primary during the stall (proxy ${before} to ${after}): a failover nobody asked for`);
      }
      await sleep(P.settleMs);
    }

    log('faults done: no new jobs; waiting until every job is final');
    load.stopJobs();
    const states = await load.settle(90_000);
    log(`${[...states.values()].filter((x) => isFinalState(x as never)).length} of ${states.size} jobs final`);
    await load.stop();
    // SIGTERM: each node flushes its fixes and drains its spool into Cassandra (up to 20 s).
    await Promise.all(live().map((n) => n.stop('SIGTERM')));
    log('nodes stopped; repairing dc2 (nodetool repair -full) so both DCs are compared after convergence');
    log(`repair starts ${((Date.now() - runStart) / 1000).toFixed(0)} s into the run`);
    const rep = await cass.nodetool('dc2', ['repair', '-full', keyspace]);
    if (rep.code !== 0) log(`repair failed: ${rep.stderr.slice(-300)}`);

    // Which acknowledged fixes each DC holds (read at LOCAL_QUORUM from each DC's own replica).
    const drivers = [...new Set(load.fixes.map((f) => f.driver))];
    const storedIn = async (dc: Dc): Promise<Set<string>> => {
      const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'taxiway-chaos-read-'));
      const s = await openCassandraStorage({ settings: { contactPoints: [cass.contactPoints[dc]], localDataCenter: dc, keyspace, replication, consistency: 'LOCAL_QUORUM', spoolDir: spool, spoolMaxBytes: 1 << 30 }, registry: new Registry() });
      const have = new Set<string>();
      for (const d of drivers) {
        for (let from = -Infinity; ;) {
          const page = await s.track(d, from, Infinity, 10_000);
          for (const p of page.points) have.add(`${d}@${p[0]}`);
          if (page.next === undefined) break;
          from = page.next;
        }
      }
      await s.close();
      fs.rmSync(spool, { recursive: true, force: true });
      return have;
    };
    const [in1, in2] = [await storedIn('dc1'), await storedIn('dc2')];

    /** Where `at` falls among the faults: "<fault> +12.3 s" (the last fault injected at or before it), or "-4.0 s before <first fault>". */
    const rel = (at: number): string => {
      const p = [...phases].reverse().find((q) => q.at <= at);
      if (p) return `${p.fault} +${((at - p.at) / 1000).toFixed(1)} s`;
      return phases[0] ? `${((at - phases[0].at) / 1000).toFixed(1)} s before ${phases[0].fault}` : `${((at - runStart) / 1000).toFixed(1)} s into the run`;
    };
    const fo: Failover | null = failover && { at: failover.at, promoted: failover.promoted, unreplicatedBefore: unreplAtKill };
    const withinGuarantee = (d: Double): boolean => doubleAllowed(d, fo);

    const rows: string[][] = [];
    let bad = 0;
    // A kill's row starts KILL_LOSS_WINDOW_MS before it, so the fixes that kill may lose are counted in its row.
    const edges = [...phases.map((p) => (p.killed ? p.at - KILL_LOSS_WINDOW_MS : p.at)), Infinity];
    const windows = [{ fault: 'baseline (no fault)', at: 0, recoverMs: 0 } as Phase, ...phases];
    const jobsIn = (from: number, to: number): typeof load.jobs => load.jobs.filter((j) => j.at >= from && j.at < to);
    const anomalies: string[] = [];
    windows.forEach((p, w) => {
      const from = w === 0 ? 0 : edges[w - 1]!;
      const to = edges[w]!;
      const fx = load.fixes.filter((f) => f.at >= from && f.at < to);
      const lost = fx.filter((f) => !in1.has(`${f.driver}@${f.ts}`) || !in2.has(`${f.driver}@${f.ts}`));
      const allowed = lost.filter((f) => phases.some((q) => q.killed && f.node === q.killed.node && f.at <= q.killed.at && f.at > q.killed.at - KILL_LOSS_WINDOW_MS));
      const unexplained = lost.filter((f) => !allowed.includes(f));
      if (unexplained.length) {
        const byNode = new Map<string, number>();
        for (const f of unexplained) byNode.set(f.node, (byNode.get(f.node) ?? 0) + 1);
        const inDc = `missing in dc1 ${unexplained.filter((f) => !in1.has(`${f.driver}@${f.ts}`)).length}, in dc2 ${unexplained.filter((f) => !in2.has(`${f.driver}@${f.ts}`)).length}`;
        const ats = unexplained.map((f) => f.at).sort((x, y) => x - y);
        anomalies.push(`lost fixes (${p.fault}): ${unexplained.length} outside the allowed window, by node ${JSON.stringify([...byNode])}, ${inDc}; acknowledged from ${rel(ats[0]!)} to ${rel(ats.at(-1)!)}`);
      }
      const js = jobsIn(from, to);
      const strandedJs = js.filter((j) => !isFinalState(states.get(j.id) as never));
      const ds = load.doubles.filter((d) => d.at >= from && d.at < to);
      const dsBad = ds.filter((d) => !withinGuarantee(d));
      bad += unexplained.length + strandedJs.length + dsBad.length;
      rows.push([p.fault, w === 0 ? '-' : Number.isNaN(p.recoverMs) ? 'not within 180 s' : `${(p.recoverMs / 1000).toFixed(1)} s`,
        String(fx.length), String(fx.length - lost.length), `${lost.length}${allowed.length ? ` (${allowed.length} allowed)` : ''}`,
        String(js.length), String(js.length - strandedJs.length), String(strandedJs.length), `${ds.length}${ds.length > dsBad.length ? ` (${ds.length - dsBad.length} allowed)` : ''}`]);
    });
    for (const d of load.doubles) anomalies.push(`double assignment at ${rel(d.at)} (earlier claim at ${rel(d.first)}): ${d.what}; ${withinGuarantee(d) ? 'within' : 'BEYOND'} the failover guarantee`);
    // The server's own records, read at the end: no driver held two jobs at once (accepted until its final state).
    const overlapping = overlappingJobs([...load.records].map(([job, r]) => ({ job, driver: r.driver, times: r.times as Record<string, number> | undefined })));
    for (const o of overlapping) anomalies.push(`server records: ${o.driver} held ${o.a} and ${o.b} at once (from ${rel(o.from)})`);
    const overlaps = overlapping.length;
    bad += overlaps;
    anomalies.push(...unplanned);
    for (const j of load.jobs.filter((x) => !isFinalState(states.get(x.id) as never))) {
      const r = load.records.get(j.id);
      anomalies.push(`stranded ${j.id} ${states.get(j.id)}: created ${rel(j.at)}, last changed ${r ? rel(Number(r.updated_ts)) : '?'}, driver ${String(r?.driver ?? '-')}`);
      for (const st of load.refusedSteps.filter((x) => x.job === j.id)) anomalies.push(`  its bot ${st.bot} gave up '${st.step}' at ${rel(st.at)}: ${st.answer}`);
    }
    const stepAnswers = new Map<string, number>();
    for (const st of load.refusedSteps) stepAnswers.set(`${st.step} ${st.answer.split(':')[0]}`, (stepAnswers.get(`${st.step} ${st.answer.split(':')[0]}`) ?? 0) + 1);
    if (load.refusedSteps.length) anomalies.push(`bot steps refused (expected around faults; a bot gives a step up on conflict/not_found, its socket closing, or after 120 s): ${JSON.stringify([...stepAnswers])}`);
    const head = ['fault', 'recovered after', 'fixes accepted', 'stored (both DCs)', 'lost', 'jobs created', 'final', 'stranded', 'double assignments'];
    const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
    const completed = [...states.values()].filter((s) => s === 'completed').length;
    process.stdout.write(`${table}\n\nmode: ${SHORT ? 'short' : 'full'}, faults ${CHOSEN.join(',')}; double assignments: ${load.doubles.length}; `
      + `job writes unreplicated (taxiway_redis_unreplicated_writes_total) before the failover's last 5 s: ${unreplBeforeFailover}, in its last 5 s: ${unreplAtKill}; `
      + `drivers holding two jobs at once in the server's records: ${overlaps}; jobs refused at creation (the rider was told): ${load.refused}; completed: ${completed} of ${load.jobs.length}; bot steps refused: ${load.refusedSteps.length}; `
      + `fixes only in dc1 after repair: ${[...in1].filter((x) => !in2.has(x)).length}, only in dc2: ${[...in2].filter((x) => !in1.has(x)).length}\n`
      + (anomalies.length ? `\nanomalies, timed against the faults:\n${anomalies.map((x) => `- ${x}`).join('\n')}\n` : ''));
    log(`node logs (warnings and errors) in ${logDir}`);
    log(`done in ${((Date.now() - runStart) / 1000).toFixed(0)} s`);
    if (bad) log(`FAIL: ${bad} lost, stranded or doubled beyond the documented guarantee`);
    return bad ? 1 : 0;
  } finally {
    for (const f of cleanup.splice(0)) await f().catch((e) => log(`cleanup: ${String(e)}`));
  }
}

const code = await main().catch((e) => {
  log(`error: ${(e as Error).stack ?? String(e)}`);
  return 2;
});
// cassandra-driver can hold the process with a reconnect timer after a frozen node (see the outage tests).
process.exit(code);
