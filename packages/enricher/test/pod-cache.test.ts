import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodMetadata } from '../src/metadata.js';
import { PodCache } from '../src/pod-cache.js';

function pod(name: string, uid: string, extra: Partial<PodMetadata> = {}): PodMetadata {
  return {
    name,
    namespace: 'shop',
    uid,
    hostNetwork: false,
    labels: {},
    annotations: {},
    containers: [],
    controls: { exclude: false, excludeContainers: [] },
    resourceVersion: '1',
    ...extra,
  };
}

describe('PodCache', () => {
  it('finds a pod by uid, by namespace/name and by IP', () => {
    const cache = new PodCache(60_000);
    cache.upsert(pod('web-1', 'u1', { podIp: '10.0.0.1' }));
    for (const query of [{ podUid: 'u1' }, { namespace: 'shop', pod: 'web-1' }, { podIp: '10.0.0.1' }]) {
      assert.equal(cache.lookup(query)?.pod.uid, 'u1', JSON.stringify(query));
    }
    assert.equal(cache.lookup({ namespace: 'other', pod: 'web-1' }), undefined);
    assert.equal(cache.lookup({}), undefined);
  });

  it('does not index hostNetwork pods by IP (they share the node’s)', () => {
    const cache = new PodCache(60_000);
    cache.upsert(pod('agent', 'u1', { podIp: '192.168.1.10', hostNetwork: true }));
    assert.equal(cache.lookup({ podIp: '192.168.1.10' }), undefined);
  });

  it('keeps a deleted pod resolvable, marked deleted, for the retention period and no longer', () => {
    let now = 1000;
    const cache = new PodCache(5000, () => now);
    cache.upsert(pod('job-1', 'u1', { podIp: '10.0.0.2' }));
    cache.markDeleted('u1');
    now += 4999;
    cache.expire();
    assert.equal(cache.lookup({ namespace: 'shop', pod: 'job-1' })?.deleted, true);
    now += 1;
    assert.equal(cache.expire(), 1);
    assert.equal(cache.lookup({ namespace: 'shop', pod: 'job-1' }), undefined);
    assert.equal(cache.lookup({ podIp: '10.0.0.2' }), undefined);
    assert.equal(cache.size, 0);
  });

  it('a recreated pod of the same name (new uid) replaces the old one by name; the old expires alone', () => {
    let now = 0;
    const cache = new PodCache(1000, () => now);
    cache.upsert(pod('db-0', 'old', { podIp: '10.0.0.3' }));
    cache.markDeleted('old');
    cache.upsert(pod('db-0', 'new', { podIp: '10.0.0.4' }));
    assert.equal(cache.lookup({ namespace: 'shop', pod: 'db-0' })?.pod.uid, 'new');
    now = 2000;
    cache.expire();
    assert.equal(cache.lookup({ namespace: 'shop', pod: 'db-0' })?.pod.uid, 'new');
    assert.equal(cache.lookup({ podUid: 'old' }), undefined);
    assert.equal(cache.lookup({ podIp: '10.0.0.4' })?.pod.uid, 'new');
  });

  it('after a re-list, pods missing from it are marked deleted', () => {
    const cache = new PodCache(60_000);
    cache.upsert(pod('a', 'u1'));
    cache.upsert(pod('b', 'u2'));
    cache.markMissingDeleted(new Set(['u2']));
    assert.equal(cache.lookup({ podUid: 'u1' })?.deleted, true);
    assert.equal(cache.lookup({ podUid: 'u2' })?.deleted, false);
  });

  it('joins namespace labels and the resolved top owner at lookup time', () => {
    const cache = new PodCache(60_000);
    const rs = { kind: 'ReplicaSet', name: 'web-7d9f' };
    cache.upsert(pod('web-1', 'u1', { controller: rs }));
    assert.deepEqual(cache.lookup({ podUid: 'u1' })?.owner, rs, 'the direct controller until resolved');
    cache.upsertNamespace({ name: 'shop', labels: { team: 'pay' } });
    cache.setOwner('shop', rs, { kind: 'Deployment', name: 'web' });
    const found = cache.lookup({ podUid: 'u1' });
    assert.deepEqual(found?.owner, { kind: 'Deployment', name: 'web' });
    assert.deepEqual(found.namespaceLabels, { team: 'pay' });
    cache.deleteNamespace('shop');
    assert.equal(cache.lookup({ podUid: 'u1' })?.namespaceLabels, undefined);
  });
});
