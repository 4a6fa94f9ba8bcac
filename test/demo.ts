// `npm run demo`: the pipeline on this machine. Real Kafka and a real kube-apiserver from the rig,
// the example app logging through the SDK, `graybridge forward` as its own process (consumer group →
// decode → enrich → encode GELF → TCP, committing after delivery), and a local GELF endpoint that
// decodes with Graylog's rules and prints what Graylog would index. Everything is stopped at the end.
import { startGelfReceiver, type ReceivedMessage } from '@graybridge/forwarder/sinks';
import { createTopics, startRig, stopRig } from '@graybridge/rig';
import { startForwarderProcess, runExampleApp, until, type ForwarderProcess } from './fixtures/processes.js';
import { createDeploymentPod, podEnv } from './fixtures/workload.js';

const orders = 20;
const topic = 'logs';
const say = (text: string): void => console.log(`\x1b[1m▶ ${text}\x1b[0m`);

async function main(): Promise<void> {
  const started = Date.now();
  say('starting Kafka and a kube-apiserver (the first run builds them: several minutes)');
  const rig = await startRig(['kafka', 'kube'], { ownerPid: process.pid });
  const received: ReceivedMessage[] = [];
  const receiver = await startGelfReceiver({ tcp: { port: 0 }, onMessage: (m) => received.push(m) });
  const brokers = [...(rig.kafka?.brokers ?? [])];
  const kubeconfig = rig.kube?.kubeconfig ?? '';
  let forwarder: ForwarderProcess | undefined;
  try {
    await createTopics(brokers, [topic], 3);
    say('creating a Deployment → ReplicaSet → Pod in namespace "shop"');
    const workload = await createDeploymentPod(kubeconfig, 'shop');

    say(
      `starting graybridge forward: Kafka "${topic}" → decode → enrich → GELF TCP → local endpoint (Graylog's rules)`,
    );
    forwarder = await startForwarderProcess({
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPICS: topic,
      GRAYBRIDGE_KAFKA_GROUP_ID: 'graybridge-demo',
      GRAYBRIDGE_GELF_HOST: '127.0.0.1',
      GRAYBRIDGE_GELF_PORT: String(receiver.ports.tcp ?? 0),
      GRAYBRIDGE_KUBERNETES_KUBECONFIG: kubeconfig,
      GRAYBRIDGE_OPS_LAG_INTERVAL_MILLIS: '500',
    });
    for (const line of forwarder.logs) console.log(`  forwarder: ${line.msg}`);

    say(`running examples/app.mjs: ${orders} orders logged through @graybridge/log-sdk`);
    const app = await runExampleApp({
      ...podEnv(workload),
      GRAYBRIDGE_KAFKA_BROKERS: brokers.join(','),
      GRAYBRIDGE_KAFKA_TOPIC: topic,
      GRAYBRIDGE_ENV: 'demo',
      EXAMPLE_RECORDS: String(orders),
    });
    console.log(`  ${app.says}`);
    await until(() => received.length >= app.sent, 60_000, `${app.sent} GELF messages`).catch(() => undefined);
    const running = forwarder;
    await until(async () => (await running.metric('graybridge_consumer_lag_records')) === 0, 10_000, 'lag 0').catch(
      () => undefined,
    );

    say('what Graylog would index (first two messages):');
    for (const { message } of received.slice(0, 2)) console.log(JSON.stringify(message, null, 2));
    const summary = {
      'records produced by the app': app.sent,
      'GELF messages received': received.length,
      'with Deployment owner from the apiserver': received.filter(
        (r) => r.message.fields.k8s_owner_kind === 'Deployment',
      ).length,
      'fields Graylog would drop silently': received.reduce((n, r) => n + r.droppedFields.length, 0),
      'records sent (forwarder metric)': await forwarder.metric('graybridge_records_sent_total'),
      'consumer lag at the end': await forwarder.metric('graybridge_consumer_lag_records'),
    };
    say('stopping the forwarder with SIGTERM (drain, commit, exit 0)');
    const exit = await forwarder.stop();
    console.log(`  forwarder: ${forwarder.logs.at(-1)?.msg ?? ''} (exit ${exit.code})`);
    say('summary');
    console.table({ ...summary, 'seconds (including rig start)': Math.round((Date.now() - started) / 100) / 10 });
    if (received.length < app.sent) throw new Error(`only ${received.length} of ${app.sent} messages arrived`);
    if (exit.code !== 0) throw new Error(`the forwarder exited ${exit.code}: ${forwarder.stderr()}`);
  } finally {
    await forwarder?.stop();
    await receiver.close();
    await stopRig(rig);
  }
}

await main();
