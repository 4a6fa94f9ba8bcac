import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, until, useRig } from '@graybridge/rig';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createPipeline } from '../../src/pipeline.js';
import { startGelfReceiver, type ReceivedMessage } from '../../src/receiver/server.js';
import { CircuitBreaker } from '../../src/sink/resilient.js';
import { TcpSink } from '../../src/sink/tcp.js';
import { KafkaSource } from '../../src/source/kafka-source.js';

const rig = useRig(['kafka']);

/** These tests produce nothing undeliverable: a dead letter would be a bug. */
const noDeadLetters = {
  add: (letters: readonly unknown[]) =>
    letters.length === 0 ? Promise.resolve() : Promise.reject(new Error(`unexpected dead letters: ${letters.length}`)),
};

/**
 * Waits until the group's committed offset is the end of every partition of `topic` (a commit the
 * coordinator refused is retried), partition by partition.
 */
async function untilCommittedToEnd(admin: Admin, groupId: string, topic: string, what: string): Promise<void> {
  const byPartition = (offsets: readonly { partition: number; offset: string }[]): string =>
    JSON.stringify([...offsets].sort((a, b) => a.partition - b.partition).map((p) => [p.partition, p.offset]));
  const end = byPartition(await admin.fetchTopicOffsets(topic));
  let committed = '';
  await until(
    async () => {
      committed = byPartition((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? []);
      return committed === end;
    },
    15_000,
    () => `${what}: committed ${committed}, end ${end}`,
  );
}

describe('forwarder pipeline on the real broker', () => {
  it('GELF endpoint down at start: nothing is committed, everything arrives once it is up, a restart redelivers nothing', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const kafka = new Kafka({ clientId: 'forwarder-test', brokers, logLevel: logLevel.NOTHING });
    const topic = `fwd-${randomUUID()}`;
    const groupId = `fwd-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    let receiver: Awaited<ReturnType<typeof startGelfReceiver>> | undefined;
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: Array.from({ length: 500 }, (_, seq) => ({
          key: `shop/web-${seq % 2}`,
          value: JSON.stringify({
            level: 30,
            time: Date.now(),
            k8s: { pod: `web-${seq % 2}`, namespace: 'shop' },
            seq,
            msg: `record ${seq}`,
          }),
          headers: { 'graybridge-schema': '1' },
        })),
      });
      await producer.disconnect();

      const port = await freePort();
      const sink = new CircuitBreaker(new TcpSink({ host: '127.0.0.1', port, connectTimeoutMillis: 500 }), {
        failureThreshold: 3,
        cooldownMillis: 1000,
      });
      const pipeline = createPipeline({ sink, lookup: () => undefined, deadLetters: noDeadLetters });
      const source = new KafkaSource({ brokers, topics: [topic], groupId });
      const received: ReceivedMessage[] = [];
      try {
        await source.start((records) => pipeline.handle(records));
        await until(() => source.stats().holds >= 2, 20_000, 'the source held batches while the endpoint was down');
        const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
        // At most where the group starts reading (the source commits that at its join): nothing delivered.
        assert.ok(
          committed.every((t) => t.partitions.every((p) => p.offset === '-1' || p.offset === '0')),
          `nothing committed past the start while down: ${JSON.stringify(committed)}`,
        );

        receiver = await startGelfReceiver({ tcp: { port }, onMessage: (m) => received.push(m) });
        await until(() => received.length >= 500, 30_000, 'all records after the endpoint came up');
        const seqs = [...new Set(received.map((r) => r.message.fields.seq as number))].sort((a, b) => a - b);
        assert.deepEqual(
          seqs,
          Array.from({ length: 500 }, (_, i) => i),
          'no record lost',
        );
        const ids = received.map((r) => r.message.fields.event_id);
        assert.equal(new Set(ids).size, 500, 'duplicates, if any, carry the same _event_id');
        await untilCommittedToEnd(admin, groupId, topic, 'committed up to the end of every partition');
        assert.equal(pipeline.stats().sent, 500);
      } finally {
        await source.stop();
        await sink.close();
      }

      // A new forwarder in the same group starts after the committed offsets: nothing again.
      const before = received.length;
      const again = new KafkaSource({ brokers, topics: [topic], groupId });
      const secondSink = new TcpSink({ host: '127.0.0.1', port });
      const secondPipeline = createPipeline({
        sink: secondSink,
        lookup: () => undefined,
        deadLetters: noDeadLetters,
      });
      try {
        await again.start((records) => secondPipeline.handle(records));
        // A new record on each partition proves the second member reads both: they must be the only
        // things it delivers (a redelivered batch would come before them in its partition).
        const sentinel = kafka.producer();
        await sentinel.connect();
        await sentinel.send({
          topic,
          messages: [0, 1].map((partition) => ({
            partition,
            value: JSON.stringify({ level: 30, msg: `sentinel ${String(partition)}` }),
          })),
        });
        await sentinel.disconnect();
        const sentinels = () => received.filter((r) => r.message.message.startsWith('sentinel')).length;
        await until(() => sentinels() === 2, 30_000, 'a sentinel from each partition');
        assert.equal(received.length, before + 2, 'nothing redelivered after a clean stop');
      } finally {
        await again.stop();
        await secondSink.close();
      }
    } finally {
      await receiver?.close();
      await admin.disconnect();
    }
  });

  it('working off a backlog, offsets are committed at most once per commitIntervalMillis; caught up, everything is committed', async (t) => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const kafka = new Kafka({ clientId: 'forwarder-test', brokers, logLevel: logLevel.NOTHING });
    const topic = `fwd-backlog-${randomUUID()}`;
    const groupId = `fwd-backlog-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const producer = kafka.producer();
      await producer.connect();
      const backlog = 20_000;
      for (let sent = 0; sent < backlog; sent += 5000)
        await producer.send({
          topic,
          messages: Array.from({ length: 5000 }, (_, i) => ({
            key: `shop/web-${(sent + i) % 2}`,
            value: JSON.stringify({ level: 30, seq: sent + i, msg: 'backlog' }),
          })),
        });
      await producer.disconnect();

      // A sink that takes 20 ms per batch of at most 100: the backlog lasts seconds, batches by the hundred.
      const intervalMillis = 3000; // far from the 500 ms default, so that ignoring it would show
      const source = new KafkaSource({
        brokers,
        topics: [topic],
        groupId,
        maxBatchRecords: 100,
        commitIntervalMillis: intervalMillis,
      });
      let delivered = 0;
      let firstBatchAt = 0;
      try {
        await source.start(async (records) => {
          firstBatchAt ||= Date.now();
          await sleep(20);
          delivered += records.length;
          return 'done';
        });
        await until(() => delivered >= backlog, 60_000, 'the whole backlog delivered');
        const seconds = (Date.now() - firstBatchAt) / 1000;
        const { batches, commits } = source.stats();
        t.diagnostic(`${commits} commits for ${batches} batches in ${seconds.toFixed(1)} s`);
        assert.ok(batches >= backlog / 100, `${batches} batches`);
        // One per interval while behind, plus one whenever the fetch buffer ran empty (caught up for
        // a moment) — a few on a busy machine.
        assert.ok(
          commits <= Math.ceil((seconds * 1000) / intervalMillis) + 4,
          `${commits} commits for ${batches} batches in ${seconds.toFixed(1)} s`,
        );
        await untilCommittedToEnd(admin, groupId, topic, 'committed up to the end of every partition once caught up');
      } finally {
        await source.stop();
      }
    } finally {
      await admin.disconnect();
    }
  });
});
