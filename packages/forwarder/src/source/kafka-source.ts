import { setTimeout as sleep } from 'node:timers/promises';
import { registerKafkaCodecs } from '@graybridge/log-sdk';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type SASLOptions } from 'kafkajs';
import type { KafkaRecord } from '../record.js';

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly (string | RegExp)[];
  readonly groupId: string;
  readonly clientId?: string;
  /** Partitions processed at the same time (each one strictly in order). @defaultValue 2 */
  readonly partitionsConcurrently?: number;
  /** A member silent this long loses its partitions. @defaultValue 30000 */
  readonly sessionTimeoutMillis?: number;
  /** Most bytes fetched per partition at once; bounds memory in flight. @defaultValue 1048576 */
  readonly fetchMaxBytesPerPartition?: number;
  /** A new group starts at the oldest retained record. @defaultValue true */
  readonly fromBeginning?: boolean;
  readonly tls?: ConnectionOptions;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  /** How often the lag of the assigned partitions is read from the brokers; 0 = never. @defaultValue 10000 */
  readonly lagIntervalMillis?: number;
}

/** Records between the group's committed offset and the end of one assigned partition. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** Whether this member is in its group, with the reason when it is not. */
export interface GroupStatus {
  readonly joined: boolean;
  readonly detail?: string;
}

/** What the pipeline says about a batch of one partition. */
export type BatchVerdict =
  /** Every record reached a terminal state (sent, dead-lettered or counted as excluded): commit. */
  | 'done'
  /** Not all could be delivered now: do not commit; the source waits and asks again. */
  | 'retry';

export interface SourceStats {
  readonly batches: number;
  readonly records: number;
  readonly commits: number;
  /** Times a batch was held back because the sink could not take it. */
  readonly holds: number;
}

/**
 * The pipeline's first stage: a kafkajs consumer group with auto-commit off. Each partition's
 * batches are handed over strictly in order; a batch is committed only after the handler says
 * every record in it reached a terminal state, so the committed offset is always the highest
 * contiguous delivered one. While the handler answers `retry` (the sink is down), the source holds
 * the batch, heartbeats so the group does not rebalance, and asks again after a backoff; a
 * revoked partition's batch is abandoned uncommitted (its records are redelivered to the new owner).
 */
export class KafkaSource {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly counts = { batches: 0, records: 0, commits: 0, holds: 0 };
  private stopping = false;
  private group: GroupStatus = { joined: false, detail: 'not started' };
  private assignment: Readonly<Record<string, readonly number[]>> = {};
  private lagSample: readonly PartitionLag[] = [];
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KafkaSourceOptions) {
    registerKafkaCodecs();
    const kafka = new Kafka({
      clientId: options.clientId ?? 'graybridge-forwarder',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      ...(options.tls === undefined ? {} : { ssl: options.tls }),
      ...(options.sasl === undefined ? {} : { sasl: { ...options.sasl } as SASLOptions }),
    });
    const perPartition = options.fetchMaxBytesPerPartition ?? 1024 * 1024;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMillis ?? 30_000,
      maxBytesPerPartition: perPartition,
      maxBytes: perPartition * (options.partitionsConcurrently ?? 2),
    });
    this.admin = kafka.admin();
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.group = { joined: true };
      this.assignment = payload.memberAssignment;
    });
    this.consumer.on(events.REBALANCING, () => (this.group = { joined: false, detail: 'rebalancing' }));
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.group = { joined: false, detail: `consumer crashed: ${payload.error.message}` };
    });
    this.consumer.on(events.STOP, () => (this.group = { joined: false, detail: 'stopped' }));
  }

  stats(): SourceStats {
    return { ...this.counts };
  }

  groupStatus(): GroupStatus {
    return this.group;
  }

  /** The latest lag reading of the partitions assigned to this member. */
  lag(): readonly PartitionLag[] {
    return this.lagSample;
  }

  async start(handle: (records: readonly KafkaRecord[]) => Promise<BatchVerdict>): Promise<void> {
    this.group = { joined: false, detail: 'joining' };
    await this.consumer.connect();
    await this.admin.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 2,
      eachBatch: (payload) => this.onBatch(payload, handle),
    });
    const interval = this.options.lagIntervalMillis ?? 10_000;
    if (interval > 0) this.scheduleLag(interval);
  }

  /** Stops fetching, lets the batch in hand finish and commit (a held one is abandoned), leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.lagTimer);
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  private scheduleLag(interval: number): void {
    this.lagTimer = setTimeout(() => {
      void this.readLag().finally(() => {
        if (!this.stopping) this.scheduleLag(interval);
      });
    }, interval);
    this.lagTimer.unref();
  }

  /** Lag = end offset − committed offset (or − the oldest retained one before the first commit). */
  private async readLag(): Promise<void> {
    const sample: PartitionLag[] = [];
    try {
      for (const [topic, partitions] of Object.entries(this.assignment)) {
        const ends = await this.admin.fetchTopicOffsets(topic);
        const [committed] = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
        for (const partition of partitions) {
          const end = ends.find((e) => e.partition === partition);
          if (end === undefined) continue;
          const done = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          const from = done >= 0 ? done : Number(this.options.fromBeginning === false ? end.high : end.low);
          sample.push({ topic, partition, lag: Math.max(0, Number(end.high) - from) });
        }
      }
      this.lagSample = sample;
    } catch {
      // Brokers unreachable: keep the last reading; the group status says what is wrong.
    }
  }

  private async onBatch(
    payload: EachBatchPayload,
    handle: (records: readonly KafkaRecord[]) => Promise<BatchVerdict>,
  ): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const records: KafkaRecord[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      timestampMillis: Number(message.timestamp),
      key: message.key,
      value: message.value,
      headers: Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
      ),
    }));
    this.counts.batches += 1;
    for (let attempt = 0; ; attempt += 1) {
      if (this.stopping || !payload.isRunning() || payload.isStale()) return; // revoked or stopping: not committed
      const verdict = await handle(records);
      if (verdict === 'done') break;
      this.counts.holds += 1;
      // Hold the batch, keep the group membership alive, try again.
      const waitMillis = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5));
      for (let waited = 0; waited < waitMillis && payload.isRunning(); waited += 1000) {
        await payload.heartbeat();
        await sleep(Math.min(1000, waitMillis - waited));
      }
    }
    const last = batch.messages.at(-1);
    if (last === undefined) return;
    payload.resolveOffset(last.offset);
    // Committed offset = the next one to read: everything before it reached a terminal state.
    await this.consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
    ]);
    this.counts.records += records.length;
    this.counts.commits += 1;
    await payload.heartbeat();
  }
}
