import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiserver, startKube, stopService, type ApiserverLaunch, type ServiceProcess } from '@graybridge/rig';
import { createEnricher, type Enricher } from '../../src/index.js';
import { adminConfig, Cluster, eventually } from './kube-helpers.js';

/** An apiserver of this file's own, to stop and restart it under a running enricher. */
describe('enricher watches through an apiserver restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enricher-resilience-'));
  let processes: ServiceProcess[] = [];
  let launch: ApiserverLaunch;
  let etcdUrl: string;
  let adminConfigFile: string;
  let cluster: Cluster;
  let enricher: Enricher;

  before(
    async () => {
      const started = await startKube({ dir, ownerPid: process.pid });
      processes = started.processes;
      launch = started.apiserver;
      etcdUrl = started.endpoint.etcd;
      adminConfigFile = started.endpoint.kubeconfig;
      cluster = new Cluster(adminConfig(started.endpoint.kubeconfig));
      enricher = createEnricher({
        kubeconfig: started.endpoint.kubeconfig,
        watch: { backoffInitialMillis: 100, backoffMaxMillis: 1000 },
      });
      await enricher.ready();
    },
    { timeout: 600_000 },
  );

  after(async () => {
    await enricher.stop();
    await Promise.all(processes.map((p) => stopService(p.pid)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives an apiserver restart: lookups keep answering, the watch reconnects, new pods arrive', async () => {
    const namespace = await cluster.namespace();
    await cluster.pod(namespace, 'old');
    await eventually(() => enricher.lookup({ namespace, pod: 'old' }), 2000, 'pod before the restart');
    const apiserver = processes.find((p) => p.name === 'kube-apiserver');
    assert.ok(apiserver);
    await stopService(apiserver.pid);
    await sleep(1500);
    assert.equal(enricher.lookup({ namespace, pod: 'old' })?.pod.name, 'old', 'cached metadata still answers');
    const restarted = await startApiserver(launch);
    processes = [...processes.filter((p) => p !== apiserver), restarted];
    await cluster.pod(namespace, 'new');
    await eventually(() => enricher.lookup({ namespace, pod: 'new' }), 15_000, 'pod created after the restart');
    const [watch] = enricher.stats().watches;
    assert.ok(watch);
    assert.equal(watch.state, 'watching');
    assert.ok(watch.restarts >= 1, 'the outage was noticed and survived');
  });

  it('a 410 (its resourceVersion compacted away in etcd) is handled by one re-list, then watching again', async () => {
    // Without the watch cache the apiserver watches etcd itself, where a compacted revision is a 410.
    const restart = async (args: readonly string[]): Promise<void> => {
      const running = processes.find((p) => p.name === 'kube-apiserver');
      assert.ok(running);
      await stopService(running.pid);
      launch = { ...launch, args };
      processes = [...processes.filter((p) => p !== running), await startApiserver(launch)];
    };
    await restart([...launch.args, '--watch-cache=false']);
    // Node scope: changes on other nodes advance etcd's revision but never reach this watch.
    const scoped = createEnricher({
      kubeconfig: adminConfigFile,
      scope: 'node',
      nodeName: 'node-z',
      namespaceLabels: false,
      watch: { backoffInitialMillis: 100, backoffMaxMillis: 1000 },
    });
    try {
      await scoped.ready();
      const namespace = await cluster.namespace();
      for (const name of ['a', 'b', 'c']) await cluster.pod(namespace, `elsewhere-${name}`, { node: 'node-a' });
      const etcd = async (path: string, body: unknown): Promise<{ header?: { revision?: string } }> => {
        const response = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
        assert.equal(response.status, 200, `etcd ${path}`);
        return (await response.json()) as { header?: { revision?: string } };
      };
      const revision = (await etcd('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header?.revision;
      assert.ok(revision !== undefined);
      await etcd('/v3/kv/compaction', { revision, physical: true });
      assert.equal(scoped.stats().watches[0]?.relists, 1);

      await restart(launch.args); // the watch reconnects from its old resourceVersion: 410
      await cluster.pod(namespace, 'here', { node: 'node-z' });
      await eventually(() => scoped.lookup({ namespace, pod: 'here' }), 15_000, 'pod on node-z after the 410');
      const [watch] = scoped.stats().watches;
      assert.equal(watch?.relists, 2, 'the 410 made it list again, once');
      assert.equal(watch.state, 'watching');
      assert.equal(scoped.lookup({ namespace, pod: 'elsewhere-a' }), undefined, 'other nodes stay out of scope');
    } finally {
      await scoped.stop();
    }
  });
});
