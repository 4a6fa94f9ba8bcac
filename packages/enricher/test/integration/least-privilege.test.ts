import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { useRig } from '@graybridge/rig';
import { createEnricher, enricherClusterRoleRules } from '../../src/index.js';
import { adminConfig, Cluster, eventually } from './kube-helpers.js';

const rig = useRig(['kube']);

describe('enricher with least privilege', () => {
  it('works as a ServiceAccount bound only to the ClusterRole the chart ships, and that role grants nothing else', async () => {
    const endpoint = rig().kube;
    assert.ok(endpoint);
    const admin = adminConfig(endpoint.kubeconfig);
    const cluster = new Cluster(admin);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const namespace = await cluster.namespace();
    const name = `graybridge-${randomUUID().slice(0, 8)}`;
    await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    await rbac.createClusterRole({
      body: {
        metadata: { name },
        rules: enricherClusterRoleRules.map((r) => ({
          apiGroups: [...r.apiGroups],
          resources: [...r.resources],
          verbs: [...r.verbs],
        })),
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    });
    const token = (
      await cluster.core.createNamespacedServiceAccountToken({
        name,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      })
    ).status?.token;
    assert.ok(token);
    const asServiceAccount = new KubeConfig();
    asServiceAccount.loadFromOptions({
      clusters: [{ name: 'rig', server: endpoint.server, caFile: endpoint.caFile }],
      users: [{ name, token }],
      contexts: [{ name: 'rig', cluster: 'rig', user: name }],
      currentContext: 'rig',
    });

    await cluster.deploymentPod(namespace, 'api', '5c6d', 'xyz');

    const enricher = createEnricher({ kubeconfig: asServiceAccount });
    try {
      await enricher.ready();
      const owner = await eventually(
        () => {
          const found = enricher.lookup({ namespace, pod: 'api-5c6d-xyz' });
          return found?.owner?.kind === 'Deployment' ? found.owner : undefined;
        },
        3000,
        'pod with its Deployment, as the service account',
      );
      assert.deepEqual(owner, { kind: 'Deployment', name: 'api' });
      assert.equal(enricher.stats().owners.failures, 0);
      assert.equal(
        enricher.stats().watches.every((w) => w.restarts === 0),
        true,
        'no watch was refused',
      );
    } finally {
      await enricher.stop();
    }
    await assert.rejects(
      asServiceAccount.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException);
        assert.equal(error.code, 403);
        return true;
      },
    );
  });
});
