import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  RbacAuthorizationV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { until, useRig } from '@graybridge/rig';

const rig = useRig(['kube']);

function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(rig().kube?.kubeconfig ?? '');
  return kc;
}

async function freshNamespace(core: CoreV1Api): Promise<string> {
  // Namespaces never finish deleting without a controller-manager: each test takes a new one.
  const name = `smoke-${randomUUID().slice(0, 8)}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

function podManifest(name: string): V1Pod {
  return {
    metadata: { name, labels: { app: 'smoke' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
  };
}

describe('kube-apiserver smoke (built from the Go module proxy)', () => {
  it('an informer sees a pod added, its label updated and deleted', async () => {
    const kc = adminConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await freshNamespace(core);
    const informer = makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, () =>
      core.listNamespacedPod({ namespace }),
    );
    const events: string[] = [];
    informer.on('add', (pod) => events.push(`add:${pod.metadata?.name}`));
    informer.on('update', (pod) => events.push(`update:${pod.metadata?.labels?.version ?? ''}`));
    informer.on('delete', (pod) => events.push(`delete:${pod.metadata?.name}`));
    await informer.start();
    try {
      const created = await core.createNamespacedPod({ namespace, body: podManifest('web-1') });
      assert.equal(created.spec?.nodeName, 'node-a');
      await until(
        () => events.includes('add:web-1'),
        20_000,
        () => `add:web-1; events so far: ${JSON.stringify(events)}`,
      );

      const current = await core.readNamespacedPod({ name: 'web-1', namespace });
      const metadata = current.metadata ?? {};
      metadata.labels = { ...metadata.labels, version: 'v2' };
      current.metadata = metadata;
      await core.replaceNamespacedPod({ name: 'web-1', namespace, body: current });
      await until(
        () => events.includes('update:v2'),
        20_000,
        () => `update:v2; events so far: ${JSON.stringify(events)}`,
      );

      await core.deleteNamespacedPod({ name: 'web-1', namespace, gracePeriodSeconds: 0 });
      await until(
        () => events.includes('delete:web-1'),
        20_000,
        () => `delete:web-1; events so far: ${JSON.stringify(events)}`,
      );
      // Deleting a pod first sets deletionTimestamp (another update), then removes it.
      assert.equal(events[0], 'add:web-1');
      assert.equal(events.at(-1), 'delete:web-1');
      assert.ok(
        events.slice(1, -1).every((e) => e === 'update:v2'),
        JSON.stringify(events),
      );
    } finally {
      await informer.stop();
    }
  });

  it('a ServiceAccount bound to a pods-only Role gets a TokenRequest token: pods list, secrets 403', async () => {
    const kc = adminConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const namespace = await freshNamespace(core);
    await core.createNamespacedPod({ namespace, body: podManifest('web-1') });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'reader',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    assert.ok(token, 'TokenRequest returned a token');

    const endpoint = rig().kube;
    assert.ok(endpoint);
    const asReader = new KubeConfig();
    asReader.loadFromOptions({
      clusters: [{ name: 'rig', server: endpoint.server, caFile: endpoint.caFile }],
      users: [{ name: 'reader', token }],
      contexts: [{ name: 'rig', cluster: 'rig', user: 'reader' }],
      currentContext: 'rig',
    });
    const readerCore = asReader.makeApiClient(CoreV1Api);
    const pods = await readerCore.listNamespacedPod({ namespace });
    assert.deepEqual(
      pods.items.map((p) => p.metadata?.name),
      ['web-1'],
    );
    await assert.rejects(readerCore.listNamespacedSecret({ namespace }), (error: unknown) => {
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 403);
      return true;
    });
  });
});
