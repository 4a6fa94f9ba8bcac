import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { useRig } from '@graybridge/rig';
import { Redis } from 'ioredis';
import {
  createEnricher,
  createSharedEnricher,
  EnricherErrorCodes,
  startEnricherPublisher,
  type Enricher,
  type EnricherPublisher,
  type PodQuery,
} from '../../src/index.js';
import { adminConfig, Cluster, eventually } from './kube-helpers.js';

const rig = useRig(['kube', 'redis']);

describe('shared mode: one publisher watches, readers answer from Redis', () => {
  let cluster: Cluster;
  let kubeconfig: string;
  let redisUrl: string;
  const keyPrefix = `gb-test-${randomUUID().slice(0, 8)}:`;
  const enricherOptions = { annotations: { include: ['example.com/*'] }, deletedPodRetentionMillis: 1500 };
  let publisher: EnricherPublisher;
  let direct: Enricher;
  let readers: Enricher[];

  before(async () => {
    kubeconfig = rig().kube?.kubeconfig ?? '';
    redisUrl = rig().redis?.url ?? '';
    cluster = new Cluster(adminConfig(kubeconfig));
    publisher = startEnricherPublisher({
      enricher: { kubeconfig, ...enricherOptions },
      redis: redisUrl,
      keyPrefix,
      flushMillis: 20,
    });
    direct = createEnricher({ kubeconfig, ...enricherOptions });
    readers = [0, 1].map(() => createSharedEnricher({ redis: redisUrl, keyPrefix, negativeTtlMillis: 300 }));
    await Promise.all([publisher.ready(), direct.ready(), ...readers.map((r) => r.ready())]);
  });
  after(async () => {
    await Promise.all([publisher.stop(), direct.stop(), ...readers.map((r) => r.stop())]);
  });

  /** Every reader answers `query` exactly as the direct watcher does, once `accept` holds for it. */
  const sameEverywhere = async (
    query: PodQuery,
    accept: (found: ReturnType<Enricher['lookup']>) => boolean,
    { directMillis = 2000, readerMillis = 1000 } = {},
  ) => {
    const expected = await eventually(() => {
      const found = direct.lookup(query);
      return accept(found) ? { found } : undefined;
    }, directMillis);
    for (const [index, reader] of readers.entries()) {
      await eventually(
        () => (JSON.stringify(reader.lookup(query)) === JSON.stringify(expected.found) ? true : undefined),
        readerMillis,
        `reader ${index} agrees on ${JSON.stringify(query)}`,
      ).catch((error: unknown) => {
        const seen = JSON.stringify(reader.lookup(query));
        throw new Error(`${String(error)}: expected ${JSON.stringify(expected.found)}, got ${seen}`);
      });
    }
    return expected.found;
  };

  it('two readers see what a direct watcher sees: create, owner chain, relabel, namespace labels, delete, expiry', async () => {
    const namespace = await cluster.namespace({ team: 'payments' });
    const podName = await cluster.deploymentPod(namespace, 'web', '7d9f', 'abcde');
    const found = await sameEverywhere({ namespace, pod: podName }, (f) => f?.owner?.kind === 'Deployment');
    assert.deepEqual(found?.owner, { kind: 'Deployment', name: 'web' });
    assert.deepEqual(found.namespaceLabels, { team: 'payments' });
    await sameEverywhere({ podUid: found.pod.uid }, (f) => f !== undefined);

    // An IP of this run only: pods of other tests stay in the shared apiserver.
    const ip = `10.${String(44 + Math.floor(Math.random() * 200))}.${String(Math.floor(Math.random() * 250))}.9`;
    await cluster.pod(namespace, 'api-0', { ip, annotations: { 'example.com/team': 'pay' } });
    await sameEverywhere({ podIp: ip }, (f) => f?.pod.name === 'api-0');
    const reads = readers.map((r) => r.stats().shared?.reads ?? 0);

    // Held entries change in place from the change messages: no new read is needed.
    const current = await cluster.core.readNamespacedPod({ name: 'api-0', namespace });
    const podMeta = current.metadata ?? {};
    podMeta.labels = { app: 'api', version: 'v2' };
    current.metadata = podMeta;
    await cluster.core.replaceNamespacedPod({ name: 'api-0', namespace, body: current });
    await sameEverywhere({ podIp: ip }, (f) => f?.pod.labels.version === 'v2');
    assert.deepEqual(
      readers.map((r) => r.stats().shared?.reads ?? 0),
      reads,
      'the relabel reached the readers as a change message',
    );
    assert.ok(readers.every((r) => (r.stats().shared?.invalidations ?? 0) > 0));

    const ns = await cluster.core.readNamespace({ name: namespace });
    const nsMeta = ns.metadata ?? {};
    nsMeta.labels = { ...nsMeta.labels, tier: 'gold' };
    ns.metadata = nsMeta;
    await cluster.core.replaceNamespace({ name: namespace, body: ns });
    await sameEverywhere({ namespace, pod: podName }, (f) => f?.namespaceLabels?.tier === 'gold');

    await cluster.deletePod(namespace, 'api-0');
    await sameEverywhere({ namespace, pod: 'api-0' }, (f) => f?.deleted === true);
    // Retention (1.5 s) plus the expiry sweep (every second, in the direct watcher and the publisher alike).
    await sameEverywhere({ namespace, pod: 'api-0' }, (f) => f === undefined, {
      directMillis: 4500,
      readerMillis: 2500,
    });
    for (const reader of readers) assert.equal(reader.lookup({ podIp: ip }), undefined);
  });

  it('a restarted publisher makes readers drop what they hold, and they answer again from the new one', async () => {
    const namespace = await cluster.namespace();
    await cluster.pod(namespace, 'worker-1');
    await sameEverywhere({ namespace, pod: 'worker-1' }, (f) => f !== undefined);
    const resyncs = readers.map((r) => r.stats().shared?.resyncs ?? 0);

    await publisher.stop();
    await eventually(() => (readers.every((r) => r.stats().shared?.publisherAlive === false) ? true : undefined), 7000);
    // A pod deleted while no publisher runs: the next one must not leave it behind in Redis.
    await cluster.deletePod(namespace, 'worker-1');
    await cluster.pod(namespace, 'worker-2');
    publisher = startEnricherPublisher({
      enricher: { kubeconfig, ...enricherOptions, deletedPodRetentionMillis: 0 },
      redis: redisUrl,
      keyPrefix,
      flushMillis: 20,
    });
    await publisher.ready();
    await eventually(
      () => (readers.every((r, i) => (r.stats().shared?.resyncs ?? 0) > (resyncs[i] ?? 0)) ? true : undefined),
      2000,
      'readers told to resync',
    );
    for (const reader of readers) {
      assert.equal(await reader.resolve({ namespace, pod: 'worker-1' }), undefined, 'the vanished pod is gone');
      assert.equal((await reader.resolve({ namespace, pod: 'worker-2' }))?.pod.name, 'worker-2');
    }
    const redis = new Redis(redisUrl);
    try {
      const fields = await redis.hkeys(`${keyPrefix}pods`);
      assert.ok(!fields.includes(`n:${namespace}/worker-1`), 'no field left for the vanished pod');
    } finally {
      redis.disconnect();
    }
  });

  it('prefetch fills the local cache in one read so the lookups that follow answer synchronously', async () => {
    const namespace = await cluster.namespace();
    await Promise.all(['a', 'b', 'c'].map((name) => cluster.pod(namespace, `batch-${name}`)));
    await sameEverywhere({ namespace, pod: 'batch-c' }, (f) => f !== undefined);
    const reader = createSharedEnricher({ redis: redisUrl, keyPrefix });
    try {
      await reader.ready();
      const queries = ['a', 'b', 'c', 'unknown'].map((name) => ({ namespace, pod: `batch-${name}` }));
      await reader.prefetch(queries);
      assert.deepEqual(
        queries.map((q) => reader.lookup(q)?.pod.name),
        ['batch-a', 'batch-b', 'batch-c', undefined],
      );
      assert.equal(reader.stats().shared?.reads, 1, 'one HMGET for the whole batch');
      await reader.prefetch(queries);
      assert.equal(reader.stats().shared?.reads, 1, 'held answers, even "not found", are not read again');
    } finally {
      await reader.stop();
    }
  });

  it('Redis unreachable: lookups miss at once (counted), readiness says why; a bad URL is refused naming the option', async () => {
    const reader = createSharedEnricher({ redis: 'redis://127.0.0.1:1', keyPrefix, readTimeoutMillis: 200 });
    try {
      const started = Date.now();
      assert.equal(await reader.resolve({ namespace: 'x', pod: 'y' }), undefined);
      assert.ok(Date.now() - started < 1000, 'a dead Redis does not stall the pipeline');
      const stats = reader.stats();
      assert.equal(stats.shared?.connected, false);
      assert.equal(stats.shared.readErrors, 1);
      assert.equal(stats.misses, 1);
    } finally {
      await reader.stop();
    }
    assert.throws(
      () => createSharedEnricher({ redis: 'localhost:6379' }),
      (error: Error & { code?: string }) =>
        error.code === EnricherErrorCodes.invalidOption &&
        /invalid option redis: expected a redis:\/\//.test(error.message),
    );
  });
});
