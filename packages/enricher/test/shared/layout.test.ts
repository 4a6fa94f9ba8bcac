import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodMetadata } from '../../src/metadata.js';
import type { PodLookup } from '../../src/pod-cache.js';
import {
  decodeLookup,
  encodeLookup,
  fieldsOfPod,
  fieldsOfQuery,
  parseChangeMessage,
  queryOfField,
} from '../../src/shared/layout.js';

const pod: PodMetadata = {
  name: 'web-0',
  namespace: 'shop',
  uid: 'u-1',
  node: 'node-a',
  podIp: '10.0.0.7',
  hostNetwork: false,
  labels: { app: 'web' },
  annotations: {},
  containers: [{ name: 'app', image: 'web:1' }],
  controller: { kind: 'ReplicaSet', name: 'web-7d9f' },
  controls: { exclude: false, excludeContainers: [] },
  resourceVersion: '42',
};

describe('shared cache layout', () => {
  it('names a pod by uid, namespace/name and IP, and each name reads back as the query it answers', () => {
    assert.deepEqual(fieldsOfPod(pod), ['u:u-1', 'n:shop/web-0', 'i:10.0.0.7']);
    assert.deepEqual(
      fieldsOfPod(pod).map((field) => queryOfField(field)),
      [{ podUid: 'u-1' }, { namespace: 'shop', pod: 'web-0' }, { podIp: '10.0.0.7' }],
    );
    assert.deepEqual(fieldsOfQuery({ namespace: 'shop', pod: 'web-0', podUid: 'u-1', podIp: '10.0.0.7' }), [
      'u:u-1',
      'n:shop/web-0',
      'i:10.0.0.7',
    ]);
  });

  it('does not name a hostNetwork pod by its IP (it is the node’s), nor a query by half a name', () => {
    assert.deepEqual(fieldsOfPod({ ...pod, hostNetwork: true }), ['u:u-1', 'n:shop/web-0']);
    assert.deepEqual(fieldsOfQuery({ namespace: 'shop' }), []);
    assert.equal(queryOfField('x:whatever'), undefined);
    assert.equal(queryOfField('n:no-slash'), undefined);
  });

  it('reads back what it wrote, and reads anything else as a miss, not as metadata of the wrong shape', () => {
    const lookup: PodLookup = {
      pod,
      namespaceLabels: { team: 'a' },
      owner: { kind: 'Deployment', name: 'web' },
      deleted: false,
    };
    assert.deepEqual(decodeLookup(encodeLookup(lookup)), lookup);
    for (const bad of [
      'not json',
      '[]',
      '{}',
      '{"pod":{"name":1},"deleted":false}',
      JSON.stringify({ ...lookup, deleted: 'no' }),
    ]) {
      assert.equal(decodeLookup(bad), undefined, bad);
    }
  });

  it('parses change messages and ignores anything else on the channel', () => {
    assert.deepEqual(parseChangeMessage('{"resync":true}'), { resync: true });
    assert.deepEqual(parseChangeMessage('{"fields":{"u:1":"{}","n:a/b":null,"bad":3}}'), {
      fields: { 'u:1': '{}', 'n:a/b': null },
    });
    assert.equal(parseChangeMessage('hello'), undefined);
    assert.equal(parseChangeMessage('{"other":1}'), undefined);
  });
});
