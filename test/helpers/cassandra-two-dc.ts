// Test helper: the two-data-centre Cassandra cluster (scripts/cassandra/start.sh --dcs 2), started once and shared, frozen per DC by tests.
import fs from 'node:fs';
import path from 'node:path';
import { REPO, cassandraNotAsked, runScript } from './cassandra.js';
import { skipOrFail } from './services.js';

const START = path.join(REPO, 'scripts/cassandra/start.sh');
const STOP = path.join(REPO, 'scripts/cassandra/stop.sh');
const NODETOOL = path.join(REPO, 'scripts/cassandra/nodetool.sh');

export type Dc = 'dc1' | 'dc2';

/** The cluster's folder (start.sh's default, or CASSANDRA_2DC_DIR as given to it). */
const DIR = process.env.CASSANDRA_2DC_DIR || path.join(REPO, '.cassandra/two-dc');
/** Present while a test started the cluster: the last test user to leave stops it. */
const MARKER = path.join(DIR, 'started-by-test');
const USERS = path.join(DIR, 'users');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One node per data centre: dc1 on 127.0.0.1, dc2 on 127.0.0.2, the same CQL port. */
export class TwoDcCassandra {
  private constructor(readonly contactPoints: Record<Dc, string>) {}

  /** Both contact points, dc1 first. */
  get all(): string[] {
    return [this.contactPoints.dc1, this.contactPoints.dc2];
  }

  pid(dc: Dc): number {
    return Number(fs.readFileSync(path.join(DIR, dc, 'cassandra.pid'), 'utf8'));
  }

  /** Freeze (SIGSTOP) or resume (SIGCONT) a whole data centre. */
  signal(dc: Dc, sig: 'SIGSTOP' | 'SIGCONT'): void {
    process.kill(this.pid(dc), sig);
  }

  /** `nodetool <args>` against a DC's node (JMX); resolves with its exit code and output. */
  nodetool(dc: Dc, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return runScript(NODETOOL, {}, [dc, ...args]);
  }

  /**
   * The cluster from CASSANDRA_2DC_CONTACT_POINTS (started by CI or by hand with `npm run cassandra:start
   * -- --dcs 2`), else started here (~45 s on 2 cores, ~1.3 GB resident for both). A skip reason
   * without Java/Maven (a failure under TAXIWAY_REQUIRE_SERVICES=1). Call release() when done.
   * `always` false (tests): started only when Cassandra tests were asked for (CASSANDRA_CONTACT_POINTS set,
   * as for every Cassandra test: a plain `npm test` starts no JVM); `npm run chaos` passes true.
   */
  static async acquire(always = false): Promise<TwoDcCassandra | string> {
    if (!always && !process.env.CASSANDRA_2DC_CONTACT_POINTS) {
      const notAsked = cassandraNotAsked();
      if (notAsked !== undefined) return skipOrFail('Cassandra two-DC cluster', `${notAsked}; or set CASSANDRA_2DC_CONTACT_POINTS (\`npm run cassandra:start -- --dcs 2\` prints it)`);
    }
    fs.mkdirSync(USERS, { recursive: true });
    fs.writeFileSync(path.join(USERS, String(process.pid)), '');
    const given = process.env.CASSANDRA_2DC_CONTACT_POINTS;
    if (given) {
      const [dc1, dc2] = given.split(',').map((s) => s.trim());
      if (!dc1 || !dc2) throw new Error(`CASSANDRA_2DC_CONTACT_POINTS=${given}: expected dc1's host:port,dc2's host:port`);
      return new TwoDcCassandra({ dc1, dc2 });
    }
    const pidfile = (dc: Dc): string => path.join(DIR, dc, 'cassandra.pid');
    const running = (['dc1', 'dc2'] as const).every((dc) => fs.existsSync(pidfile(dc)) && alive(Number(fs.readFileSync(pidfile(dc), 'utf8'))));
    const r = await runScript(START, { CASSANDRA_2DC_DIR: DIR }, ['--dcs', '2', ...(running ? [] : ['--clean'])]);
    if (r.code !== 0) {
      TwoDcCassandra.leave();
      return skipOrFail('Cassandra two-DC cluster', `scripts/cassandra/start.sh --dcs 2 failed (needs Java 17 or 11 and Maven): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (!running) fs.writeFileSync(MARKER, String(process.pid));
    const [dc1, dc2] = r.stdout.trim().split(',');
    return new TwoDcCassandra({ dc1: dc1!, dc2: dc2! });
  }

  /** Leaves; the last live test user of a cluster a test started stops it (resuming a frozen DC first). */
  async release(): Promise<void> {
    TwoDcCassandra.leave();
    if (!fs.existsSync(MARKER) || process.env.CASSANDRA_2DC_CONTACT_POINTS) return;
    const others = fs.readdirSync(USERS).map(Number).filter((p) => p !== process.pid && alive(p));
    if (others.length) return;
    fs.rmSync(MARKER, { force: true });
    await runScript(STOP, { CASSANDRA_2DC_DIR: DIR, CASSANDRA_STOP_GRACE_S: '20' }, ['--dcs', '2']);
  }

  private static leave(): void {
    fs.rmSync(path.join(USERS, String(process.pid)), { force: true });
  }
}
