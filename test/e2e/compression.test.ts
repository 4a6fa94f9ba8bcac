// An app may pick any compression the SDK offers: the forwarder's Kafka source (a different Kafka
// client, with its own codecs) must read every one of them, record for record.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { KafkaSource } from '@graybridge/forwarder';
import { createLogger, type Compression } from '@graybridge/log-sdk';
import { untilCount, useRig } from '@graybridge/rig';
import { createTopic } from '../fixtures/kafka.js';

const rig = useRig(['kafka']);
const brokers = (): string[] => [...(rig().kafka?.brokers ?? [])];
const records = 3000;

describe('every compression the SDK sends, read by the forwarder', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as Compression[]) {
    it(`${compression}: all records, intact and in order`, async (t) => {
      if (compression === 'zstd' && !('zstdCompress' in zlib)) {
        t.skip(`zstd needs Node ≥ 22.15 (this is ${process.version})`);
        return;
      }
      const topic = await createTopic(brokers(), `compression-${compression}`, 1);
      const logger = createLogger({ kafka: { brokers: brokers(), topic, compression }, handleSignals: false });
      // Text that repeats and text that does not.
      for (let seq = 0; seq < records; seq += 1) {
        logger.info({ seq, text: 'lorem ipsum '.repeat(20), noise: randomUUID() }, 'compressed');
      }
      const stats = await logger.close();
      assert.equal(stats.sentRecords, records);
      assert.equal(stats.sendErrors, 0, 'the broker took every batch as compressed');

      const source = new KafkaSource({ brokers: brokers(), topics: [topic], groupId: `compression-${randomUUID()}` });
      const received: { seq: number; text: string; noise: string }[] = [];
      try {
        await source.start((batch) => {
          for (const record of batch)
            received.push(
              JSON.parse(record.value?.toString() ?? 'null') as { seq: number; text: string; noise: string },
            );
          return Promise.resolve('done');
        });
        await untilCount(received, records, 30_000);
      } finally {
        await source.stop();
      }
      assert.deepEqual(
        received.map((record) => record.seq),
        Array.from({ length: records }, (_, seq) => seq),
      );
      assert.ok(received.every((record) => record.text === 'lorem ipsum '.repeat(20)));
      assert.equal(new Set(received.map((record) => record.noise)).size, records, 'the incompressible field intact');
    });
  }
});
