import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startRedis, stopService, useRig } from '@graybridge/rig';
import { deadLetterOf, recordOf } from '../../src/deadletter/dead-letter.js';
import { DeadLetterQueue } from '../../src/deadletter/queue.js';
import { ForwarderError } from '../../src/errors.js';
import type { KafkaRecord } from '../../src/record.js';

const rig = useRig(['redis']);

const record = (offset: number): KafkaRecord => ({
  topic: 'logs',
  partition: 1,
  offset: String(offset),
  timestampMillis: 1795403200000 + offset,
  key: Buffer.from('shop/web-1'),
  value: Buffer.from([0x7b, 0xff, offset]),
  headers: { 'graybridge-schema': '1' },
});

describe('dead-letter queue on real Redis (BullMQ)', () => {
  it('stores letters once per event id, lists them by filter, keeps the original bytes, replaces and removes', async () => {
    const queue = new DeadLetterQueue({ url: rig().redis?.url ?? '', name: `dlq-${Date.now()}` });
    try {
      const letters = [
        deadLetterOf(record(1), { namespace: 'shop', pod: 'web-1' }, 'too_large', 'too big', 1000),
        deadLetterOf(record(2), { namespace: 'shop', pod: 'web-1' }, 'sink_rejected', 'answered 400', 2000),
        deadLetterOf(record(3), { namespace: 'billing' }, 'sink_rejected', 'answered 400', 3000),
      ];
      await queue.add(letters);
      await queue.add(letters.slice(0, 2)); // a retried batch stores nothing twice
      assert.equal(await queue.depth(), 3);
      assert.deepEqual(
        (await queue.list()).map((s) => s.id),
        ['logs-1-1', 'logs-1-2', 'logs-1-3'],
      );
      assert.deepEqual(
        (await queue.list({ reason: 'sink_rejected', namespace: 'shop' })).map((s) => s.id),
        ['logs-1-2'],
      );
      assert.deepEqual(
        (await queue.list({ sinceMillis: 2000, untilMillis: 3000 })).map((s) => s.id),
        ['logs-1-2'],
      );
      const [first, second] = letters;
      assert.ok(first && second);
      const stored = await queue.get('logs-1-1');
      assert.deepEqual(recordOf(stored ?? first), record(1), 'the original record comes back byte for byte');
      await queue.replace('logs-1-2', { ...second, error: 'answered 413' });
      assert.equal((await queue.get('logs-1-2'))?.error, 'answered 413');
      await queue.remove(['logs-1-1', 'logs-1-3']);
      assert.deepEqual(
        (await queue.list()).map((s) => s.id),
        ['logs-1-2'],
      );
    } finally {
      await queue.close();
    }
  });

  it('enforces the size and age caps, counting what it evicts', async () => {
    const queue = new DeadLetterQueue({
      url: rig().redis?.url ?? '',
      name: `dlq-caps-${Date.now()}`,
      maxEntries: 5,
      maxAgeMillis: 60_000,
    });
    try {
      await queue.add(Array.from({ length: 8 }, (_, i) => deadLetterOf(record(i), {}, 'too_large', 'x')));
      assert.equal(await queue.enforceCaps(), 3);
      assert.deepEqual(
        (await queue.list()).map((s) => s.id),
        ['logs-1-3', 'logs-1-4', 'logs-1-5', 'logs-1-6', 'logs-1-7'],
        'the oldest went first',
      );
      assert.equal(queue.evicted(), 3);
    } finally {
      await queue.close();
    }
  });

  it('fails fast with a retriable GB_FORWARDER_DEAD_LETTER_UNAVAILABLE while Redis is down, and recovers', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'dlq-redis-'));
    let redis = await startRedis({ dir, port });
    const queue = new DeadLetterQueue({ url: redis.endpoint.url, name: 'dlq-outage', commandTimeoutMillis: 1000 });
    try {
      await queue.add([deadLetterOf(record(1), {}, 'too_large', 'x')]);
      await stopService(redis.process.pid);
      const started = Date.now();
      await assert.rejects(queue.add([deadLetterOf(record(2), {}, 'too_large', 'x')]), (error: unknown) => {
        assert.ok(error instanceof ForwarderError);
        assert.equal(error.code, 'GB_FORWARDER_DEAD_LETTER_UNAVAILABLE');
        assert.equal(error.retriable, true);
        assert.match(
          error.message,
          new RegExp(`cannot store 1 dead letter\\(s\\) in redis://127\\.0\\.0\\.1:${port}/dlq-outage`),
        );
        return true;
      });
      assert.ok(Date.now() - started < 3000, 'no hang while Redis is down');
      assert.equal(queue.connected(), false);
      redis = await startRedis({ dir, port });
      const deadline = Date.now() + 10_000;
      while (!queue.connected() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      await queue.add([deadLetterOf(record(3), {}, 'too_large', 'x')]);
      assert.deepEqual(
        (await queue.list()).map((s) => s.id),
        ['logs-1-3'],
        'a Redis without persistence comes back empty; new letters are stored again',
      );
    } finally {
      await queue.close();
      await stopService(redis.process.pid);
    }
  });
});
