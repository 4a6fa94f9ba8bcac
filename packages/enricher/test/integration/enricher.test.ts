import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useRig } from '@graybridge/rig';
import { createEnricher, type Enricher } from '../../src/index.js';
import { adminConfig, Cluster, eventually, ownerRef } from './kube-helpers.js';

const rig = useRig(['kube']);

describe('enricher on a real kube-apiserver', () => {
  let cluster: Cluster;
  let enricher: Enricher;

  before(async () => {
    const kubeconfig = rig().kube?.kubeconfig ?? '';
    cluster = new Cluster(adminConfig(kubeconfig));
    enricher = createEnricher({
      kubeconfig,
      annotations: { include: ['example.com/*'] },
      deletedPodRetentionMillis: 1500,
    });
    await enricher.ready();
  });
  after(() => enricher.stop());

  it('reflects a pod created, relabelled and deleted within a second, and forgets it after the retention', async () => {
    const namespace = await cluster.namespace({ team: 'payments' });
    await cluster.pod(namespace, 'web-1', {
      labels: { app: 'web', 'pod-template-hash': '7d9f' },
      annotations: {
        'example.com/owner': 'pay-team',
        'other.io/secret-ish': 'x',
        'graybridge.io/exclude-containers': 'sidecar',
      },
      ip: '10.42.0.7',
    });
    const found = await eventually(
      () =>
        enricher.lookup({ namespace, pod: 'web-1' })?.pod.podIp
          ? enricher.lookup({ namespace, pod: 'web-1' })
          : undefined,
      1000,
      'pod with its IP',
    );
    assert.deepEqual(found.pod.labels, { app: 'web' }, 'pod-template-hash is noise, excluded by default');
    assert.deepEqual(found.pod.annotations, { 'example.com/owner': 'pay-team' }, 'only allowlisted annotations');
    assert.deepEqual(found.pod.containers, [
      { name: 'app', image: 'registry.example/web-1:1.0' },
      { name: 'sidecar', image: 'registry.example/proxy:2' },
    ]);
    assert.equal(found.pod.node, 'node-a');
    assert.deepEqual(found.namespaceLabels, { team: 'payments' }, 'kubernetes.io/metadata.name is excluded by default');
    assert.deepEqual(found.pod.controls, { exclude: false, excludeContainers: ['sidecar'] });
    assert.equal(enricher.lookup({ podIp: '10.42.0.7' })?.pod.name, 'web-1');
    assert.equal(enricher.lookup({ podUid: found.pod.uid })?.pod.name, 'web-1');

    const current = await cluster.core.readNamespacedPod({ name: 'web-1', namespace });
    const podMeta = current.metadata ?? {};
    podMeta.labels = { app: 'web', version: 'v2' };
    podMeta.annotations = { 'graybridge.io/exclude': 'true' };
    current.metadata = podMeta;
    await cluster.core.replaceNamespacedPod({ name: 'web-1', namespace, body: current });
    const updated = await eventually(
      () =>
        enricher.lookup({ namespace, pod: 'web-1' })?.pod.labels.version === 'v2'
          ? enricher.lookup({ namespace, pod: 'web-1' })
          : undefined,
      1000,
      'label update',
    );
    assert.equal(updated.pod.controls.exclude, true);

    const ns = await cluster.core.readNamespace({ name: namespace });
    const nsMeta = ns.metadata ?? {};
    nsMeta.labels = { ...nsMeta.labels, tier: 'gold' };
    ns.metadata = nsMeta;
    await cluster.core.replaceNamespace({ name: namespace, body: ns });
    await eventually(
      () => enricher.lookup({ namespace, pod: 'web-1' })?.namespaceLabels?.tier,
      1000,
      'namespace label update',
    );

    await cluster.deletePod(namespace, 'web-1');
    const deleted = await eventually(
      () => (enricher.lookup({ namespace, pod: 'web-1' })?.deleted === true ? true : undefined),
      1000,
      'deletion seen',
    );
    assert.equal(deleted, true);
    await eventually(
      () => (enricher.lookup({ namespace, pod: 'web-1' }) === undefined ? true : undefined),
      4500, // retention, plus the expiry sweep
      'forgotten after retention',
    );
    assert.ok(enricher.stats().staleHits > 0);
  });

  it('resolves owners to the top controller: Deployment → ReplicaSet → Pod and CronJob → Job → Pod', async () => {
    const namespace = await cluster.namespace();
    await cluster.deploymentPod(namespace, 'web', '7d9f', 'abcde');

    const jobTemplate = { spec: { restartPolicy: 'Never', containers: [{ name: 'task', image: 'x' }] } };
    const cronJob = await cluster.batch.createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: 'nightly' },
        spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: jobTemplate } } },
      },
    });
    const job = await cluster.batch.createNamespacedJob({
      namespace,
      body: {
        metadata: {
          name: 'nightly-29000000',
          ownerReferences: [ownerRef('CronJob', 'nightly', cronJob.metadata?.uid ?? '', 'batch/v1')],
        },
        spec: { template: jobTemplate },
      },
    });
    await cluster.pod(namespace, 'nightly-29000000-xyz', {
      owner: ownerRef('Job', 'nightly-29000000', job.metadata?.uid ?? '', 'batch/v1'),
    });

    const deploymentOwner = await eventually(
      () => {
        const owner = enricher.lookup({ namespace, pod: 'web-7d9f-abcde' })?.owner;
        return owner?.kind === 'Deployment' ? owner : undefined;
      },
      2000,
      'Deployment owner',
    );
    assert.deepEqual(deploymentOwner, { kind: 'Deployment', name: 'web' });
    const cronOwner = await eventually(
      () => {
        const owner = enricher.lookup({ namespace, pod: 'nightly-29000000-xyz' })?.owner;
        return owner?.kind === 'CronJob' ? owner : undefined;
      },
      2000,
      'CronJob owner',
    );
    assert.deepEqual(cronOwner, { kind: 'CronJob', name: 'nightly' });
  });

  it('resolves a pod the watch has not delivered through one GET, and caches a 404 only briefly', async () => {
    const namespace = await cluster.namespace();
    // A node-scoped enricher never watches pods of node-b: only the GET fallback can find them.
    const scoped = createEnricher({
      kubeconfig: rig().kube?.kubeconfig ?? '',
      scope: 'node',
      nodeName: 'node-a',
      missFetch: { negativeTtlMillis: 300 },
    });
    try {
      await scoped.ready();
      await cluster.pod(namespace, 'elsewhere', { node: 'node-b' });
      assert.equal(scoped.lookup({ namespace, pod: 'elsewhere' }), undefined, 'a miss never waits');
      const found = await scoped.resolve({ namespace, pod: 'elsewhere' });
      assert.equal(found?.pod.node, 'node-b');
      assert.equal(scoped.lookup({ namespace, pod: 'elsewhere' })?.pod.name, 'elsewhere', 'the fetched pod now hits');
      assert.equal(scoped.stats().fetches.fetched, 1);

      assert.equal(await scoped.resolve({ namespace, pod: 'ghost' }), undefined);
      assert.equal(await scoped.resolve({ namespace, pod: 'ghost' }), undefined);
      assert.equal(scoped.stats().fetches.notFound, 1, 'the second miss was answered from the negative cache');
      await sleep(350);
      await cluster.pod(namespace, 'ghost', { node: 'node-b' });
      assert.equal(
        (await scoped.resolve({ namespace, pod: 'ghost' }))?.pod.name,
        'ghost',
        'a 404 is not cached forever',
      );
    } finally {
      await scoped.stop();
    }
  });
});
