// The forwarder as operators run it (`graybridge forward`, a separate process) on the real rig:
// SDK → Kafka → forwarder → GELF endpoint with metadata from the real API server, and the faults
// the issue names: GELF endpoint down, SIGKILL mid-stream, rebalances between two forwarders.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeServerCertificate, useRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';
import { startCountingReceiver, type CountingReceiver } from '../fixtures/gelf.js';
import { committedOffsets, createTopic, RecordProducer } from '../fixtures/kafka.js';
import { runExampleApp, startForwarderProcess, until, type ForwarderProcess } from '../fixtures/processes.js';
import { createDeploymentPod, podEnv, type Workload } from '../fixtures/workload.js';

const rig = useRig(['kafka', 'kafka-secure', 'kube']);
const brokers = (): string[] => [...(rig().kafka?.brokers ?? [])];

function forwarderEnv(topic: string, groupId: string, gelf: Record<string, string>): Record<string, string> {
  return {
    GRAYBRIDGE_KAFKA_BROKERS: brokers().join(','),
    GRAYBRIDGE_KAFKA_TOPICS: topic,
    GRAYBRIDGE_KAFKA_GROUP_ID: groupId,
    GRAYBRIDGE_KUBERNETES_KUBECONFIG: rig().kube?.kubeconfig ?? '',
    GRAYBRIDGE_OPS_LAG_INTERVAL_MILLIS: '300',
    GRAYBRIDGE_OPS_HOST: '127.0.0.1',
    ...gelf,
  };
}

/** Small fetches and batches, so that a fault lands in the middle of the stream. */
function streamingEnv(
  topic: string,
  groupId: string,
  gelf: CountingReceiver,
  extra: Record<string, string> = {},
): Record<string, string> {
  return forwarderEnv(topic, groupId, {
    GRAYBRIDGE_GELF_HOST: '127.0.0.1',
    GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
    GRAYBRIDGE_KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '16384',
    GRAYBRIDGE_KAFKA_MAX_BATCH_RECORDS: '100',
    GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
    ...extra,
  });
}

async function stopCleanly(forwarder: ForwarderProcess): Promise<void> {
  const exit = await forwarder.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, forwarder.stderr());
  assert.ok(forwarder.logs.some((l) => l.msg === 'stopped: everything handled is committed'));
}

describe('graybridge forward end to end: SDK → Kafka → forwarder → GELF, metadata from the API server', () => {
  let workload: Workload | undefined;
  const deploymentPod = async (): Promise<Workload> =>
    (workload ??= await createDeploymentPod(rig().kube?.kubeconfig ?? '', `e2e-${randomUUID().slice(0, 8)}`));

  for (const transport of ['tcp', 'udp', 'http'] as const) {
    it(`over GELF ${transport.toUpperCase()}: every record arrives once, enriched, nothing Graylog would drop`, async () => {
      const pod = await deploymentPod();
      const topic = await createTopic(brokers(), `e2e-${transport}`, 2);
      const gelf = await startCountingReceiver(transport);
      const port = String(gelf.receiver.ports[transport] ?? 0);
      const forwarder = await startForwarderProcess(
        forwarderEnv(topic, `e2e-${transport}`, {
          GRAYBRIDGE_GELF_TRANSPORT: transport,
          ...(transport === 'http'
            ? { GRAYBRIDGE_GELF_URL: `http://127.0.0.1:${port}/gelf` }
            : { GRAYBRIDGE_GELF_HOST: '127.0.0.1', GRAYBRIDGE_GELF_PORT: port }),
        }),
      );
      try {
        const app = await runExampleApp({
          ...podEnv(pod),
          GRAYBRIDGE_KAFKA_BROKERS: brokers().join(','),
          GRAYBRIDGE_KAFKA_TOPIC: topic,
          EXAMPLE_RECORDS: '10',
        });
        assert.ok(app.sent > 30, app.says);
        await until(() => gelf.unique() >= app.sent, 30_000, `${app.sent} messages over ${transport}`);
        // Everything committed: whatever the forwarder was going to send has been sent.
        await until(async () => (await forwarder.metric('graybridge_consumer_lag_records')) === 0, 10_000, 'lag 0');
        assert.equal(gelf.messages.length, app.sent, 'no duplicates without faults');
        for (const { transport: via, message, droppedFields } of gelf.messages) {
          assert.equal(via, transport);
          assert.equal(message.source, pod.pod);
          assert.equal(message.fields.k8s_namespace, pod.namespace);
          assert.equal(message.fields.k8s_owner_kind, 'Deployment');
          assert.equal(message.fields.k8s_owner_name, 'checkout');
          assert.equal(message.fields.k8s_container_image, pod.image);
          assert.equal(message.fields.k8s_namespace_label_team, 'payments');
          assert.deepEqual(droppedFields, []);
        }
        const failed = gelf.messages.find((m) => m.message.message === 'payment failed');
        assert.equal(failed?.message.fields.err_type, 'Error');
        assert.equal((await forwarder.readyz()).status, 200);
        assert.equal(await forwarder.metric('graybridge_records_sent_total'), app.sent);
      } finally {
        await stopCleanly(forwarder);
        await gelf.close();
      }
    });
  }
});

describe('graybridge forward under faults', () => {
  it('GELF endpoint down 30 s: not ready, stays in its group, lag rises and falls, nothing lost', async () => {
    const topic = await createTopic(brokers(), 'e2e-down', 2);
    const port = await freePort();
    const groupId = `e2e-down-${randomUUID().slice(0, 8)}`;
    const forwarder = await startForwarderProcess(
      forwarderEnv(topic, groupId, {
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(port),
        GRAYBRIDGE_GELF_CONNECT_TIMEOUT_MILLIS: '500',
        GRAYBRIDGE_GELF_BREAKER_COOLDOWN_MILLIS: '1000',
        GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
      }),
    );
    const producer = new RecordProducer(brokers(), topic);
    let gelf: CountingReceiver | undefined;
    try {
      await producer.connect();
      await producer.send(300);
      await until(async () => (await forwarder.metric('graybridge_consumer_lag_records')) === 300, 15_000, 'lag 300');
      await until(async () => (await forwarder.readyz()).status === 503, 15_000, 'not ready while Graylog is down');
      const down = await forwarder.readyz();
      assert.equal(down.status, 503);
      const sinkCheck = down.body.checks.gelf;
      assert.equal(sinkCheck?.ok, false);
      assert.match(sinkCheck.detail ?? '', new RegExp(`gelf-tcp://127\\.0\\.0\\.1:${port}: circuit`));
      assert.match(sinkCheck.detail ?? '', /ECONNREFUSED/);
      // 30 s down: the member stays in its group (heartbeats while holding the batch).
      const outage = Date.now();
      while (Date.now() - outage < 30_000) {
        const ready = await forwarder.readyz();
        assert.equal(
          ready.body.checks.kafka?.ok,
          true,
          `left the group during the outage: ${JSON.stringify(ready.body)}`,
        );
        await sleep(2000);
      }
      assert.equal(await forwarder.metric('graybridge_records_sent_total'), 0);
      assert.ok((await forwarder.metric('graybridge_batches_held_total')) > 0);
      assert.equal(forwarder.logs.filter((l) => l.msg === 'kafka not ready').length, 0, 'no rebalance');

      gelf = await startCountingReceiver('tcp', port);
      const receiver = gelf;
      await until(() => receiver.unique() === 300, 30_000, 'all 300 after the endpoint is back');
      await until(
        async () => (await forwarder.metric('graybridge_consumer_lag_records')) === 0,
        10_000,
        'lag back to 0',
      );
      await until(async () => (await forwarder.readyz()).status === 200, 5000, 'ready again');
      assert.ok(forwarder.logs.some((l) => l.msg === 'gelf not ready'));
      // Readiness flips are logged once a second.
      await until(() => forwarder.logs.some((l) => l.msg === 'gelf ready'), 3000, 'the "gelf ready" log line');
    } finally {
      await producer.disconnect();
      await stopCleanly(forwarder);
      await gelf?.close();
    }
  });

  it('SIGKILL mid-stream, then a restart: nothing lost, duplicates only past the committed offsets', async (t) => {
    const total = 6000;
    const topic = await createTopic(brokers(), 'e2e-kill', 3);
    const groupId = `e2e-kill-${randomUUID().slice(0, 8)}`;
    const gelf = await startCountingReceiver('tcp');
    const env = streamingEnv(topic, groupId, gelf, { GRAYBRIDGE_KAFKA_SESSION_TIMEOUT_MILLIS: '6000' });
    const producer = new RecordProducer(brokers(), topic);
    await producer.connect();
    await producer.send(total);
    await producer.disconnect();
    const first = await startForwarderProcess(env);
    let second: ForwarderProcess | undefined;
    try {
      await until(() => gelf.unique() >= total / 4, 30_000, 'a quarter delivered');
      assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
      const committed = await committedOffsets(brokers(), groupId, topic);
      const deliveredBeforeKill = gelf.unique();
      assert.ok(deliveredBeforeKill < total, 'killed mid-stream');

      second = await startForwarderProcess(env);
      await until(() => gelf.unique() === total, 60_000, `all ${total} after the restart`);
      for (const [eventId] of gelf.duplicates()) {
        const [, partition, offset] = /-(\d+)-(\d+)$/.exec(eventId) ?? [];
        const from = committed.get(Number(partition)) ?? -1;
        assert.ok(
          Number(offset) >= from,
          `${eventId} was committed (partition ${partition} at ${from}) yet redelivered`,
        );
      }
      const inFlight = total - [...committed.values()].reduce((sum, offset) => sum + Math.max(0, offset), 0);
      assert.ok(gelf.duplicates().size <= inFlight);
      t.diagnostic(
        `${deliveredBeforeKill} delivered before the kill, ${total - inFlight} committed, ${gelf.duplicates().size} redelivered`,
      );
    } finally {
      await (second ? stopCleanly(second) : Promise.resolve());
      await gelf.close();
    }
  });

  it('two forwarders, partitions rebalanced twice while records flow: nothing lost', async () => {
    const topic = await createTopic(brokers(), 'e2e-rebalance', 4);
    const groupId = `e2e-rebalance-${randomUUID().slice(0, 8)}`;
    const gelf = await startCountingReceiver('tcp');
    const env = streamingEnv(topic, groupId, gelf);
    const producer = new RecordProducer(brokers(), topic);
    await producer.connect();
    const a = await startForwarderProcess(env);
    let b: ForwarderProcess | undefined;
    try {
      // ~500 records/s for 10 s; B joins while A works (first rebalance), A leaves once B has
      // delivered part of the stream (second rebalance).
      const flowing = producer.send(5000, 100, 200);
      await until(async () => (await a.metric('graybridge_records_sent_total')) > 0, 20_000, 'A delivering');
      const running = await startForwarderProcess(env);
      b = running;
      await until(
        async () => (await running.metric('graybridge_records_sent_total')) > 0,
        20_000,
        'B shares the stream',
      );
      const aBefore = await a.metric('graybridge_records_sent_total');
      await until(
        async () => (await a.metric('graybridge_records_sent_total')) > aBefore,
        20_000,
        'A still delivers its share',
      );
      await stopCleanly(a);
      await flowing;
      await until(() => gelf.unique() === producer.count, 60_000, `all ${producer.count} records`);
      const bSent = await b.metric('graybridge_records_sent_total');
      assert.ok(bSent > 0 && bSent < producer.count, `B took over part of the stream (sent ${bSent})`);
    } finally {
      await producer.disconnect();
      await (b ? stopCleanly(b) : Promise.resolve());
      await a.stop();
      await gelf.close();
    }
  });
});

/**
 * What a forwarder that must be refused says: either it will not start (its stderr) or it runs
 * unready with the reason in /readyz (waited for until `reason` shows).
 */
async function refusal(env: Record<string, string>, reason: RegExp): Promise<string> {
  const refused = await startForwarderProcess(env).then(
    async (process) => {
      await until(
        async () => reason.test(JSON.stringify((await process.readyz()).body.checks.kafka)),
        20_000,
        `the failure (${String(reason)}) named in readiness`,
      ).catch(() => undefined); // the caller asserts on what it said instead
      const ready = await process.readyz();
      await process.stop();
      return { ready, stderr: process.stderr() };
    },
    (error: unknown) => ({ ready: undefined, stderr: String(error) }),
  );
  return refused.ready === undefined ? refused.stderr : JSON.stringify(refused.ready.body.checks.kafka);
}

describe('graybridge forward on a TLS + SASL broker', () => {
  it('consumes over TLS (CA from a file) with SCRAM-SHA-512 (password from a file); a wrong password or CA is not ready, named', async () => {
    const secure = rig().kafkaSecure?.secure;
    assert.ok(secure);
    const sasl = { mechanism: 'scram-sha-512' as const, username: secure.username, password: secure.password };
    const kafka = new Kafka({
      clientId: 'e2e-secure',
      brokers: [...secure.brokers],
      ssl: { ca: [readFileSync(secure.caFile, 'utf8')] },
      sasl,
      logLevel: logLevel.NOTHING,
    });
    const topic = `e2e-secure-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 50 }, (_, i) => ({ value: JSON.stringify({ level: 30, msg: `secure ${i}` }) })),
    });
    await producer.disconnect();
    const secrets = mkdtempSync(join(tmpdir(), 'e2e-secrets-'));
    writeFileSync(join(secrets, 'password'), `${secure.password}\n`);
    writeFileSync(join(secrets, 'wrong'), 'not-the-password\n');
    const gelf = await startCountingReceiver('tcp');
    const env = (passwordFile: string) => ({
      GRAYBRIDGE_KAFKA_BROKERS: secure.brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: `e2e-secure-${randomUUID().slice(0, 8)}`,
      GRAYBRIDGE_KAFKA_TLS_ENABLED: 'true',
      GRAYBRIDGE_KAFKA_TLS_CA_FILE: secure.caFile,
      GRAYBRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      GRAYBRIDGE_KAFKA_SASL_USERNAME: secure.username,
      GRAYBRIDGE_KAFKA_SASL_PASSWORD_FILE: passwordFile,
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(gelf.receiver.ports.tcp ?? 0),
      GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
    });
    try {
      const forwarder = await startForwarderProcess(env(join(secrets, 'password')));
      try {
        await until(() => gelf.unique() === 50, 30_000, '50 messages from the secure broker');
      } finally {
        await stopCleanly(forwarder);
      }
      const wrongPassword = await refusal(env(join(secrets, 'wrong')), /SASL/);
      assert.match(wrongPassword, /Connection to 127\.0\.0\.1:\d+ failed: SASL authentication failed/);
      const otherCa = makeServerCertificate(secrets, 'other');
      const wrongCa = await refusal(
        { ...env(join(secrets, 'password')), GRAYBRIDGE_KAFKA_TLS_CA_FILE: otherCa.caCert },
        /certificate/i,
      );
      assert.match(wrongCa, /127\.0\.0\.1:\d+.*certificate/i, 'the broker and the TLS verification failure are named');
      assert.equal(gelf.unique(), 50);
    } finally {
      await gelf.close();
    }
  });
});
