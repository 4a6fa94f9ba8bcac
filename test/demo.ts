// `npm run demo`: the pipeline on this machine. Real Kafka and a real kube-apiserver from the rig,
// the example app logging through the SDK, the forwarder's source and stages (consumer group →
// decode → enrich → encode GELF → TCP sink, committing after delivery), and a local GELF endpoint
// that decodes with Graylog's rules and prints what Graylog would index. Everything is stopped at
// the end.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createEnricher } from '@graybridge/enricher';
import { createPipeline, KafkaSource } from '@graybridge/forwarder';
import { startGelfReceiver, TcpSink, type ReceivedMessage } from '@graybridge/forwarder/sinks';
import { startRig, stopRig } from '@graybridge/rig';
import { Kafka, logLevel } from 'kafkajs';

const records = 20;
const topic = 'logs';
const app = fileURLToPath(new URL('../../examples/app.mjs', import.meta.url));
const say = (text: string): void => console.log(`\x1b[1m▶ ${text}\x1b[0m`);

async function createWorkload(kubeconfig: string): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const apps = config.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop', labels: { team: 'payments' } } } });
  const template = {
    metadata: { labels: { app: 'checkout' } },
    spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/checkout:1.4.2' }] },
  };
  const deployment = await apps.createNamespacedDeployment({
    namespace: 'shop',
    body: { metadata: { name: 'checkout' }, spec: { selector: { matchLabels: { app: 'checkout' } }, template } },
  });
  const rs = await apps.createNamespacedReplicaSet({
    namespace: 'shop',
    body: {
      metadata: {
        name: 'checkout-7d9f',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'checkout',
            uid: deployment.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: { selector: { matchLabels: { app: 'checkout' } }, template },
    },
  });
  await core.createNamespacedPod({
    namespace: 'shop',
    body: {
      metadata: {
        name: 'checkout-7d9f-abcde',
        labels: { app: 'checkout', 'app.kubernetes.io/version': '1.4.2' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'checkout-7d9f',
            uid: rs.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'registry.example.com/shop/checkout:1.4.2' }] },
    },
  });
}

function runApp(brokers: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [app], {
      env: {
        ...process.env,
        GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
        GRAYBRIDGE_KAFKA_TOPIC: topic,
        POD_NAME: 'checkout-7d9f-abcde',
        POD_NAMESPACE: 'shop',
        NODE_NAME: 'node-a',
        CONTAINER_NAME: 'app',
        GRAYBRIDGE_ENV: 'demo',
        EXAMPLE_RECORDS: String(records),
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stderr.trim()) : reject(new Error(`example app exited ${code}: ${stderr}`)),
    );
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  say('starting Kafka and a kube-apiserver (the first run builds them: several minutes)');
  const rig = await startRig(['kafka', 'kube'], { ownerPid: process.pid });
  const received: ReceivedMessage[] = [];
  const receiver = await startGelfReceiver({ tcp: { port: 0 }, onMessage: (m) => received.push(m) });
  const enricher = createEnricher({ kubeconfig: rig.kube?.kubeconfig ?? '' });
  const brokers = [...(rig.kafka?.brokers ?? [])];
  const kafka = new Kafka({ clientId: 'graybridge-demo', brokers, logLevel: logLevel.NOTHING });
  const sink = new TcpSink({ host: '127.0.0.1', port: receiver.ports.tcp ?? 0 });
  const pipeline = createPipeline({ sink, lookup: (query) => enricher.lookup(query) });
  const source = new KafkaSource({ brokers, topics: [topic], groupId: 'graybridge-demo' });
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    say('creating a Deployment → ReplicaSet → Pod in namespace "shop"');
    await createWorkload(rig.kube?.kubeconfig ?? '');
    await enricher.ready();

    say(`forwarding: Kafka topic "${topic}" → decode → enrich → GELF → TCP → local endpoint (Graylog's rules)`);
    await source.start((records) => pipeline.handle(records));

    say(`running examples/app.mjs: ${records} orders logged through @graybridge/log-sdk`);
    const appSays = await runApp(brokers);
    console.log(`  ${appSays}`);
    const expected = Number(/(\d+) records sent/.exec(appSays)?.[1] ?? 0);
    const deadline = Date.now() + 60_000;
    while (received.length < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));

    say('what Graylog would index (first two messages):');
    for (const { message } of received.slice(0, 2)) console.log(JSON.stringify(message, null, 2));
    const enriched = received.filter((r) => r.message.fields.k8s_owner_kind === 'Deployment').length;
    say('summary');
    console.table({
      'records produced by the app': expected,
      'GELF messages received': received.length,
      'with Deployment owner from the apiserver': enriched,
      'fields Graylog would drop silently': received.reduce((n, r) => n + r.droppedFields.length, 0),
      'records committed in Kafka': source.stats().records,
      'seconds (including rig start)': Math.round((Date.now() - started) / 100) / 10,
    });
    if (received.length < expected) throw new Error(`only ${received.length} of ${expected} messages arrived`);
  } finally {
    await source.stop().catch(() => undefined);
    await sink.close();
    await receiver.close();
    await enricher.stop();
    await stopRig(rig);
  }
}

await main();
