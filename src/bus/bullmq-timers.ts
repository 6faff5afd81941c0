// BullMQ Timers (cluster mode): each timer is a delayed job; any live node's worker fires it.
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TimerHandler, TimerPayload, Timers } from './timers.js';

/**
 * Durable: a timer scheduled by a node that then dies still fires on another node (the job sits in
 * Redis). Job ids are `kind|key`, so rescheduling replaces and cancelling removes the delayed job.
 * A handler that throws is retried by BullMQ (3 attempts, 500 ms backoff).
 */
export class BullmqTimers implements Timers {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly queue: Queue;
  private worker: Worker | null = null;
  onError: (err: unknown, kind: string) => void = () => {};

  /**
   * @param connection a normal ioredis connection for the queue
   * @param workerConnection a dedicated blocking connection (maxRetriesPerRequest: null) for the worker
   */
  constructor(connection: Redis, private readonly workerConnection: Redis, private readonly prefix: string, private readonly concurrency = 50) {
    this.queue = new Queue('timers', { connection, prefix: prefix + 'bull' });
  }

  handle(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
    if (this.worker) return;
    this.worker = new Worker(
      'timers',
      async (job: Job) => {
        const h = this.handlers.get(job.name);
        if (!h) throw new Error(`no handler for timer kind ${job.name}`);
        await h(job.data as TimerPayload);
      },
      { connection: this.workerConnection, prefix: this.prefix + 'bull', concurrency: this.concurrency },
    );
    this.worker.on('failed', (job, err) => this.onError(err, job?.name ?? '?'));
    this.worker.on('error', (err) => this.onError(err, 'worker'));
  }

  async schedule(kind: string, key: string, delayMs: number, payload: TimerPayload): Promise<void> {
    const jobId = `${kind}|${key}`;
    await this.queue.remove(jobId).catch(() => 0);
    await this.queue.add(kind, payload, {
      jobId,
      delay: Math.max(0, delayMs),
      attempts: 3,
      backoff: { type: 'fixed', delay: 500 },
      removeOnComplete: true,
      removeOnFail: 1000,
    });
  }

  async cancel(kind: string, key: string): Promise<void> {
    await this.queue.remove(`${kind}|${key}`).catch(() => 0);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
