// `npm run bench -- scaling [--records N] [--runs N] [--pods N]`: how `graybridge forward` scales
// with consumer-group members and partitions — 1 and 2 processes in one group × 1, 4 and 8
// partitions — on the same corpus, enriched from the real API server, GELF TCP to a counting
// endpoint.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRig, stopRig, until } from '@graybridge/rig';
import { Kafka, logLevel, type Admin, type GroupDescription } from 'kafkajs';
import {
  countingEndpoint,
  createPods,
  describeCorpus,
  forwarding,
  pods,
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
const partitionCounts = [1, 4, 8] as const;
const processCounts = [1, 2] as const;

interface Measured {
  readonly rate: number;
  readonly cpuPer100k: number;
  readonly peakRssMiB: number;
}

/** Until the group has `members` members and is done rebalancing. */
async function groupStable(admin: Admin, group: string, members: number): Promise<void> {
  let described: GroupDescription | undefined;
  await until(
    async () => {
      [described] = (await admin.describeGroups([group])).groups;
      return described?.state === 'Stable' && described.members.length === members;
    },
    60_000,
    () => `group ${group} with ${members} members stable (now ${JSON.stringify(described)})`,
    100,
  );
}

/**
 * `processes` forwarders join one group on an empty topic of `partitions` partitions; once the
 * group is stable, `kcat -P` writes the corpus (gzip, no key: spread evenly over the partitions).
 * Timed from kcat's start to the last GELF frame.
 */
async function measure(
  brokers: string[],
  kcat: string,
  corpus: string,
  kubeconfig: string,
  admin: Admin,
  partitions: number,
  processes: number,
  run: number,
): Promise<Measured> {
  const topic = `bench-scaling-p${partitions}-x${processes}-${run}`;
  const group = `${topic}-group`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  const endpoint = await countingEndpoint();
  const forwarders = Array.from({ length: processes }, () =>
    spawnForwarder({ brokers, topic, group, gelfPort: endpoint.port, kubeconfig }),
  );
  try {
    await Promise.all(forwarders.map(forwarding));
    await groupStable(admin, group, processes);
    const cpuBefore = forwarders.map((f) => usage(f.pid ?? 0).cpuSeconds);
    const start = process.hrtime.bigint();
    const producer = spawn(kcat, ['-P', '-l', '-b', brokers.join(','), '-t', topic, '-z', 'gzip', corpus], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const [code] = (await once(producer, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`kcat -P exited with ${code}`);
    while (endpoint.count() < records) {
      if (forwarders.some((f) => f.exitCode !== null)) throw new Error('a forwarder exited during the run');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = forwarders.map((f) => usage(f.pid ?? 0));
    if (!endpoint.first().includes('"_k8s_label_app":"api"'))
      throw new Error(`messages were not enriched: ${endpoint.first()}`);
    const cpuSeconds = after.reduce((sum, u, i) => sum + u.cpuSeconds - (cpuBefore[i] ?? 0), 0);
    return {
      rate: records / seconds,
      cpuPer100k: (cpuSeconds * 100_000) / records,
      peakRssMiB: Math.max(...after.map((u) => u.peakRssMiB)),
    };
  } finally {
    await Promise.all(forwarders.map(stop));
    endpoint.server.close();
  }
}

async function main(): Promise<void> {
  const rig = await startRig(['kafka', 'kube', 'kcat'], { ownerPid: process.pid });
  const workDir = mkdtempSync(join(tmpdir(), 'bench-scaling-'));
  const admin = new Kafka({
    clientId: 'bench-scaling',
    brokers: [...(rig.kafka?.brokers ?? [])],
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    const brokers = [...(rig.kafka?.brokers ?? [])];
    const kubeconfig = rig.kube?.kubeconfig ?? '';
    const kcat = rig.kcat?.binary ?? 'kcat';
    await createPods(kubeconfig, backgroundPods);
    const corpus = join(workDir, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: records }, (_, seq) => record(seq).value).join('\n') + '\n');
    await admin.connect();
    const results = new Map<string, Measured[]>();
    const cells = partitionCounts.flatMap((partitions) =>
      processCounts.map((processes) => ({ partitions, processes })),
    );
    for (let run = 0; run < runs; run += 1) {
      // Every run visits the cells in another order, so drift on a shared machine spreads evenly.
      const order = run % 2 === 0 ? cells : [...cells].reverse();
      for (const { partitions, processes } of order) {
        const measured = await measure(brokers, kcat, corpus, kubeconfig, admin, partitions, processes, run);
        const key = `${partitions}/${processes}`;
        results.set(key, [...(results.get(key) ?? []), measured]);
        console.log(
          `run ${run + 1}: ${partitions} partition(s), ${processes} process(es): ${measured.rate.toFixed(0)} rec/s, ` +
            `${measured.cpuPer100k.toFixed(2)} CPU s/100k, peak RSS ${measured.peakRssMiB.toFixed(0)} MiB`,
        );
      }
    }
    const row = (partitions: number, processes: number): string => {
      const measured = results.get(`${partitions}/${processes}`) ?? [];
      const single = results.get(`${partitions}/1`) ?? [];
      // Speed-up within each run: the same run's one-process rate is the baseline.
      const speedup = summarize(measured.map((m, i) => m.rate / (single[i]?.rate ?? Number.NaN)));
      return `| ${partitions} | ${processes} | ${format(summarize(measured.map((m) => m.rate)))} | ${speedup.median.toFixed(2)}× (${speedup.min.toFixed(2)}–${speedup.max.toFixed(2)}×) | ${format(summarize(measured.map((m) => m.cpuPer100k)), 2)} | ${format(summarize(measured.map((m) => m.peakRssMiB)))} |`;
    };
    const markdown = `### Forwarder scaling: consumer-group members × partitions

${machineLine({ kafka: rig.kafka?.version ?? '?', 'kube-apiserver': rig.kube?.version ?? '?' })}

Command: \`npm run bench -- scaling --runs ${runs} --records ${records} --pods ${backgroundPods} --record-bytes ${recordBytes.min}-${recordBytes.max}\`. For each cell, 1 or 2
\`graybridge forward\` processes join one consumer group on an empty topic of 1, 4 or 8 partitions;
once the group is stable, \`kcat -P\` writes the corpus (the same ${records.toLocaleString('en-US')} records of ${describeCorpus(records)} from
${pods} pods as above; gzip; unkeyed, so spread evenly) and the cell is timed from kcat's start to
the last GELF frame at a counting TCP endpoint — the rate a group keeps up with. Every record is
enriched from the watch cache (${(pods + backgroundPods).toLocaleString('en-US')} pods in the API server). CPU is the sum over the
processes; RSS the largest process's peak. Cells: median (min–max) over ${runs} runs, cells
interleaved; speed-up is against the one-process rate of the same run and partition count.

| partitions | processes | records/s | speed-up | CPU s per 100k | peak RSS MiB |
| --- | --- | --- | --- | --- | --- |
${partitionCounts.flatMap((p) => processCounts.map((n) => row(p, n))).join('\n')}

This machine has 2 cores, shared with the broker, the API server and the endpoint: two processes
are the most it can show. A group spreads partitions over its members, so one partition is read by
one process whatever the group's size — give a topic at least as many partitions as forwarders.`;
    writeSection(docs, 'scaling', markdown);
    console.log(markdown);
  } finally {
    await admin.disconnect();
    rmSync(workDir, { recursive: true, force: true });
    await stopRig(rig);
  }
}

await main();
