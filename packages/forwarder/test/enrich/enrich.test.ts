import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodLookup, PodMetadata, PodQuery } from '@graybridge/enricher';
import { decodeRecord } from '../../src/decode/decode.js';
import { batchEnricher, enrichRecord } from '../../src/enrich/enrich.js';
import type { DecodedRecord } from '../../src/record.js';

const pod: PodMetadata = {
  name: 'web-7d9f-abcde',
  namespace: 'shop',
  uid: 'uid-1',
  node: 'node-a',
  podIp: '10.1.2.3',
  hostNetwork: false,
  labels: { app: 'web', 'app.kubernetes.io/version': '1.4' },
  annotations: { 'example.com/owner': 'pay' },
  containers: [
    { name: 'app', image: 'registry/web:1.4' },
    { name: 'istio-proxy', image: 'istio/proxy:1.24' },
  ],
  controller: { kind: 'ReplicaSet', name: 'web-7d9f' },
  controls: { exclude: false, excludeContainers: ['istio-proxy'] },
  resourceVersion: '1',
};

function decoded(k8s: Record<string, string>): DecodedRecord {
  const value = Buffer.from(JSON.stringify({ level: 30, time: 1, msg: 'hi', k8s }));
  return decodeRecord({ topic: 'logs', partition: 0, offset: '1', timestampMillis: 1, key: null, value, headers: {} });
}

function lookupOf(found: PodLookup | undefined): (query: PodQuery) => PodLookup | undefined {
  return (query) => (query.pod === pod.name || query.podUid === pod.uid ? found : undefined);
}

const hit: PodLookup = {
  pod,
  namespaceLabels: { team: 'payments' },
  owner: { kind: 'Deployment', name: 'web' },
  deleted: false,
};

describe('enrichRecord', () => {
  it('adds the documented k8s_ fields for a known pod and its container', () => {
    const outcome = enrichRecord(decoded({ pod: pod.name, namespace: 'shop', container: 'app' }), lookupOf(hit));
    assert.equal(outcome.kind, 'keep');
    assert.deepEqual(outcome.enriched.kubernetes, {
      k8s_pod: 'web-7d9f-abcde',
      k8s_namespace: 'shop',
      k8s_container: 'app',
      k8s_node: 'node-a',
      k8s_pod_uid: 'uid-1',
      k8s_pod_ip: '10.1.2.3',
      k8s_container_image: 'registry/web:1.4',
      k8s_owner_kind: 'Deployment',
      k8s_owner_name: 'web',
      k8s_label_app: 'web',
      k8s_label_app_kubernetes_io_version: '1.4',
      k8s_annotation_example_com_owner: 'pay',
      k8s_namespace_label_team: 'payments',
    });
  });

  it('marks an unknown pod k8s_unresolved and sends it anyway; a record naming no pod gets neither', () => {
    const outcome = enrichRecord(decoded({ pod: 'new-pod', namespace: 'shop' }), lookupOf(hit));
    assert.deepEqual(outcome.kind === 'keep' ? outcome.enriched.kubernetes : undefined, {
      k8s_pod: 'new-pod',
      k8s_namespace: 'shop',
      k8s_unresolved: 'true',
    });
    const anonymous = enrichRecord(decoded({}), lookupOf(hit));
    assert.deepEqual(anonymous.kind === 'keep' ? anonymous.enriched.kubernetes : undefined, {});
  });

  it('reports exclusions by pod annotation and by container, for the pipeline to count', () => {
    const excludedPod: PodLookup = { ...hit, pod: { ...pod, controls: { exclude: true, excludeContainers: [] } } };
    assert.deepEqual(enrichRecord(decoded({ pod: pod.name, namespace: 'shop' }), lookupOf(excludedPod)), {
      kind: 'exclude',
      reason: 'pod_excluded',
    });
    assert.deepEqual(
      enrichRecord(decoded({ pod: pod.name, namespace: 'shop', container: 'istio-proxy' }), lookupOf(hit)),
      {
        kind: 'exclude',
        reason: 'container_excluded',
      },
    );
  });

  it('marks metadata of a deleted pod', () => {
    const outcome = enrichRecord(decoded({ pod_uid: 'uid-1' }), lookupOf({ ...hit, deleted: true }));
    assert.equal(outcome.kind === 'keep' ? outcome.enriched.kubernetes.k8s_deleted : undefined, 'true');
  });

  it('asks once per identity in a batch; records of one pod share their kubernetes fields', () => {
    let lookups = 0;
    const enrich = batchEnricher((query) => {
      lookups += 1;
      return lookupOf(hit)(query);
    });
    const [a, b, other] = [
      enrich(decoded({ pod: pod.name, namespace: 'shop', container: 'app' })),
      enrich(decoded({ pod: pod.name, namespace: 'shop', container: 'app' })),
      enrich(decoded({ pod: pod.name, namespace: 'shop', container: 'sidecar' })),
    ];
    assert.equal(lookups, 2, 'one lookup per distinct identity');
    assert.ok(a.kind === 'keep' && b.kind === 'keep' && other.kind === 'keep');
    assert.equal(a.enriched.kubernetes, b.enriched.kubernetes, 'one object for the pod and container');
    assert.notEqual(a.enriched.record, b.enriched.record);
    assert.equal(other.enriched.kubernetes.k8s_container, 'sidecar');
    assert.deepEqual(
      a.enriched.kubernetes,
      (
        enrichRecord(decoded({ pod: pod.name, namespace: 'shop', container: 'app' }), lookupOf(hit)) as {
          enriched: { kubernetes: unknown };
        }
      ).enriched.kubernetes,
      'the same fields as enriching the record alone',
    );
  });
});
