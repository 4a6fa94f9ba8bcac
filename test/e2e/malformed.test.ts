// Bad input through the real forwarder: every malformed record still reaches Graylog as a
// message an operator can find (`_decode_error`), nothing is dropped, and the partition moves on.
// The table is the contract documented in docs/gelf-fields.md ("Malformed records").
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { useRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';
import { startCountingReceiver } from '../fixtures/gelf.js';
import { createTopic } from '../fixtures/kafka.js';
import { startForwarderProcess, until } from '../fixtures/processes.js';

const rig = useRig(['kafka']);

interface Case {
  readonly name: string;
  readonly value: Buffer | null;
  /** `_decode_error`, or undefined when the record is fine as it is. */
  readonly decodeError: string | undefined;
  /** What Graylog shows as the message. */
  readonly message: string | RegExp;
}

const cases: readonly Case[] = [
  { name: 'empty value', value: Buffer.alloc(0), decodeError: 'empty', message: '(empty record)' },
  { name: 'tombstone (null value)', value: null, decodeError: 'empty', message: '(empty record)' },
  {
    name: 'binary',
    value: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x10, 0x80]),
    decodeError: 'binary',
    message: '(binary record, 7 bytes)',
  },
  {
    name: 'invalid UTF-8',
    value: Buffer.from([0x68, 0x69, 0x20, 0xc3, 0x28, 0x21]),
    decodeError: 'invalid_utf8',
    message: 'hi \ufffd(!',
  },
  {
    name: 'truncated JSON',
    value: Buffer.from('{"level":30,"msg":"cut off'),
    decodeError: 'truncated_json',
    message: '{"level":30,"msg":"cut off',
  },
  {
    name: 'invalid JSON',
    value: Buffer.from('{"level":30,,"msg":"x"}'),
    decodeError: 'invalid_json',
    message: '{"level":30,,"msg":"x"}',
  },
  { name: 'JSON array', value: Buffer.from('[1,2,3]'), decodeError: 'not_an_object', message: '[1,2,3]' },
  {
    name: 'gigantic (over decode.maxRecordBytes)',
    value: Buffer.from(JSON.stringify({ msg: 'big', blob: 'z'.repeat(200_000) })),
    decodeError: 'too_large',
    message: /^\{"msg":"big","blob":"z+/,
  },
  {
    name: 'plain text',
    value: Buffer.from('GET /healthz 200 1ms'),
    decodeError: undefined,
    message: 'GET /healthz 200 1ms',
  },
  { name: 'whitespace only', value: Buffer.from('   \n'), decodeError: undefined, message: /\S/ },
  {
    name: 'JSON object without a message',
    value: Buffer.from('{"level":"warn","user":"x"}'),
    decodeError: undefined,
    message: /\S/,
  },
  {
    name: 'prototype-polluting keys',
    value: Buffer.from('{"msg":"p","__proto__":{"polluted":true}}'),
    decodeError: undefined,
    message: 'p',
  },
];

describe('malformed records through graybridge forward', () => {
  it('each becomes a findable GELF message with its _decode_error; none is dropped; the partition is committed', async () => {
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const topic = await createTopic(brokers, 'e2e-malformed', 1);
    const producer = new Kafka({ clientId: 'e2e-malformed', brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (const { value } of cases) await producer.send({ topic, messages: [{ value }] });
    await producer.disconnect();
    const gelf = await startCountingReceiver('tcp');
    const forwarder = await startForwarderProcess({
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-malformed-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      GRAYBRIDGE_DECODE_MAX_RECORD_BYTES: '65536',
      GRAYBRIDGE_OPS_LAG_INTERVAL_MILLIS: '300',
    });
    try {
      await until(() => gelf.messages.length === cases.length, 30_000, `${cases.length} messages`);
      const byOffset = new Map(gelf.messages.map((m) => [Number(m.message.fields.kafka_offset), m]));
      cases.forEach((expected, offset) => {
        const received = byOffset.get(offset);
        assert.ok(received, `${expected.name}: no message`);
        const { message, droppedFields } = received;
        assert.equal(message.fields.decode_error, expected.decodeError, expected.name);
        if (typeof expected.message === 'string') assert.equal(message.message, expected.message, expected.name);
        else assert.match(message.message, expected.message, expected.name);
        assert.deepEqual(droppedFields, [], `${expected.name}: Graylog would drop fields`);
      });
      // `__proto__` stays plain data: it arrives as a field of its own, it does not vanish or merge.
      const polluting = Object.keys(byOffset.get(11)?.message.fields ?? {}).filter((key) => /polluted|proto/.test(key));
      assert.deepEqual(polluting, ['proto___polluted']);
      assert.equal(await forwarder.metric('graybridge_decode_errors_total'), 8);
      assert.equal(await forwarder.metric('graybridge_records_sent_total'), cases.length);
      await until(async () => (await forwarder.metric('graybridge_consumer_lag_records')) === 0, 10_000, 'committed');
    } finally {
      await forwarder.stop();
      await gelf.close();
    }
  });
});
