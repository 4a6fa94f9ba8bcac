// `npm run bench -- --soak 3600` (or `npm run bench -- soak --seconds 3600 [--rate 5000]
// [--interval 10] [--pods 10000]`): an app logging through the SDK at a steady rate into Kafka,
// `graybridge forward` enriching and sending it over GELF TCP, for an hour, beside the same app
// with a capped young generation and the same app on plain pino (the baseline); RSS and V8 heap of
// each process sampled every 10 s. Reports growth (target ≤ 5 %) and plots docs/soak.png (gnuplot).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTopics, freePort, startRig, stopRig } from '@graybridge/rig';
import {
  chartNodeArgs,
  countingEndpoint,
  createPods,
  forwarding,
  spawnApp,
  spawnForwarder,
  stop,
  usage,
} from './forwarding.js';
import { machineLine, option, writeSection } from './report.js';

const docs = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const plot = fileURLToPath(new URL('../../docs/soak.png', import.meta.url));
const seconds = option('seconds', option('soak', 3600));
const rate = option('rate', 5000);
const intervalSeconds = option('interval', 10);
const backgroundPods = option('pods', 10_000);
/** The first 10 % of the run, at least 2 minutes: JIT, caches and heaps settle. */
const warmupSeconds = Math.max(Math.floor(seconds / 10), 120);

/**
 * The app: logs `rate` records/s in 10 ms ticks for `seconds`, its memory every interval. Through
 * the SDK, or (the baseline) plain pino to /dev/null: the same work on the app's own thread, so
 * what the SDK adds is the difference.
 */
function appScript(variant: 'sdk' | 'pino'): string {
  const setup =
    variant === 'sdk'
      ? `import { createLogger } from '@graybridge/log-sdk';
const logger = createLogger({ service: 'api', kafka: { topic: process.env.APP_TOPIC } });
const stats = () => logger.deliveryStats();
const close = () => logger.close();`
      : `import pino from 'pino';
const logger = pino(pino.destination('/dev/null'));
const stats = () => ({});
const close = async () => ({ droppedRecords: {} });`;
  // The live heap is measured after a full collection, forced twice (after warm-up, at the end):
  // where the samples land in the collector's sawtooth moves a small heap's floor by ~10 %.
  return `${setup}
import v8 from 'node:v8';
import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');
const liveHeap = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};
const newSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size;
const perTick = ${rate / 100};
const report = () => {
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write('SOAK ' + JSON.stringify({ rss, heapUsed, newSpace: newSpace(), ...stats() }) + '\\n');
};
const timer = setInterval(report, ${intervalSeconds * 1000});
const started = Date.now();
let seq = 0;
let liveHeapStart;
for (let tick = 0; tick < ${seconds * 100}; tick += 1) {
  if (liveHeapStart === undefined && tick >= ${warmupSeconds * 100}) liveHeapStart = liveHeap();
  for (let i = 0; i < perTick; i += 1, seq += 1)
    logger.info({ seq, req: { method: 'GET', url: '/v1/orders/' + seq }, res: { statusCode: 200 }, detail: 'y'.repeat(120) }, 'request completed');
  const due = started + (tick + 1) * 10;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
}
clearInterval(timer);
const liveHeapEnd = liveHeap();
const final = await close();
process.stdout.write('SOAK ' + JSON.stringify({ done: true, logged: seq, liveHeapStart, liveHeapEnd, ...final }) + '\\n');
`;
}

/** A running app's latest memory report and, once it finished, its final one. */
function watchApp(app: ReturnType<typeof spawnApp>): {
  latest: () => Record<string, number>;
  done: () => Record<string, unknown> | undefined;
  exited: Promise<number | null>;
} {
  let latest: Record<string, number> = {};
  let done: Record<string, unknown> | undefined;
  let pending = '';
  app.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('SOAK ')) continue;
      const report = JSON.parse(line.slice(5)) as Record<string, number> & { done?: boolean };
      if (report.done === true) done = report;
      else latest = report;
    }
  });
  return { latest: () => latest, done: () => done, exited: new Promise((resolve) => app.once('exit', resolve)) };
}

/** The apps the soak runs side by side, each writing its own topic. */
const apps = [
  { name: 'app with @graybridge/log-sdk', title: 'app (SDK)', variant: 'sdk', nodeOptions: '', forwarded: true },
  {
    name: 'the same app, `NODE_OPTIONS=--max-semi-space-size=16`',
    title: 'app (SDK, semi-space 16 MiB)',
    variant: 'sdk',
    nodeOptions: '--max-semi-space-size=16',
    forwarded: false,
  },
  {
    name: 'the same app with plain pino to /dev/null',
    title: 'app (plain pino)',
    variant: 'pino',
    nodeOptions: '',
    forwarded: false,
  },
] as const;

interface Sample {
  readonly at: number;
  readonly forwarderRss: number;
  readonly forwarderHeap: number;
  /**
   * RSS, heap in use and young generation ("new space") of each of `apps`, in its order; the SDK's
   * worker's heap (NaN on plain pino).
   */
  readonly apps: readonly {
    readonly rss: number;
    readonly heap: number;
    readonly newSpace: number;
    readonly workerHeap: number;
  }[];
}

/** A prom-client gauge's value from a /metrics text. */
function gauge(metrics: string, name: string): number {
  return Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
}

const mib = (bytes: number): number => bytes / 2 ** 20;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Samples taken during warm-up, left out of every start window. */
const warmupSamples = Math.ceil(warmupSeconds / intervalSeconds);

/**
 * Start and end of the run: the tenth of samples from index `from` (by default the first after
 * warm-up) and the last tenth, each summed up by `summary` — the median for RSS; the lowest for
 * heap in use, whose samples land anywhere in the collector's sawtooth while its floor is what
 * survives collections (a leak raises it).
 */
function window(
  values: readonly number[],
  summary: (window: readonly number[]) => number,
  from = warmupSamples,
): { start: number; end: number } {
  const tenth = Math.max(1, Math.floor(values.length / 10));
  return { start: summary(values.slice(from, from + tenth)), end: summary(values.slice(-tenth)) };
}

/**
 * The first sample at which an app's new space had reached the size it ended with: V8 grows it
 * in steps, doubling up to twice the largest semi-space, as objects survive scavenges; each step
 * adds its size to RSS once.
 */
function newSpaceSettled(newSpace: readonly number[]): number {
  const final = newSpace.at(-1) ?? Number.NaN;
  const index = newSpace.findIndex((size) => size === final);
  return index < 0 ? 0 : index;
}

const lowest = (window: readonly number[]): number => Math.min(...window);

/** A table row: process, measure, and its value at the start and the end of the run. */
type MeasuredRow = [string, string, { start: number; end: number }];

async function main(): Promise<void> {
  const rig = await startRig(['kafka', 'kube'], { ownerPid: process.pid });
  const workDir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
  try {
    const brokers = [...(rig.kafka?.brokers ?? [])];
    const kubeconfig = rig.kube?.kubeconfig ?? '';
    await createPods(kubeconfig, backgroundPods);
    const topic = `bench-soak-${Date.now()}`;
    // The forwarder reads the first app's topic only: it sees the steady rate, not a multiple.
    const topics = apps.map((app, index) => (app.forwarded ? topic : `${topic}-${index}`));
    await createTopics(brokers, [...new Set(topics)], 4);
    const endpoint = await countingEndpoint();
    const opsPort = await freePort();
    const forwarder = spawnForwarder({ brokers, topic, group: topic, gelfPort: endpoint.port, kubeconfig, opsPort });
    await forwarding(forwarder);
    const running = apps.map((app, index) => {
      const child = spawnApp(appScript(app.variant), brokers, topics[index] ?? topic, 'pipe', app.nodeOptions);
      return { child, ...watchApp(child) };
    });
    const [first] = running;
    if (first === undefined) throw new Error('no app to soak');
    const samples: Sample[] = [];
    const started = Date.now();
    console.log(`soak: ${rate} records/s for ${seconds} s, sampling every ${intervalSeconds} s`);
    while (first.done() === undefined && first.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, intervalSeconds * 1000));
      if (forwarder.exitCode !== null) throw new Error(`graybridge forward exited with ${forwarder.exitCode}`);
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      const sample: Sample = {
        at: (Date.now() - started) / 1000,
        forwarderRss: usage(forwarder.pid ?? 0).rssMiB,
        forwarderHeap: mib(gauge(metrics, 'nodejs_heap_size_used_bytes')),
        apps: running.map((app) => ({
          rss: mib(app.latest().rss ?? Number.NaN),
          heap: mib(app.latest().heapUsed ?? Number.NaN),
          newSpace: mib(app.latest().newSpace ?? Number.NaN),
          workerHeap: mib(app.latest().workerHeapUsedBytes ?? Number.NaN),
        })),
      };
      samples.push(sample);
      if (samples.length % 6 === 0) {
        const appLines = apps.map(
          (app, index) =>
            `${app.title} RSS ${sample.apps[index]?.rss.toFixed(0)} MiB heap ${sample.apps[index]?.heap.toFixed(0)} MiB`,
        );
        console.log(
          `${sample.at.toFixed(0)} s: forwarder RSS ${sample.forwarderRss.toFixed(0)} MiB heap ${sample.forwarderHeap.toFixed(0)} MiB, ` +
            `${appLines.join(', ')}, delivered ${endpoint.count()}`,
        );
      }
    }
    const exitCodes = await Promise.all(running.map((app) => app.exited));
    exitCodes.forEach((code, index) => {
      if (code !== 0 || running[index]?.done() === undefined)
        throw new Error(`${apps[index]?.name} exited with ${code}`);
    });
    const appDone = first.done() ?? {};
    const logged = Number(appDone.logged);
    const deadline = Date.now() + 120_000;
    while (endpoint.count() < logged && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const delivered = endpoint.count();
    await stop(forwarder);
    endpoint.server.close();

    const data = join(workDir, 'soak.tsv');
    writeFileSync(
      data,
      samples
        .map((s) =>
          [s.at / 60, s.forwarderRss, s.forwarderHeap, ...s.apps.flatMap((app) => [app.rss, app.heap])]
            .map((n) => n.toFixed(2))
            .join('\t'),
        )
        .join('\n') + '\n',
    );
    const appCurves = apps.flatMap((app, index) => [
      `'' using 1:${4 + 2 * index} with lines lw 2 dt ${index + 1} title '${app.title} RSS'`,
      `'' using 1:${5 + 2 * index} with lines lw 2 dt ${index + 1} title '${app.title} heap used'`,
    ]);
    execFileSync('gnuplot', [
      '-e',
      [
        `set terminal pngcairo size 1000,500 font 'sans,10'`,
        `set output '${plot}'`,
        `set title 'graybridge soak: ${rate.toLocaleString('en-US')} records/s for ${(seconds / 60).toFixed(0)} min'`,
        `set xlabel 'minutes'`,
        `set ylabel 'MiB'`,
        `set yrange [0:*]`,
        `set key outside right`,
        `set grid`,
        `plot '${data}' using 1:2 with lines lw 2 title 'forwarder RSS', ` +
          [`'' using 1:3 with lines lw 2 title 'forwarder heap used'`, ...appCurves].join(', '),
      ].join('; '),
    ]);

    const appRows = (app: (typeof apps)[number], index: number): MeasuredRow[] => {
      const of = (pick: (sample: Sample['apps'][number]) => number): number[] =>
        samples.map((sample) => {
          const measuredApp = sample.apps[index];
          return measuredApp === undefined ? Number.NaN : pick(measuredApp);
        });
      const rss = of((measuredApp) => measuredApp.rss);
      const newSpace = of((measuredApp) => measuredApp.newSpace);
      const settled = newSpaceSettled(newSpace);
      const final = running[index]?.done() ?? {};
      const rows: MeasuredRow[] = [
        [
          app.name,
          `RSS (median); new space ${newSpace[warmupSamples]?.toFixed(0)} → ${newSpace.at(-1)?.toFixed(0)} MiB`,
          window(rss, median),
        ],
      ];
      // When the new space grew after warm-up, the same RSS measured from its last step on.
      if (settled > warmupSamples)
        rows.push([
          app.name,
          `RSS (median) from minute ${((settled * intervalSeconds) / 60).toFixed(0)}, its new space's last step`,
          window(rss, median, settled),
        ]);
      rows.push([
        app.name,
        'V8 heap live after a full collection',
        { start: mib(Number(final.liveHeapStart)), end: mib(Number(final.liveHeapEnd)) },
      ]);
      if (app.variant === 'sdk')
        rows.push([
          app.name,
          "SDK worker's V8 heap used (lowest)",
          window(
            of((a) => a.workerHeap),
            lowest,
          ),
        ]);
      return rows;
    };
    const measured: MeasuredRow[] = [
      [
        'graybridge forward',
        'RSS (median)',
        window(
          samples.map((s) => s.forwarderRss),
          median,
        ),
      ],
      [
        'graybridge forward',
        'V8 heap used (lowest)',
        window(
          samples.map((s) => s.forwarderHeap),
          lowest,
        ),
      ],
      ...apps.flatMap(appRows),
    ];
    const rows = measured.map(([process, measure, { start, end }]) => {
      const percent = ((end - start) / start) * 100;
      return `| ${process} | ${measure} | ${start.toFixed(1)} | ${end.toFixed(1)} | ${percent >= 0 ? '+' : ''}${percent.toFixed(1)} % | ${percent <= 5 ? 'met' : 'missed'} |`;
    });
    const dropped = Object.values(appDone.droppedRecords as Record<string, number>).reduce((a, b) => a + b, 0);
    const markdown = `### Soak: ${(seconds / 60).toFixed(0)} minutes at ${rate.toLocaleString('en-US')} records/s

${machineLine({ kafka: rig.kafka?.version ?? '?', 'kube-apiserver': rig.kube?.version ?? '?' })}

Command: \`npm run bench -- soak --seconds ${seconds} --rate ${rate} --interval ${intervalSeconds} --pods ${backgroundPods}\`.
An app logs through \`@graybridge/log-sdk\` at a steady ${rate.toLocaleString('en-US')} records/s into a 4-partition
topic; \`graybridge forward\` enriches every record from the API server (${backgroundPods.toLocaleString('en-US')} more pods in it) and
sends GELF over TCP to a counting endpoint (with the chart's \`nodeArgs\`: \`${chartNodeArgs.join(' ')}\`). Beside them,
the same app started with \`NODE_OPTIONS=--max-semi-space-size=16\` (as docs/sdk.md recommends where memory is
tight; its own topic, not forwarded), and the same app logging the same records with plain pino to
/dev/null: the baseline for what any Node app logging at this rate does with its memory.
Every ${intervalSeconds} s: each process's RSS, the forwarder's V8 heap in use (its /metrics), each app's
heap in use and young generation ("new space", its own \`process.memoryUsage()\` and
\`v8.getHeapSpaceStatistics()\`: the app's thread) and the SDK's worker's heap
(\`deliveryStats().workerHeapUsedBytes\`). Growth compares the first tenth of samples after
warm-up (${warmupSeconds / 60} min) with the last tenth: their medians for RSS, their lowest for heap in use (samples
land anywhere in the collector's sawtooth; its floor is what survives collections, and what a
leak would raise). An app's live heap is measured exactly instead: each app forces a full
collection twice (after warm-up and at the end, \`gc()\`) and reports the heap in use after it.
Where an app's new space grew after warm-up, its RSS is also compared from that step on.
The app logged ${logged.toLocaleString('en-US')} records, the SDK dropped ${dropped.toLocaleString('en-US')}, the endpoint received
${delivered.toLocaleString('en-US')}.

| process | measure | start MiB | end MiB | growth | target ≤ 5 % |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

![RSS and heap of the forwarder and the app over the soak](soak.png)`;
    writeSection(docs, 'soak', markdown);
    console.log(markdown);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await stopRig(rig);
  }
}

await main();
