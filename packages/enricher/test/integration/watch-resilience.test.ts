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
  let cluster: Cluster;
  let enricher: Enricher;

  before(
    async () => {
      const started = await startKube({ dir, ownerPid: process.pid });
      processes = started.processes;
      launch = started.apiserver;
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
});
