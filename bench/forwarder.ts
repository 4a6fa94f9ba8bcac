// `npm run bench -- forwarder [--records N] [--runs N]`: end-to-end throughput of `graybridge
// forward` (consumer group → decode → enrich from the real API server → GELF → TCP) against
// `kcat -C` reading the same topic and rsyslog (imkafka → mmjsonparse → mmkubernetes → omfwd,
// config in bench/peers/rsyslog.conf) doing the same job, side by side in one run on the real
// broker; peak RSS and CPU of each. Latency has its own benchmark: latency.ts.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopics, startRig, stopRig, type KubeEndpoint } from '@graybridge/rig';
import { Consumer, type Message } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { registerKafkaCodecs } from '@graybridge/log-sdk';
import {
  chartNodeArgs,
  countingEndpoint,
  createPods,
  describeCorpus,
  pods,
  meanRecordBytes,
  record,
  recordBytes,
  spawnForwarder,
  stop,
  usage,
} from './forwarding.js';
import { format, machineLine, option, summarize, writeSection } from './report.js';

const docs = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const records = option('records', 200_000);
const runs = option('runs', 5);
const backgroundPods = option('pods', 10_000);
const meanBytes = meanRecordBytes(records);
const corpusLine = describeCorpus(records);
/** Records/s as MiB/s of record values (uncompressed JSON), median (min–max). */
const mibPerSecond = (rates: readonly number[]): string =>
  format(summarize(rates.map((rate) => (rate * meanBytes) / 2 ** 20)), 1);

async function produce(brokers: string[], topic: string): Promise<void> {
  registerKafkaCodecs();
  await createTopics(brokers, [topic], 4);
  const producer = new Kafka({ clientId: 'bench-forwarder', brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let sent = 0; sent < records; sent += 2000) {
    const size = Math.min(2000, records - sent);
    await producer.send({
      topic,
      compression: CompressionTypes.GZIP, // the SDK's default
      messages: Array.from({ length: size }, (_, i) => record(sent + i)),
    });
  }
  await producer.disconnect();
}

/** What one reader did: records/s, peak RSS and CPU seconds (user + system) per 100k records. */
interface ReaderResult {
  readonly rate: number;
  readonly rssMiB: number;
  readonly cpuPer100k: number;
}

function timeKcat(kcat: string, brokers: string[], topic: string): ReaderResult {
  const start = process.hrtime.bigint();
  const result = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss=%M cpu=%U+%S',
      kcat,
      '-C',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%s\n',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`kcat -C failed: ${result.stderr}`);
  const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(result.stderr);
  return {
    rate: records / seconds,
    rssMiB: Number(/maxrss=(\d+)/.exec(result.stderr)?.[1] ?? NaN) / 1024,
    cpuPer100k: ((Number(cpu?.[1] ?? NaN) + Number(cpu?.[2] ?? NaN)) * 100_000) / records,
  };
}

/**
 * Waits until the endpoint counted every record, until it counted nothing new for `idleMillis`,
 * or until `gone()` (the sender exited). Returns when the last record counted arrived.
 */
async function waitForAll(count: () => number, idleMillis: number, gone: () => boolean): Promise<bigint> {
  let last = -1;
  let lastAt = process.hrtime.bigint();
  while (count() < records && !gone()) {
    if (count() !== last) {
      last = count();
      lastAt = process.hrtime.bigint();
    } else if (Number(process.hrtime.bigint() - lastAt) / 1e6 > idleMillis) return lastAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return count() === last ? lastAt : process.hrtime.bigint();
}

const rsyslogConf = fileURLToPath(new URL('../peers/rsyslog.conf', import.meta.url));

/**
 * rsyslog doing the forwarder's job with bench/peers/rsyslog.conf: a new consumer group on the
 * same topic, each record parsed, enriched from the same API server and sent as GELF over TCP to
 * the same kind of counting endpoint. Timed from starting rsyslogd to the last frame.
 */
async function timeRsyslog(
  rsyslogd: string,
  brokers: string[],
  topic: string,
  kube: KubeEndpoint,
  run: number,
): Promise<ReaderResult & { received: number }> {
  const endpoint = await countingEndpoint();
  const workDir = mkdtempSync(join(tmpdir(), 'bench-rsyslog-'));
  const tokenFile = join(workDir, 'token');
  writeFileSync(tokenFile, kube.adminToken);
  const values: Record<string, string> = {
    workDir,
    brokers: brokers.join('", "'),
    topic,
    group: `bench-rsyslog-${run}`,
    apiserver: kube.server,
    caFile: kube.caFile,
    tokenFile,
    receiverPort: String(endpoint.port),
  };
  let child: ChildProcess | undefined;
  try {
    const conf = join(workDir, 'rsyslog.conf');
    writeFileSync(
      conf,
      readFileSync(rsyslogConf, 'utf8').replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`bench/peers/rsyslog.conf: no value for {{${name}}}`);
        return value;
      }),
    );
    const start = process.hrtime.bigint();
    const rsyslog = spawn(rsyslogd, ['-n', '-f', conf, '-i', join(workDir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = rsyslog;
    // Shown only when something went wrong (it also reports its worker threads stopping at exit).
    let stderr = '';
    rsyslog.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const end = await waitForAll(endpoint.count, 30_000, () => rsyslog.exitCode !== null);
    const seconds = Number(end - start) / 1e9;
    const log = (): string => stderr + readFileSync(join(workDir, 'rsyslogd.log'), { encoding: 'utf8', flag: 'a+' });
    const received = endpoint.count();
    if (rsyslog.exitCode !== null) {
      throw new Error(`rsyslogd exited with ${rsyslog.exitCode}: ${log()}`);
    }
    const { cpuSeconds, peakRssMiB } = usage(rsyslog.pid ?? 0);
    const first = endpoint.first();
    if (!first.includes('"_k8s_label_app":"api"')) throw new Error(`rsyslog did not enrich: ${first}`);
    JSON.parse(first); // a GELF document, not just a frame
    if (received < records) {
      console.error(`rsyslog delivered ${received} of ${records} records; its log:`);
      console.error(log());
    }
    return { rate: received / seconds, rssMiB: peakRssMiB, cpuPer100k: (cpuSeconds * 100_000) / received, received };
  } finally {
    if (child !== undefined) await stop(child);
    endpoint.server.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The Kafka clients alone: consume the topic as a new group, commit, do nothing else. */
async function timeKafkajs(brokers: string[], topic: string, run: number): Promise<number> {
  const consumer = new Kafka({ clientId: 'bench-kafkajs', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `bench-kafkajs-${run}`,
  });
  const start = process.hrtime.bigint();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        await consumer.commitOffsets([
          { topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
        ]);
        if (seen >= records) resolve();
      },
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await consumer.disconnect();
  return records / seconds;
}

async function timePlatformatic(brokers: string[], topic: string, run: number): Promise<number> {
  const consumer = new Consumer({ groupId: `bench-platformatic-${run}`, clientId: 'bench', bootstrapBrokers: brokers });
  const start = process.hrtime.bigint();
  const stream = await consumer.consume({ topics: [topic], autocommit: false, mode: 'earliest' });
  let seen = 0;
  await new Promise<void>((resolve) => {
    stream.on('data', (message: Message) => {
      seen += 1;
      if (seen % 2000 === 0 || seen === records) void message.commit();
      if (seen === records) resolve();
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await stream.close();
  await consumer.close();
  return records / seconds;
}

/** The chart's `nodeArgs` without its young-generation cap: what that cap is worth, in the same run. */
const defaultYoungGenerationArgs = chartNodeArgs.filter((arg) => !arg.startsWith('--max-semi-space-size'));

async function timeForwarder(
  brokers: string[],
  topic: string,
  kubeconfig: string,
  group: string,
  nodeArgs = chartNodeArgs,
): Promise<ReaderResult> {
  const endpoint = await countingEndpoint();
  const child = spawnForwarder({ brokers, topic, group, gelfPort: endpoint.port, kubeconfig, nodeArgs });
  // Timed from "forwarding" (group joining, first fetch and everything after count; process
  // start and the first pod list do not), and so is its CPU time.
  let start = 0n;
  let cpuAtStart = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    if (start === 0n && chunk.toString().includes('"msg":"forwarding"')) {
      start = process.hrtime.bigint();
      cpuAtStart = usage(child.pid ?? 0).cpuSeconds;
    }
  });
  while (start === 0n) await new Promise((resolve) => setTimeout(resolve, 5));
  while (endpoint.count() < records) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { cpuSeconds, peakRssMiB } = usage(child.pid ?? 0);
  await stop(child);
  endpoint.server.close();
  // The numbers only count if the messages were really enriched.
  if (!endpoint.first().includes('"_k8s_label_app":"api"'))
    throw new Error(`messages were not enriched: ${endpoint.first()}`);
  return { rate: records / seconds, rssMiB: peakRssMiB, cpuPer100k: ((cpuSeconds - cpuAtStart) * 100_000) / records };
}

interface Samples {
  readonly rate: number[];
  readonly rss: number[];
  readonly cpu: number[];
}

function samples(): Samples {
  return { rate: [], rss: [], cpu: [] };
}

function add(to: Samples, result: ReaderResult): void {
  to.rate.push(result.rate);
  to.rss.push(result.rssMiB);
  to.cpu.push(result.cpuPer100k);
}

const percent = (summary: { median: number; min: number; max: number }): string =>
  `${(summary.median * 100).toFixed(0)} % (${(summary.min * 100).toFixed(0)}–${(summary.max * 100).toFixed(0)} %)`;

const times = (summary: { median: number; min: number; max: number }): string =>
  `${summary.median.toFixed(2)}× (${summary.min.toFixed(2)}–${summary.max.toFixed(2)}×)`;

async function main(): Promise<void> {
  const rig = await startRig(['kafka', 'kube', 'kcat'], { ownerPid: process.pid });
  try {
    const brokers = [...(rig.kafka?.brokers ?? [])];
    const kube = rig.kube;
    if (kube === undefined) throw new Error('the rig has no API server');
    const kubeconfig = kube.kubeconfig;
    await createPods(kubeconfig, backgroundPods);
    const topic = `bench-forwarder-${Date.now()}`;
    console.log(`producing ${records} records (${corpusLine}, gzip, 4 partitions)`);
    await produce(brokers, topic);
    const rsyslogd = execFileSync('sh', ['-c', 'command -v rsyslogd || echo /usr/sbin/rsyslogd'], {
      encoding: 'utf8',
    }).trim();
    const rsyslogVersion = /rsyslogd\s+(\S+)/.exec(execFileSync(rsyslogd, ['-v'], { encoding: 'utf8' }))?.[1] ?? '?';
    const kcat = samples();
    const ours = samples();
    const oursDefaultYoung = samples();
    const rsyslog = samples();
    const received: number[] = [];
    const clients: { kafkajs: number[]; platformatic: number[] } = { kafkajs: [], platformatic: [] };
    const vsKcat: number[] = [];
    const vsRsyslog: number[] = [];
    const vsDefaultYoung: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const k = timeKcat(rig.kcat?.binary ?? 'kcat', brokers, topic);
      add(kcat, k);
      clients.kafkajs.push(await timeKafkajs(brokers, topic, run));
      clients.platformatic.push(await timePlatformatic(brokers, topic, run));
      // The two that do the whole job take turns going first; the variant without the chart's
      // young-generation cap goes last, then first.
      const timeDefaultYoung = (): Promise<ReaderResult> =>
        timeForwarder(brokers, topic, kubeconfig, `bench-forwarder-young-${run}`, defaultYoungGenerationArgs);
      let f: ReaderResult;
      let r: ReaderResult & { received: number };
      let d: ReaderResult;
      if (run % 2 === 0) {
        f = await timeForwarder(brokers, topic, kubeconfig, `bench-forwarder-${run}`);
        r = await timeRsyslog(rsyslogd, brokers, topic, kube, run);
        d = await timeDefaultYoung();
      } else {
        d = await timeDefaultYoung();
        r = await timeRsyslog(rsyslogd, brokers, topic, kube, run);
        f = await timeForwarder(brokers, topic, kubeconfig, `bench-forwarder-${run}`);
      }
      add(oursDefaultYoung, d);
      vsDefaultYoung.push(f.rate / d.rate);
      add(ours, f);
      add(rsyslog, r);
      received.push(r.received);
      vsKcat.push(f.rate / k.rate);
      vsRsyslog.push(f.rate / r.rate);
      console.log(
        `run ${run + 1}: kcat -C ${k.rate.toFixed(0)} rec/s, rsyslog ${r.rate.toFixed(0)} rec/s ` +
          `(${r.received} received), graybridge forward ${f.rate.toFixed(0)} rec/s ` +
          `(${d.rate.toFixed(0)} with V8's default young generation)`,
      );
    }
    const ratioKcat = summarize(vsKcat);
    const ratioRsyslog = summarize(vsRsyslog);
    const ratioDefaultYoung = summarize(vsDefaultYoung);
    const delivered = received.every((n) => n === records)
      ? `it delivered all ${records.toLocaleString('en-US')} records in every run`
      : `it delivered ${received.map((n) => n.toLocaleString('en-US')).join(', ')} of ${records.toLocaleString('en-US')} records (per run; its rate counts what arrived)`;
    writeSection(
      docs,
      'forwarder',
      `### Forwarder end to end vs rsyslog and kcat -C

${machineLine({ kafka: rig.kafka?.version ?? '?', kcat: rig.kcat?.version ?? '?', rsyslog: rsyslogVersion, 'kube-apiserver': kube.version })}

Command: \`npm run bench -- forwarder --runs ${runs} --records ${records} --pods ${backgroundPods} --record-bytes ${recordBytes.min}-${recordBytes.max}\`. ${records.toLocaleString('en-US')} records of ${corpusLine}
(pino-shaped: request logs, short events below ~400 bytes, a stack trace in the larger ones;
gzip-compressed as the SDK sends them) in 4 partitions from ${pods} pods; ${(pods + backgroundPods).toLocaleString('en-US')} pods in the API server
(the forwarder's watch cache and rsyslog's API server hold a big cluster's pods).
Every reader reads the same topic in the same run, variants interleaved in each run (rsyslog and
graybridge take turns going first; graybridge without the young-generation cap goes last, then first). \`graybridge forward\` consumes it as a new consumer group,
decodes, enriches every record from the watch cache (labels, namespace labels, node, image),
encodes GELF and writes it over TCP to a local endpoint that only counts frames, committing what
it delivered (at most every 500 ms while behind), with the chart's default \`nodeArgs\` (\`node ${chartNodeArgs.join(' ')}\`); it is timed from its "forwarding" log line (joining the group and the first fetch
included; process start and the first pod list not) to the last frame. rsyslog does the same job
with [bench/peers/rsyslog.conf](../bench/peers/rsyslog.conf) — imkafka (new consumer group),
mmjsonparse, mmkubernetes against the same API server (a GET per pod and namespace, then its
cache), omfwd TCP with a GELF template and NUL framing — to the same kind of endpoint, timed from
starting \`rsyslogd\` to the last frame; ${delivered}.
\`kcat -C -e\` reads the topic to the end and prints each value to /dev/null; the two Node Kafka
clients are timed alone (new group, commit, no processing). Cells: median (min–max) over ${runs} runs;
MiB/s is of the records as JSON (uncompressed);
RSS is the peak (VmHWM), CPU is user + system seconds per 100,000 records (graybridge from its
"forwarding" line on).

| reader | records/s | MiB/s | peak RSS MiB | CPU s per 100k |
| --- | --- | --- | --- | --- |
| kcat -C (librdkafka, C) | ${format(summarize(kcat.rate))} | ${mibPerSecond(kcat.rate)} | ${format(summarize(kcat.rss))} | ${format(summarize(kcat.cpu), 2)} |
| @platformatic/kafka alone (no processing) | ${format(summarize(clients.platformatic))} | ${mibPerSecond(clients.platformatic)} | | |
| kafkajs 2.2.4 alone (no processing) | ${format(summarize(clients.kafkajs))} | ${mibPerSecond(clients.kafkajs)} | | |
| rsyslog (imkafka + mmjsonparse + mmkubernetes + GELF TCP) | ${format(summarize(rsyslog.rate))} | ${mibPerSecond(rsyslog.rate)} | ${format(summarize(rsyslog.rss))} | ${format(summarize(rsyslog.cpu), 2)} |
| graybridge forward (decode + enrich + GELF TCP) | ${format(summarize(ours.rate))} | ${mibPerSecond(ours.rate)} | ${format(summarize(ours.rss))} | ${format(summarize(ours.cpu), 2)} |
| the same, V8's default young generation (\`node ${defaultYoungGenerationArgs.join(' ')}\`) | ${format(summarize(oursDefaultYoung.rate))} | ${mibPerSecond(oursDefaultYoung.rate)} | ${format(summarize(oursDefaultYoung.rss))} | ${format(summarize(oursDefaultYoung.cpu), 2)} |

Ratios of graybridge forward's rate to the other reader's in the same run, median (min–max):

| graybridge forward vs | ratio | target | |
| --- | --- | --- | --- |
| rsyslog | ${times(ratioRsyslog)} | ≥ 1.0× | ${ratioRsyslog.median >= 1 ? 'met' : 'missed'} |
| kcat -C | ${percent(ratioKcat)} | ≥ 50 % | ${ratioKcat.median >= 0.5 ? 'met' : 'missed'} |
| itself with V8's default young generation | ${times(ratioDefaultYoung)} | | |

The chart's \`--max-semi-space-size=8\` keeps V8's young generation at 16 MiB (V8 grows it to 32 MiB
or more by default): the scavenges' working set stays in the CPU's caches, and the
peak RSS drops with it. The last row measures it in this run.

rsyslog's GELF carries the same fields named the same way except \`_event_id\`, \`_kafka_*\`
(imkafka 8.2302 does not expose partition and offset) and \`_k8s_container_image\` (mmkubernetes
does not read the pod's containers); its template names this corpus's fields one by one, as rsyslog
cannot flatten arbitrary JSON into GELF's flat fields. It commits offsets with librdkafka's
auto-commit (every 5 s, independent of delivery) where graybridge commits after delivery.
`,
    );
  } finally {
    await stopRig(rig);
  }
}

await main();
