// Shared mode end to end: `graybridge enricher` watches the API server and publishes to Redis;
// `graybridge forward` in kubernetes.mode "redis" enriches from there with no API access at all.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { useRig } from '@graybridge/rig';
import { startCountingReceiver } from '../fixtures/gelf.js';
import { createTopic } from '../fixtures/kafka.js';
import { runExampleApp, runGraybridge, startForwarderProcess, until } from '../fixtures/processes.js';
import { createDeploymentPod, podEnv } from '../fixtures/workload.js';

const rig = useRig(['kafka', 'redis', 'kube']);

describe('shared mode: graybridge enricher → Redis → graybridge forward', () => {
  it('records are enriched from Redis by a forwarder that has no kubeconfig', async () => {
    const kubeconfig = rig().kube?.kubeconfig ?? '';
    const redisUrl = rig().redis?.url ?? '';
    const brokers = [...(rig().kafka?.brokers ?? [])];
    const prefix = `e2e-shared-${randomUUID().slice(0, 8)}:`;
    const pod = await createDeploymentPod(kubeconfig, `shared-${randomUUID().slice(0, 8)}`);
    const common = {
      GRAYBRIDGE_REDIS_URL: redisUrl,
      GRAYBRIDGE_KUBERNETES_SHARED_KEY_PREFIX: prefix,
      GRAYBRIDGE_OPS_HOST: '127.0.0.1',
    };
    const enricher = await startForwarderProcess(
      { ...common, GRAYBRIDGE_KUBERNETES_KUBECONFIG: kubeconfig },
      'enricher',
    );
    const topic = await createTopic(brokers, 'e2e-shared', 2);
    const gelf = await startCountingReceiver('tcp');
    const forwarder = await startForwarderProcess({
      ...common,
      GRAYBRIDGE_KUBERNETES_MODE: 'redis',
      // Nowhere to find an API server: whatever it knows of pods came through Redis.
      KUBECONFIG: '/nonexistent',
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-shared-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
    });
    try {
      const app = await runExampleApp({
        ...podEnv(pod),
        GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
        GRAYBRIDGE_KAFKA_TOPIC: topic,
        EXAMPLE_RECORDS: '5',
      });
      assert.ok(app.sent > 0, app.says);
      await until(() => gelf.unique() >= app.sent, 30_000, `${app.sent} messages`);
      assert.equal(gelf.messages.length, app.sent);
      for (const { message } of gelf.messages) {
        assert.equal(message.fields.k8s_unresolved, undefined, 'resolved from Redis');
        assert.equal(message.fields.k8s_owner_kind, 'Deployment');
        assert.equal(message.fields.k8s_owner_name, 'checkout');
        assert.equal(message.fields.k8s_container_image, pod.image);
        assert.equal(message.fields.k8s_namespace_label_team, 'payments');
      }
      const readiness = await forwarder.readyz();
      assert.deepEqual(readiness.body.checks.kubernetes, { ok: true }, JSON.stringify(readiness.body));
      assert.equal(await forwarder.metric('graybridge_enrich_shared_up'), 1);
      assert.equal(await forwarder.metric('graybridge_enrich_shared_publisher_up'), 1);
      assert.ok((await forwarder.metric('graybridge_enrich_shared_reads_total')) >= 1);
      assert.equal(await forwarder.metric('graybridge_enrich_misses_total'), 0);

      assert.equal((await enricher.readyz()).status, 200);
      assert.equal(await enricher.metric('graybridge_enricher_redis_up'), 1);
      assert.equal(await enricher.metric('graybridge_enrich_watch_up', { resource: 'pods' }), 1);
      // doctor in shared mode: no API server to ask (no kubeconfig), the publisher found in Redis.
      const doctor = await runGraybridge(['doctor'], {
        ...common,
        GRAYBRIDGE_KUBERNETES_MODE: 'redis',
        GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
        GRAYBRIDGE_KAFKA_TOPICS: topic,
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
      });
      assert.match(
        doctor.stdout,
        /^kubernetes \(shared\)\s+redis:\/\/\S+\s+ok\s+a synced `graybridge enricher` publishes here$/m,
      );
      assert.doesNotMatch(doctor.stdout, /^kubernetes rbac/m);

      // Both stop cleanly on SIGTERM (checked here, not in finally: a failure above stays the one reported).
      assert.deepEqual(await forwarder.stop('SIGTERM'), { code: 0, signal: null }, forwarder.stderr());
      assert.deepEqual(await enricher.stop('SIGTERM'), { code: 0, signal: null }, enricher.stderr());
    } finally {
      await forwarder.stop('SIGKILL');
      await enricher.stop('SIGKILL');
      await gelf.close();
    }
  });
});
