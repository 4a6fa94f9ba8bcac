import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, until, useRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaRecord } from '../../src/record.js';
import { KafkaSource, type BatchVerdict } from '../../src/source/kafka-source.js';

const rig = useRig(['kafka']);

/** Offsets from 0 that are missing from `seen`, as "first..last" runs. */
function gaps(seen: ReadonlySet<number>, total: number): string[] {
  const runs: string[] = [];
  for (let offset = 0; offset < total; offset += 1) {
    if (seen.has(offset)) continue;
    const from = offset;
    while (offset + 1 < total && !seen.has(offset + 1)) offset += 1;
    runs.push(`${from}..${offset}`);
  }
  return runs;
}

describe('the Kafka source on the real broker', () => {
  // The client does not fetch again what was buffered before a join (a fetch in flight at the join
  // moves its position past the reset), and keeps the position of a partition without a committed
  // offset. A source that emptied its buffer at every join lost those records and committed past
  // them; a partition that went to another member and came back went on after them.
  it('a rebalance, with nothing committed yet: what stays here keeps its buffered records, what comes back starts over, none lost', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = `source-${randomUUID()}`;
    const otherTopic = `source-other-${randomUUID()}`;
    const groupId = `source-${randomUUID()}`;
    const perPartition = 2000;
    await createTopics(brokers, [topic, otherTopic], 2);
    const kafka = new Kafka({ clientId: 'source-test', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({
        topic,
        messages: Array.from({ length: perPartition }, (_, seq) => ({ partition, value: JSON.stringify({ seq }) })),
      });
    }
    await producer.disconnect();

    // The sink is down from the start: the first batches are held and the buffer fills behind them.
    let sinkUp = false;
    const delivered = [new Set<number>(), new Set<number>()];
    const source = new KafkaSource({ brokers, topics: [topic], groupId, maxBatchRecords: 100, lagIntervalMillis: 0 });
    const handle = (records: readonly KafkaRecord[]): Promise<BatchVerdict> => {
      if (!sinkUp) return Promise.resolve('retry');
      for (const record of records) delivered[record.partition]?.add(Number(record.offset));
      return Promise.resolve('done');
    };
    // A second member joins and leaves: two rebalances. It reads another topic, so what it is
    // given of `topic` it does not deliver; that comes back to the first member when it leaves.
    const other = new KafkaSource({ brokers, topics: [otherTopic], groupId, lagIntervalMillis: 0 });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await source.start(handle);
      await until(() => source.stats().holds >= 1, 20_000, 'the first batch held');
      await sleep(1000); // the buffer fills up to its bound behind the held batch
      await other.start(() => Promise.resolve('done'));
      await until(() => other.groupStatus().joined, 30_000, 'the second member joined');
      await other.stop();

      sinkUp = true;
      await until(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          return committed?.partitions.every((p) => p.offset === String(perPartition));
        },
        60_000,
        () =>
          `committed up to ${perPartition} on both partitions (delivered ${delivered.map((d) => d.size).join(' + ')})`,
      );
      assert.deepEqual(
        delivered.map((seen) => gaps(seen, perPartition)),
        [[], []],
        'every record before the committed offset was delivered',
      );
    } finally {
      await source.stop();
      await admin.disconnect();
    }
  });

  it('a handler that throws gets its batch again, uncommitted: the loop goes on, nothing lost', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = `source-throws-${randomUUID()}`;
    const groupId = `source-throws-${randomUUID()}`;
    const total = 300;
    await createTopics(brokers, [topic], 1);
    const kafka = new Kafka({ clientId: 'source-test', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: total }, (_, seq) => ({ value: String(seq) })) });
    await producer.disconnect();

    const told: { topic: string; partition: number; offset: string }[] = [];
    const delivered = new Set<number>();
    let calls = 0;
    const source = new KafkaSource({
      brokers,
      topics: [topic],
      groupId,
      lagIntervalMillis: 0,
      onHandlerError: (_error, batch) => told.push(batch),
    });
    try {
      await source.start((records) => {
        calls += 1;
        if (calls <= 2) throw new Error('a bug in a stage');
        for (const record of records) delivered.add(Number(record.offset));
        return Promise.resolve('done');
      });
      await until(
        () => delivered.size === total,
        30_000,
        () => `all ${total} delivered (${delivered.size})`,
      );
      assert.equal(source.stats().handlerErrors, 2);
      assert.deepEqual(told, [
        { topic, partition: 0, offset: '0' },
        { topic, partition: 0, offset: '0' },
      ]);
    } finally {
      await source.stop();
    }
  });
});
