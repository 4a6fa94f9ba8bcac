import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodLookup, PodQuery } from '@graybridge/enricher';
import { defaultGelfLimits } from '../src/encode/gelf.js';
import { ForwarderErrorCodes } from '../src/errors.js';
import { inProcessPreparer, WorkerPreparer, type Enrichment } from '../src/preparer.js';
import type { PrepareOptions } from '../src/prepare.js';
import type { KafkaRecord } from '../src/record.js';

const options: PrepareOptions = {
  decode: { maxRecordBytes: 4096 },
  limits: defaultGelfLimits,
  deadLetterDecodeErrors: true,
};

const record = (offset: number, value: string | null): KafkaRecord => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  timestampMillis: 1_795_400_000_000,
  key: Buffer.from('shop/web-1'),
  value: value === null ? null : Buffer.from(value),
  headers: { 'graybridge-schema': Buffer.from('1') },
});

const batch: KafkaRecord[] = [
  record(0, JSON.stringify({ level: 30, msg: 'hello', k8s: { pod: 'web-1', namespace: 'shop' }, user: { id: 1 } })),
  record(1, JSON.stringify({ level: 50, msg: 'excluded', k8s: { pod: 'quiet', namespace: 'shop' } })),
  record(2, '{"truncated": '),
  record(3, JSON.stringify({ msg: 'unknown pod', k8s: { pod: 'gone', namespace: 'shop' } })),
  record(4, null),
  record(5, JSON.stringify({ msg: 'x'.repeat(10_000) })),
];

const pod = (name: string, exclude: boolean): PodLookup => ({
  pod: {
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    node: 'node-a',
    hostNetwork: false,
    labels: { app: name },
    annotations: {},
    containers: [{ name: 'app', image: 'web:1' }],
    controls: { exclude, excludeContainers: [] },
    resourceVersion: '1',
  },
  namespaceLabels: { team: 'shop' },
  owner: { kind: 'Deployment', name: 'web' },
  deleted: false,
});

function enrichment(): Enrichment & { prefetched: PodQuery[][] } {
  const prefetched: PodQuery[][] = [];
  const pods = new Map([
    ['web-1', pod('web-1', false)],
    ['quiet', pod('quiet', true)],
  ]);
  return {
    prefetched,
    lookup: (query) => (query.pod === undefined ? undefined : pods.get(query.pod)),
    prefetch: (queries) => {
      prefetched.push([...queries]);
      return Promise.resolve();
    },
  };
}

describe('preparers', () => {
  it('a worker pool prepares exactly what the main thread would, asking for each pod once per batch', async () => {
    const pool = new WorkerPreparer(options, 2);
    try {
      const here = enrichment();
      const there = enrichment();
      const expected = await inProcessPreparer(options).prepare(batch, here, { replay_job: 'r1' });
      const [first, second] = await Promise.all([
        pool.prepare(batch, there, { replay_job: 'r1' }),
        pool.prepare(batch.slice(0, 2), there),
      ]);
      assert.deepEqual(first, expected);
      assert.equal(second.payloads.length, 1);
      assert.deepEqual(expected.payloadRecords, [0, 3]);
      assert.deepEqual(expected.excluded, ['pod_excluded']);
      assert.deepEqual(
        expected.early.map((e) => [e.index, e.reason]),
        [
          [2, 'decode_error'],
          [4, 'decode_error'],
          [5, 'decode_error'],
        ],
      );
      assert.equal(expected.unresolved, 1);
      assert.match(
        expected.payloads[0] ?? '',
        /"_k8s_owner_name":"web".*"_replay_job":"r1"|"_replay_job":"r1".*"_k8s_owner_name":"web"/,
      );
      // One prefetch per batch with its distinct pods, from whichever thread prepared it.
      assert.deepEqual(
        there.prefetched.map((queries) => queries.map((q) => q.pod).sort()).sort((a, b) => b.length - a.length),
        [
          ['gone', 'quiet', 'web-1'],
          ['quiet', 'web-1'],
        ],
      );
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies fails its batch as retriable and is replaced', async () => {
    const pool = new WorkerPreparer(options, 1);
    try {
      const dying: Enrichment = {
        lookup: () => undefined,
        prefetch: async () => {
          // The worker is waiting for these lookups when it goes.
          await (
            pool as unknown as { workers: { thread: { terminate(): Promise<number> } }[] }
          ).workers[0]?.thread.terminate();
        },
      };
      await assert.rejects(pool.prepare(batch, dying), (error: { code?: string; retriable?: boolean }) => {
        assert.equal(error.code, ForwarderErrorCodes.prepareFailed);
        assert.equal(error.retriable, true);
        return true;
      });
      const again = await pool.prepare(batch, enrichment());
      assert.equal(again.payloads.length, 2);
    } finally {
      await pool.close();
    }
  });
});
