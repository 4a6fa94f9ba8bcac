import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord } from '../../src/decode/decode.js';
import { encodeGelf } from '../../src/encode/gelf.js';
import { toGelfInput } from '../../src/encode/to-gelf.js';
import { enrichRecord } from '../../src/enrich/enrich.js';
import type { KafkaRecord } from '../../src/record.js';

function throughStages(source: KafkaRecord): Record<string, unknown> {
  const outcome = enrichRecord(decodeRecord(source), () => undefined);
  assert.equal(outcome.kind, 'keep');
  const result = encodeGelf(toGelfInput(outcome.enriched));
  assert.ok(result.ok);
  return JSON.parse(result.json) as Record<string, unknown>;
}

describe('decode → enrich → encode (pure stages)', () => {
  it('turns an SDK record into the documented GELF document', () => {
    const value = {
      level: 50,
      time: 1795403200891,
      pid: 7,
      hostname: 'checkout-1',
      service: 'checkout',
      k8s: { pod: 'checkout-1', namespace: 'shop' },
      request_id: 'req-9',
      err: { type: 'Error', message: 'card declined', stack: 'Error: card declined\n    at pay (pay.js:3:9)' },
      paid: false,
      msg: 'payment failed',
    };
    const doc = throughStages({
      topic: 'logs',
      partition: 2,
      offset: '1234',
      timestampMillis: 1795403200999,
      key: Buffer.from('shop/checkout-1'),
      value: Buffer.from(JSON.stringify(value)),
      headers: { 'graybridge-schema': Buffer.from('1') },
    });
    assert.deepEqual(doc, {
      version: '1.1',
      host: 'checkout-1',
      short_message: 'payment failed',
      timestamp: 1795403200.891,
      level: 3,
      _event_id: 'logs-2-1234',
      _kafka_topic: 'logs',
      _kafka_partition: 2,
      _kafka_offset: '1234',
      _k8s_pod: 'checkout-1',
      _k8s_namespace: 'shop',
      _k8s_unresolved: 'true',
      _pid: 7,
      _service: 'checkout',
      _request_id: 'req-9',
      _err_type: 'Error',
      _err_message: 'card declined',
      _err_stack: 'Error: card declined\n    at pay (pay.js:3:9)',
      _paid: 'false',
    });
  });

  it('sends an unreadable record with its decode error instead of dropping it', () => {
    const doc = throughStages({
      topic: 'logs',
      partition: 0,
      offset: '7',
      timestampMillis: 1795403200000,
      key: null,
      value: Buffer.from('{"msg":"cut'),
      headers: {},
    });
    assert.equal(doc.short_message, '{"msg":"cut');
    assert.equal(doc._decode_error, 'truncated_json');
    assert.equal(typeof doc._decode_error_detail, 'string');
    assert.equal(doc.timestamp, 1795403200, 'the Kafka timestamp stands in');
    assert.equal(doc.host, 'unknown');
  });
});
