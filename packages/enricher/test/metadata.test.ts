import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactNamespace, compactPod, filterKeys, podControls, type RawPod } from '../src/metadata.js';
import { defaultExcludedLabels } from '../src/options.js';

const labels = { include: ['*'], exclude: [...defaultExcludedLabels] };
const annotations = { include: ['example.com/owner', 'team.io/*'], exclude: [] };

const rawPod: RawPod = {
  metadata: {
    name: 'web-7d9f-abcde',
    namespace: 'shop',
    uid: 'uid-1',
    resourceVersion: '42',
    labels: { app: 'web', 'pod-template-hash': '7d9f' },
    annotations: {
      'example.com/owner': 'payments',
      'team.io/slack': '#pay',
      'kubectl.kubernetes.io/last-applied-configuration': '{…}',
      'graybridge.io/exclude-containers': 'istio-proxy, , linkerd',
    },
    ownerReferences: [
      { kind: 'Node', name: 'n' },
      { kind: 'ReplicaSet', name: 'web-7d9f', controller: true },
    ],
  },
  spec: {
    nodeName: 'node-a',
    containers: [
      { name: 'app', image: 'registry/web:1.2' },
      { name: 'istio-proxy', image: 'istio/proxy' },
    ],
    initContainers: [{ name: 'migrate', image: 'registry/migrate:1' }],
  },
  status: { podIP: '10.1.2.3' },
};

describe('compactPod', () => {
  it('keeps only what is attached: filtered labels, allowlisted annotations, containers, controller, controls', () => {
    assert.deepEqual(compactPod(rawPod, labels, annotations), {
      name: 'web-7d9f-abcde',
      namespace: 'shop',
      uid: 'uid-1',
      node: 'node-a',
      podIp: '10.1.2.3',
      hostNetwork: false,
      labels: { app: 'web' },
      annotations: { 'example.com/owner': 'payments', 'team.io/slack': '#pay' },
      containers: [
        { name: 'app', image: 'registry/web:1.2' },
        { name: 'istio-proxy', image: 'istio/proxy' },
        { name: 'migrate', image: 'registry/migrate:1' },
      ],
      controller: { kind: 'ReplicaSet', name: 'web-7d9f' },
      controls: { exclude: false, excludeContainers: ['istio-proxy', 'linkerd'] },
      resourceVersion: '42',
    });
  });

  it('rejects objects without name, namespace or uid, and tolerates missing everything else', () => {
    assert.equal(compactPod({ metadata: { name: 'x', namespace: 'y' } }, labels, annotations), undefined);
    const bare = compactPod({ metadata: { name: 'x', namespace: 'y', uid: 'u' } }, labels, annotations);
    assert.deepEqual(bare, {
      name: 'x',
      namespace: 'y',
      uid: 'u',
      hostNetwork: false,
      labels: {},
      annotations: {},
      containers: [],
      controls: { exclude: false, excludeContainers: [] },
      resourceVersion: '',
    });
  });
});

describe('podControls', () => {
  it('reads graybridge.io/exclude as a boolean, case- and space-insensitive', () => {
    assert.equal(podControls({ 'graybridge.io/exclude': ' TRUE ' }).exclude, true);
    assert.equal(podControls({ 'graybridge.io/exclude': 'yes' }).exclude, false);
    assert.equal(podControls(undefined).exclude, false);
  });
});

describe('filterKeys', () => {
  it('applies include then exclude, with exact keys and prefix* patterns', () => {
    const source = { a: '1', 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/version': '2', b: '3' };
    assert.deepEqual(
      filterKeys(source, { include: ['app.kubernetes.io/*', 'b'], exclude: ['app.kubernetes.io/version'] }),
      {
        'app.kubernetes.io/name': 'web',
        b: '3',
      },
    );
    assert.deepEqual(filterKeys(undefined, { include: ['*'], exclude: [] }), {});
  });
});

describe('compactNamespace', () => {
  it('keeps name and filtered labels', () => {
    assert.deepEqual(
      compactNamespace({ metadata: { name: 'shop', labels: { team: 'pay', 'pod-template-hash': 'x' } } }, labels),
      {
        name: 'shop',
        labels: { team: 'pay' },
      },
    );
    assert.equal(compactNamespace({}, labels), undefined);
  });
});
