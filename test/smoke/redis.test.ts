import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { useRig } from '@graybridge/rig';

const rig = useRig(['redis']);

describe('Redis smoke (Debian redis-server)', () => {
  it('ioredis SET then GET returns the value', async () => {
    const redis = new Redis(rig().redis?.url ?? '');
    try {
      const key = `smoke:${randomUUID()}`;
      assert.equal(await redis.set(key, 'value', 'EX', 60), 'OK');
      assert.equal(await redis.get(key), 'value');
    } finally {
      redis.disconnect();
    }
  });

  it('a BullMQ job is added, processed by a Worker and completes with its result', async () => {
    const url = rig().redis?.url ?? '';
    const connection = { url, maxRetriesPerRequest: null };
    const name = `smoke-${randomUUID()}`;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const worker = new Worker(name, (job) => Promise.resolve({ doubled: (job.data as { n: number }).n * 2 }), {
      connection,
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      const result = (await job.waitUntilFinished(events, 30_000)) as { doubled: number };
      assert.deepEqual(result, { doubled: 42 });
      assert.equal(await job.getState(), 'completed');
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
