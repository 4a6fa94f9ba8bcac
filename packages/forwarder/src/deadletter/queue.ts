import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ForwarderError, ForwarderErrorCodes } from '../errors.js';
import type { DeadLetter, DeadLetterReason, DeadLetterSink } from './dead-letter.js';

export interface DeadLetterQueueOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string;
  /** @defaultValue "graybridge-dead-letters" */
  readonly name?: string;
  /** Beyond this many, the oldest are evicted (and counted). @defaultValue 100000 */
  readonly maxEntries?: number;
  /** Older ones are evicted (and counted). @defaultValue 7 days */
  readonly maxAgeMillis?: number;
  /** Fail a command after this long instead of waiting for Redis. @defaultValue 5000 */
  readonly commandTimeoutMillis?: number;
}

export interface DeadLetterFilter {
  readonly reason?: DeadLetterReason;
  readonly namespace?: string;
  /** Dead-lettered at or after (epoch ms). */
  readonly sinceMillis?: number;
  /** Dead-lettered before (epoch ms). */
  readonly untilMillis?: number;
}

export interface StoredDeadLetter {
  /** The job id: the letter's event id. */
  readonly id: string;
  readonly letter: DeadLetter;
}

const pageSize = 500;

function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  return (
    (filter.reason === undefined || letter.reason === filter.reason) &&
    (filter.namespace === undefined || letter.namespace === filter.namespace) &&
    (filter.sinceMillis === undefined || letter.deadLetteredAtMillis >= filter.sinceMillis) &&
    (filter.untilMillis === undefined || letter.deadLetteredAtMillis < filter.untilMillis)
  );
}

/**
 * The dead-letter queue: a BullMQ queue on Redis whose jobs are dead letters (no worker takes
 * them; `graybridge dlq` lists, replays and purges them). The job id is the event id, so a batch
 * that is retried does not store its dead letters twice. Commands fail fast while Redis is down
 * (no offline queue): the pipeline then holds the batch instead of committing past it.
 */
export class DeadLetterQueue implements DeadLetterSink {
  readonly queue: Queue<DeadLetter>;
  private readonly redis: Redis;
  private evictedCount = 0;

  constructor(private readonly options: DeadLetterQueueOptions) {
    this.redis = new Redis(options.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: options.commandTimeoutMillis ?? 5000,
      commandTimeout: options.commandTimeoutMillis ?? 5000,
      retryStrategy: (attempt) => Math.min(5000, 200 * attempt),
    });
    this.redis.on('error', () => undefined); // the state is read from `status`; errors surface per command
    this.queue = new Queue<DeadLetter>(options.name ?? 'graybridge-dead-letters', {
      connection: this.redis,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: false },
    });
    this.queue.on('error', () => undefined);
  }

  /** Where it stores them, for messages: `redis://host:port/queue`, without credentials. */
  get endpoint(): string {
    const url = new URL(this.options.url);
    return `${url.protocol}//${url.host}/${this.queue.name}`;
  }

  connected(): boolean {
    return this.redis.status === 'ready';
  }

  evicted(): number {
    return this.evictedCount;
  }

  async add(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    try {
      await this.queue.addBulk(
        letters.map((letter) => ({ name: letter.reason, data: letter, opts: { jobId: letter.eventId } })),
      );
    } catch (error) {
      throw new ForwarderError(
        ForwarderErrorCodes.deadLetterUnavailable,
        `cannot store ${letters.length} dead letter(s) in ${this.endpoint}: ${(error as Error).message}`,
        { retriable: true, cause: error },
      );
    }
  }

  async depth(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  /** Enforces the caps: evicts what is older than maxAgeMillis, then the oldest beyond maxEntries. */
  async enforceCaps(): Promise<number> {
    const tooOld = await this.queue.clean(this.options.maxAgeMillis ?? 7 * 86_400_000, 10_000, 'wait');
    let evicted = tooOld.length;
    const excess = (await this.depth()) - (this.options.maxEntries ?? 100_000);
    if (excess > 0) {
      const oldest = await this.queue.getJobs(['waiting'], 0, excess - 1, true);
      await Promise.all(oldest.map((job) => job.remove()));
      evicted += oldest.length;
    }
    this.evictedCount += evicted;
    return evicted;
  }

  /** Dead letters matching the filter, oldest first, at most `limit`. */
  async list(filter: DeadLetterFilter = {}, limit = Number.POSITIVE_INFINITY): Promise<StoredDeadLetter[]> {
    const found: StoredDeadLetter[] = [];
    for (let start = 0; found.length < limit; start += pageSize) {
      const page: Job<DeadLetter>[] = await this.queue.getJobs(['waiting'], start, start + pageSize - 1, true);
      for (const job of page) {
        if (job.id !== undefined && matches(job.data, filter)) found.push({ id: job.id, letter: job.data });
        if (found.length >= limit) break;
      }
      if (page.length < pageSize) break;
    }
    return found;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const job = await this.queue.getJob(id);
    return job?.data;
  }

  /** Keeps the dead letter but with new contents (e.g. the error of a failed replay). */
  async replace(id: string, letter: DeadLetter): Promise<void> {
    await (await this.queue.getJob(id))?.updateData(letter);
  }

  async remove(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.queue.remove(id)));
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
