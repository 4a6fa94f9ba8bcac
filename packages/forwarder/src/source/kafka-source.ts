import { setTimeout as sleep } from 'node:timers/promises';
import { registerKafkaCodecs } from '@graybridge/log-sdk';
import { Kafka, logLevel, type Consumer, type EachBatchPayload } from 'kafkajs';
import type { KafkaRecord } from '../record.js';

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topics: readonly (string | RegExp)[];
  readonly groupId: string;
  readonly clientId?: string;
  /** Partitions processed at the same time (each one strictly in order). @defaultValue 2 */
  readonly partitionsConcurrently?: number;
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
  private readonly counts = { batches: 0, records: 0, commits: 0, holds: 0 };
  private stopping = false;

  constructor(private readonly options: KafkaSourceOptions) {
    registerKafkaCodecs();
    this.consumer = new Kafka({
      clientId: options.clientId ?? 'graybridge-forwarder',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
    }).consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  }

  stats(): SourceStats {
    return { ...this.counts };
  }

  async start(handle: (records: readonly KafkaRecord[]) => Promise<BatchVerdict>): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 2,
      eachBatch: (payload) => this.onBatch(payload, handle),
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
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
