// Loads the SDK's kafkajs patch first, as the transport worker does.
import { prepareRecords } from '../src/kafkajs-patch.js';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { BatchMessage } from '../src/record-batch.js';

const require = createRequire(import.meta.url);
const produceRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (args: {
  acks: number;
  timeout: number;
  compression: number;
  topicData: { topic: string; partitions: { partition: number; messages: BatchMessage[] }[] }[];
}) => { encode(): Promise<{ buffer: Buffer }> };

const gzip = 1;

function batch(): BatchMessage[] {
  return Array.from({ length: 50 }, (_, i) => ({
    key: 'shop/checkout-0',
    value: Buffer.from(JSON.stringify({ level: 30, seq: i, msg: 'request completed' })),
    headers: { 'graybridge-schema': '1' },
    timestamp: 1_795_000_000_000 + i,
  }));
}

async function request(messages: BatchMessage[]): Promise<Buffer> {
  const encoded = await produceRequest({
    acks: -1,
    timeout: 30_000,
    compression: gzip,
    topicData: [{ topic: 'logs', partitions: [{ partition: 0, messages }] }],
  }).encode();
  return encoded.buffer;
}

describe('records prepared ahead of their Produce request', () => {
  it('are what the request sends for exactly those messages, byte for byte', async () => {
    const expected = await request(batch());
    const messages = batch();
    prepareRecords(messages, gzip);
    // Changed after preparing: only a request that encoded them itself would see it.
    (messages[0]?.value as Buffer).fill('x');
    assert.deepEqual(await request(messages), expected);
  });

  it('are not used for other messages, a part of them, or another compression', async () => {
    const messages = batch();
    prepareRecords(messages, gzip);
    (messages[0]?.value as Buffer).fill('x');
    const changed = batch();
    (changed[0]?.value as Buffer).fill('x');
    assert.deepEqual(await request(messages.slice(0, 49)), await request(changed.slice(0, 49)));
    prepareRecords(messages, 0);
    assert.deepEqual(await request(messages), await request(changed));
  });
});
