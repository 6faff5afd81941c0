// BullMQ Timers (cluster mode): each timer is a delayed job; any live node's worker fires it.
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { CommitDurability } from '../config/redis-settings.js';
import { RedisKeys } from '../storage/redis-keys.js';
import type { RedisClient } from './redis-connection.js';
import { ReplicaWait } from './replica-wait.js';
import type { UnreplicatedListener } from './replica-wait.js';
import type { TimerHandler, TimerPayload, Timers } from './timers.js';

/**
 * Longest a node's worker blocks waiting for work, seconds. BullMQ wakes one blocked worker per delayed
 * job (a marker popped by one node) and otherwise blocks until the next due time it knows, up to 10 s:
 * when the node holding the marker of a due timer dies, the others would notice it only then (measured:
 * an offer timer of 1 s fired after ~10 s when another node knew only a later timer). Re-polling every
 * second costs one blocking Redis call per node per second.
 */
const MAX_BLOCK_S = 1;

/** Attempts of a timer whose handler throws (handlers are idempotent: each re-reads the job first). */
export const TIMER_ATTEMPTS = 8;

/**
 * The BullMQ prefix of a city's timer queue (undefined: the queue of timers without a city, the one
 * every node works): braced (`storage/redis-keys.ts`), as BullMQ requires on a Redis Cluster, a city's
 * queue in the city's slot.
 */
export function timerQueuePrefix(prefix: string, city?: string): string {
  return new RedisKeys(prefix).timersQueuePrefix(city);
}

/** A BullMQ worker that never blocks longer than MAX_BLOCK_S. */
class PromptWorker extends Worker {
  protected override getBlockTimeout(blockUntil: number): number {
    return Math.min(super.getBlockTimeout(blockUntil), MAX_BLOCK_S);
  }
}

/**
 * One BullMQ queue, `timers`, under the prefix given (`timerQueuePrefix`: `<prefix>{<city>}bull` for a
 * city's queue, `<prefix>{timers}` for timers without a city). BullMQ's scripts touch several keys of a
 * queue at once, so on a Redis Cluster the prefix must carry a hash tag that puts the whole queue in one
 * slot; a city's queue sits in its city's slot.
 *
 * Durable: a timer scheduled by a node that then dies still fires on another node (the job sits in
 * Redis). Job ids are `kind|key`, so rescheduling replaces and cancelling removes the delayed job.
 * A handler that throws is retried by BullMQ (TIMER_ATTEMPTS attempts, backoff 0.5, 1, 2 … 32 s: 63.5 s in all,
 * longer than a Sentinel failover, whose failing commands would otherwise use up the retries and lose the timer). A timer whose node died fires
 * on another node within about a second of its due time (see MAX_BLOCK_S).
 */
export class BullmqTimers implements Timers {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private readonly replicas: ReplicaWait;
  onError: (err: unknown, kind: string) => void = () => {};

  /** A key of the queue, for routing WAIT to the queue's primary on a Cluster. */
  private readonly queueKey: string;

  /**
   * @param connection a normal ioredis connection for the queue
   * @param prefix the queue's BullMQ prefix (timerQueuePrefix)
   * @param workerConnection a dedicated blocking connection (maxRetriesPerRequest: null) for the worker
   * @param durability WAIT for replicas after scheduling (as job commits do), so a timer armed with a commit
   *   is replicated before the caller acts on the commit; default none
   */
  constructor(
    connection: RedisClient,
    private readonly workerConnection: RedisClient,
    private readonly prefix: string,
    private readonly concurrency = 50,
    durability: CommitDurability = { replicas: 0, timeoutMs: 50 },
    onUnreplicated?: UnreplicatedListener,
  ) {
    this.queueKey = `${prefix}:timers:id`;
    this.queue = new Queue('timers', { connection, prefix });
    this.replicas = new ReplicaWait(connection, durability, onUnreplicated);
  }

  handle(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
    if (this.worker) return;
    this.worker = new PromptWorker(
      'timers',
      async (job: Job) => {
        const h = this.handlers.get(job.name);
        if (!h) throw new Error(`no handler for timer kind ${job.name}`);
        await h(job.data as TimerPayload);
      },
      { connection: this.workerConnection, prefix: this.prefix, concurrency: this.concurrency, drainDelay: MAX_BLOCK_S },
    );
    this.worker.on('failed', (job, err) => this.onError(err, job?.name ?? '?'));
    this.worker.on('error', (err) => this.onError(err, 'worker'));
  }

  /** One queue: city routing is CityTimers' (city-timers.ts). */
  serveCities(): void {}

  async schedule(kind: string, key: string, delayMs: number, payload: TimerPayload): Promise<void> {
    const jobId = `${kind}|${key}`;
    await this.queue.remove(jobId).catch(() => 0);
    await this.queue.add(kind, payload, {
      jobId,
      delay: Math.max(0, delayMs),
      attempts: TIMER_ATTEMPTS,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
    await this.replicas.after(this.queueKey);
  }

  async cancel(kind: string, key: string): Promise<void> {
    await this.queue.remove(`${kind}|${key}`).catch(() => 0);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
