import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type Message } from '@platformatic/kafka';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decodeRecord } from '../decode/decode.js';
import type { BatchVerdict } from '../source/kafka-source.js';
import { clientOptions, type KafkaConnection } from '../source/kafka-client.js';
import type { KafkaRecord } from '../record.js';
import { toRecord } from '../source/kafka-source.js';

/** What to ship again: a topic's records whose Kafka timestamp is in [since, until), optionally one namespace. */
export interface ReplaySpec {
  readonly topic: string;
  readonly sinceMillis: number;
  readonly untilMillis: number;
  readonly namespace?: string;
}

/** Kept in the job's progress: where each partition stands, so a restarted worker resumes there. */
export interface ReplayProgress {
  readonly done: number;
  readonly total: number;
  readonly sent: number;
  readonly skipped: number;
  /** partition → next offset to read. */
  readonly next: Readonly<Record<string, string>>;
}

export interface PartitionRange {
  readonly partition: number;
  readonly from: bigint;
  /** Exclusive. */
  readonly to: bigint;
}

const replayQueueName = 'graybridge-replays';
const cancelKey = (id: string): string => `graybridge:replay:cancel:${id}`;
const chunkRecords = 500;

/** The offsets of the records in [since, until) of every partition, from the brokers' time index. */
export async function replayRanges(kafka: KafkaConnection, spec: ReplaySpec): Promise<PartitionRange[]> {
  const consumer = new Consumer({ ...clientOptions(kafka, 1), groupId: 'graybridge-replay-planner' });
  try {
    const topics = [spec.topic];
    const starts = (await consumer.listOffsets({ topics, timestamp: BigInt(spec.sinceMillis) })).get(spec.topic) ?? [];
    const ends = (await consumer.listOffsets({ topics, timestamp: BigInt(spec.untilMillis) })).get(spec.topic) ?? [];
    const latest = (await consumer.listOffsets({ topics })).get(spec.topic) ?? [];
    // -1: no record at or after that time in the partition → its end.
    return latest.map((end, partition) => {
      const from = (starts[partition] ?? -1n) < 0n ? end : (starts[partition] ?? end);
      const to = (ends[partition] ?? -1n) < 0n ? end : (ends[partition] ?? end);
      return { partition, from, to: to < from ? from : to };
    });
  } finally {
    await consumer.close(true);
  }
}

/** Enqueues, inspects and cancels replay jobs (BullMQ on the dead letters' Redis). */
export class ReplayJobs {
  readonly queue: Queue<ReplaySpec, unknown>;
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
    this.redis.on('error', () => undefined);
    this.queue = new Queue<ReplaySpec, unknown>(replayQueueName, { connection: this.redis });
  }

  async enqueue(spec: ReplaySpec): Promise<string> {
    const job = await this.queue.add('replay', spec, { removeOnComplete: false, removeOnFail: false, attempts: 1 });
    return job.id ?? '';
  }

  async status(
    id: string,
  ): Promise<{ state: string; progress: ReplayProgress | undefined; failedReason?: string } | undefined> {
    const job = await Job.fromId<ReplaySpec, unknown>(this.queue, id);
    if (job === undefined) return undefined;
    const progress = typeof job.progress === 'object' ? (job.progress as unknown as ReplayProgress) : undefined;
    return { state: await job.getState(), progress, ...(job.failedReason ? { failedReason: job.failedReason } : {}) };
  }

  /** Asks the worker running it to stop after the chunk in hand; a waiting job is removed. */
  async cancel(id: string): Promise<void> {
    await this.redis.set(cancelKey(id), '1', 'EX', 86_400);
    const job = await Job.fromId(this.queue, id);
    if (job !== undefined && (await job.getState()) === 'waiting') await job.remove();
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}

export interface ReplayWorkerOptions {
  readonly url: string;
  readonly kafka: KafkaConnection;
  /** A pipeline for one job: its messages carry `_replay_job`. */
  readonly pipelineFor: (jobId: string) => (records: readonly KafkaRecord[]) => Promise<BatchVerdict>;
  /** Jobs run at the same time in this process (live traffic keeps priority). @defaultValue 1 */
  readonly concurrency?: number;
  /** A worker silent this long loses its job to another (which resumes from the checkpoint). @defaultValue 30000 */
  readonly lockMillis?: number;
  readonly logger: Logger;
}

/**
 * Runs replay jobs inside a forwarder: reads the job's offset ranges with a consumer of its own
 * (a group of its own, nothing committed), keeps the records in the time window and namespace, and
 * ships them through the normal pipeline with `_replay_job`. Progress (records done, sent,
 * skipped, and each partition's next offset) is saved after every chunk, so a job taken over by
 * another worker after a crash resumes there; a cancel request stops it after the chunk in hand.
 */
export function startReplayWorker(options: ReplayWorkerOptions): { close(): Promise<void> } {
  const connection = new Redis(options.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const worker = new Worker<ReplaySpec, unknown>(replayQueueName, (job) => runReplay(job, connection, options), {
    connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockMillis ?? 30_000,
    stalledInterval: options.lockMillis ?? 30_000,
  });
  worker.on('error', (error) => options.logger.warn({ error: error.message }, 'replay worker'));
  return {
    async close() {
      // Not waiting for a running job: its lock expires and a forwarder resumes it from its checkpoint.
      await worker.close(true);
      connection.disconnect();
    },
  };
}

async function runReplay(job: Job<ReplaySpec, unknown>, redis: Redis, options: ReplayWorkerOptions): Promise<unknown> {
  const spec = job.data;
  const id = job.id ?? '';
  const saved = typeof job.progress === 'object' ? (job.progress as unknown as ReplayProgress) : undefined;
  const ranges = await replayRanges(options.kafka, spec);
  const total = ranges.reduce((sum, r) => sum + Number(r.to - r.from), 0);
  const next = new Map(ranges.map((r) => [r.partition, BigInt(saved?.next[String(r.partition)] ?? r.from)]));
  const counts = { done: saved?.done ?? 0, sent: saved?.sent ?? 0, skipped: saved?.skipped ?? 0 };
  const report = (): Promise<void> =>
    job.updateProgress({
      ...counts,
      total,
      next: Object.fromEntries([...next].map(([partition, offset]) => [String(partition), offset.toString()])),
    });
  const open = ranges.filter((r) => (next.get(r.partition) ?? r.to) < r.to);
  options.logger.info({ job: id, spec, total, resumed: saved !== undefined }, 'replay started');
  if (open.length === 0) {
    await report();
    return { ...counts, total };
  }
  const handle = options.pipelineFor(id);
  const consumer = new Consumer({ ...clientOptions(options.kafka), groupId: `graybridge-replay-${id}` });
  const buffer: Message[] = [];
  const state = { ended: false }; // set by the stream's close event while the loop awaits
  try {
    const stream = await consumer.consume({
      topics: [spec.topic],
      mode: 'manual',
      autocommit: false,
      offsets: open.map((r) => ({
        topic: spec.topic,
        partition: r.partition,
        offset: next.get(r.partition) ?? r.from,
      })),
      maxWaitTime: 200,
    });
    stream.on('data', (message: Message) => {
      buffer.push(message);
      if (buffer.length >= chunkRecords * 4) stream.pause();
    });
    stream.on('close', () => (state.ended = true));
    const until = new Map(ranges.map((r) => [r.partition, r.to]));
    const finished = (): boolean => ranges.every((r) => (next.get(r.partition) ?? r.to) >= r.to);
    let cancelCheckedAt = 0;
    while (!finished()) {
      // At most every 500 ms: an idle wait must not become a stream of GETs.
      if (Date.now() - cancelCheckedAt >= 500) {
        cancelCheckedAt = Date.now();
        if ((await redis.get(cancelKey(id))) !== null) throw new UnrecoverableError('cancelled');
      }
      if (buffer.length === 0) {
        if (state.ended) throw new Error('the replay consumer stopped before the end of the range');
        await sleep(50);
        continue;
      }
      const chunk = buffer.splice(0, chunkRecords);
      if (stream.isPaused() && buffer.length < chunkRecords * 2) stream.resume();
      const records: KafkaRecord[] = [];
      for (const message of chunk) {
        const end = until.get(message.partition) ?? 0n;
        const at = next.get(message.partition) ?? end;
        if (message.offset < at) continue; // before the checkpoint: already shipped
        if (message.offset >= end) {
          // Past the range: this partition is finished, even if offsets just before the end never
          // arrive as records (compaction, transaction markers).
          next.set(message.partition, end);
          continue;
        }
        next.set(message.partition, message.offset + 1n);
        counts.done += 1;
        const record = toRecord(message);
        const inWindow = record.timestampMillis >= spec.sinceMillis && record.timestampMillis < spec.untilMillis;
        const inNamespace = spec.namespace === undefined || decodeRecord(record).identity.namespace === spec.namespace;
        if (inWindow && inNamespace) records.push(record);
        else counts.skipped += 1;
      }
      for (let attempt = 0; records.length > 0; attempt += 1) {
        if ((await handle(records)) === 'done') break;
        if ((await redis.get(cancelKey(id))) !== null) throw new UnrecoverableError('cancelled');
        await sleep(Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)));
      }
      counts.sent += records.length;
      await report();
    }
    options.logger.info({ job: id, ...counts, total }, 'replay finished');
    return { ...counts, total };
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}
