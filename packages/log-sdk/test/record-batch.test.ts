import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { crc32c, encodeRecordBatch, encodeRecords, type BatchMessage } from '../src/record-batch.js';

// kafkajs's own encoders, unpatched (this file does not load the SDK's kafkajs patch): the oracle.
const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  record: BatchMessage & { offsetDelta: number; timestampDelta: number },
) => Encoded;
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<Encoded>;
};
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: number | string): unknown };

/** What kafkajs 2.2.4's Produce v3 request builds for one partition's messages (gzip or none). */
async function kafkajsBatch(
  messages: readonly BatchMessage[],
  now: number,
  options: { gzip: boolean; producerId: number; producerEpoch: number; firstSequence: number; transactional: boolean },
): Promise<Buffer> {
  const timestamps = messages.map((m) => m.timestamp).filter((t) => t !== null && t !== undefined);
  const firstTimestamp = timestamps.length === 0 ? now : Math.min(...timestamps.map(Number));
  const maxTimestamp = timestamps.length === 0 ? now : Math.max(...timestamps.map(Number));
  const records = messages.map((message, i) =>
    kafkajsRecord({
      ...message,
      offsetDelta: i,
      timestampDelta: Number(message.timestamp ?? now) - firstTimestamp,
    }),
  );
  const batch = await kafkajsRecordBatch({
    compression: options.gzip ? 1 : 0,
    records,
    firstTimestamp,
    maxTimestamp,
    producerId: Long.fromValue(options.producerId),
    producerEpoch: options.producerEpoch,
    firstSequence: options.firstSequence,
    transactional: options.transactional,
    lastOffsetDelta: records.length - 1,
  });
  return batch.buffer;
}

function ours(
  messages: readonly BatchMessage[],
  now: number,
  options: { gzip: boolean; producerId: number; producerEpoch: number; firstSequence: number; transactional: boolean },
): Buffer {
  const { records, ...timestamps } = encodeRecords(messages, now);
  const id = BigInt.asUintN(64, BigInt(options.producerId));
  return encodeRecordBatch(
    {
      compression: options.gzip ? 1 : 0,
      transactional: options.transactional,
      producerIdHigh: Number(BigInt.asIntN(32, id >> 32n)),
      producerIdLow: Number(BigInt.asIntN(32, id)),
      producerEpoch: options.producerEpoch,
      firstSequence: options.firstSequence,
    },
    messages.length,
    options.gzip ? gzipSync(records) : records,
    timestamps,
  );
}

const plain = { gzip: false, producerId: -1, producerEpoch: 0, firstSequence: 0, transactional: false };

describe('RecordBatch encoding', () => {
  it('writes the bytes kafkajs writes for SDK-shaped batches (one key, one header object)', async () => {
    const headers = { 'graybridge-schema': '1' };
    const messages = Array.from({ length: 500 }, (_, seq) => ({
      key: 'shop/checkout-7d9f-abcde',
      value: Buffer.from(JSON.stringify({ level: 30, seq, msg: 'ünïcode ✓ '.repeat(seq % 40) })),
      headers,
    }));
    for (const options of [
      plain,
      { ...plain, gzip: true },
      { gzip: true, producerId: 4_000_000_123, producerEpoch: 3, firstSequence: 1_500, transactional: false },
    ]) {
      assert.deepEqual(
        ours(messages, 1_763_900_000_123, options),
        await kafkajsBatch(messages, 1_763_900_000_123, options),
      );
    }
  });

  it('writes the bytes kafkajs writes for any message shape', async () => {
    const messages: BatchMessage[] = [
      { key: null, value: null },
      { key: Buffer.alloc(0), value: '' },
      { key: 'k', value: 'v', headers: { a: ['1', Buffer.from([0, 255])], ключ: 'значение' } },
      { key: Buffer.from('b'), value: randomBytes(70_000), timestamp: 1_763_900_000_000 },
      { value: 'late', timestamp: '1763900099999' },
      { value: 'early', timestamp: 1_000 },
      { value: 'x'.repeat(200), headers: {} },
    ];
    for (const options of [plain, { ...plain, gzip: true, transactional: true }]) {
      assert.deepEqual(
        ours(messages, 1_763_900_000_500, options),
        await kafkajsBatch(messages, 1_763_900_000_500, options),
      );
    }
  });

  it('computes CRC-32C as kafkajs does, at every length and offset', () => {
    const bytes = randomBytes(4099);
    for (const [from, to] of [
      [0, 0],
      [0, 1],
      [0, 7],
      [0, 8],
      [3, 20],
      [5, 4099],
      [0, 4099],
    ] as const) {
      assert.equal(crc32c(bytes, from, to), kafkajsCrc32c(bytes.subarray(from, to)), `[${from}, ${to})`);
    }
    // The check value of the Castagnoli polynomial (RFC 3720, B.4).
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('encodes a record count of many thousands and large timestamp deltas as varints', async () => {
    const messages = Array.from({ length: 20_000 }, (_, i) => ({ value: `r${i}`, timestamp: 1_000 + i * 999_983 }));
    assert.deepEqual(ours(messages, 0, plain), await kafkajsBatch(messages, 0, plain));
  });
});
