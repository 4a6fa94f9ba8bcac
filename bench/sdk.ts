// log-sdk benchmark: main-thread cost per call against plain pino, and records/s delivered into
// Kafka against kcat -P, side by side in one run on the real broker.
//   npm run bench -- sdk [--runs 5] [--calls 200000] [--records 300000]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createLogger } from '@graybridge/log-sdk';
import { createTopics, startRig, stopRig } from '@graybridge/rig';
import { format, machineLine, summarize, writeSection } from './report.js';

const self = fileURLToPath(import.meta.url);
const benchmarksFile = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const identity = {
  pid: 1,
  hostname: 'checkout-7d9f-abcde',
  service: 'checkout',
  version: '1.4.2',
  k8s: { pod: 'checkout-7d9f-abcde', namespace: 'shop', node: 'node-a', container: 'app' },
};
const recordKey = 'shop/checkout-7d9f-abcde';

/** One realistic record (~330 bytes as JSON). */
function logOne(logger: pino.BaseLogger, i: number): void {
  logger.info(
    { order: i, user: `u-${i % 977}`, path: `/api/orders/${i}`, status: 200, duration_ms: (i % 250) / 10 },
    'request completed',
  );
}

type CostVariant = 'pino-sync' | 'pino-async' | 'graybridge';

async function childCost(variant: CostVariant, calls: number, brokers: string[], topic: string): Promise<void> {
  const graybridge =
    variant === 'graybridge'
      ? createLogger({
          kafka: { brokers, topic },
          handleSignals: false,
          buffer: { maxRecords: 2_000_000, maxBytes: 1024 * 1024 * 1024 },
          pino: { base: { pid: 1, hostname: identity.hostname } },
        })
      : undefined;
  const logger: pino.BaseLogger =
    graybridge ??
    pino(
      { base: identity },
      pino.destination(
        variant === 'pino-sync'
          ? { dest: '/dev/null', sync: true }
          : { dest: '/dev/null', sync: false, minLength: 4096 },
      ),
    );
  for (let i = 0; i < 20_000; i += 1) logOne(logger, i); // warm-up: JIT, worker start
  await graybridge?.flush();
  const threadCpu = process.threadCpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) logOne(logger, i);
  const nanos = Number(process.hrtime.bigint() - start);
  const { user, system } = process.threadCpuUsage(threadCpu);
  await graybridge?.close();
  process.stdout.write(
    JSON.stringify({ nsPerCall: nanos / calls, cpuNsPerCall: ((user + system) * 1000) / calls }) + '\n',
  );
}

type DeliveryPath = 'logger' | 'transport' | 'burst';
const paths: readonly DeliveryPath[] = ['logger', 'transport', 'burst'];
/** Log calls between two yields to the app's event loop (paths other than `burst`). */
const yieldEvery = 1000;
/** Lines the `transport` path serialises ahead and writes in turn: more than a batch's 10,000. */
const distinctLines = 20_000;

/**
 * Delivers `records` through the SDK and reports the rate from the first record to Kafka's last
 * acknowledgement, and the CPU the whole process (app thread, worker, zlib's threads) spent on it.
 * `path` = `logger`: log calls, pino serialising each record on the app's thread as in any app,
 * which yields to its event loop every `yieldEvery` calls as a server does between requests;
 * `transport`: the same lines already serialised, written where pino writes them (same yields) —
 * what the SDK itself costs after pino's work, the part comparable to kcat reading lines from a
 * file; `burst`: the log calls in one synchronous loop, as a batch job may make them (the worker
 * reads the shared ring while the loop runs).
 */
async function childDelivery(
  records: number,
  brokers: string[],
  topic: string,
  compression: 'gzip' | 'lz4',
  path: DeliveryPath,
): Promise<void> {
  const logger = createLogger({
    kafka: { brokers, topic, compression },
    handleSignals: false,
    buffer: { maxRecords: 2_000_000, maxBytes: 2 * 1024 * 1024 * 1024 },
    pino: { base: { pid: 1, hostname: identity.hostname } },
  });
  // The logger's own stream, and (for `transport`) the exact lines it makes, caught before it:
  // more distinct lines than a batch holds (so compression sees no repeats), written in turn — all
  // `records` of them held by the app would cost its collector more than pino's work (~100 MB).
  const streams = logger as unknown as Record<symbol, { write(line: string): void }>;
  const stream = streams[pino.symbols.streamSym];
  const lines: string[] = [];
  if (path === 'transport') {
    streams[pino.symbols.streamSym] = { write: (line: string) => lines.push(line) };
    for (let i = 0; i < Math.min(records, distinctLines); i += 1) logOne(logger, i);
    if (stream !== undefined) streams[pino.symbols.streamSym] = stream;
  }
  await logger.flush(); // worker up and connected before the clock starts
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const yieldNow = (i: number) => path !== 'burst' && i % yieldEvery === yieldEvery - 1;
  for (let i = 0; i < records; i += 1) {
    if (path === 'transport') stream?.write(lines[i % lines.length] ?? '');
    else logOne(logger, i);
    if (yieldNow(i)) await new Promise(setImmediate);
  }
  let stats = await logger.flush();
  while (stats.sentRecords < records) stats = await logger.flush();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const { user, system } = process.cpuUsage(cpu);
  await logger.close();
  const dropped = Object.values(stats.droppedRecords).reduce((a, b) => a + b, 0);
  process.stdout.write(
    JSON.stringify({
      recordsPerSecond: records / seconds,
      cpuSecondsPer100k: ((user + system) / 1e6 / records) * 100_000,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      dropped,
    }) + '\n',
  );
}

function runChild(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, 'child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child ${args.join(' ')} exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

async function createTopic(brokers: string[], topic: string): Promise<string> {
  await createTopics(brokers, [topic], 1);
  return topic;
}

/** The same records as pino writes them, keyed, for kcat -P. */
function writeKcatInput(file: string, records: number): void {
  const destination = pino.destination({ dest: file, sync: true });
  // kcat -K splits key and value on the first tab: a pino line has no raw tabs.
  const keyed = pino({ base: identity }, { write: (line: string) => destination.write(`${recordKey}\t${line}`) });
  for (let i = 0; i < records; i += 1) logOne(keyed, i);
  destination.flushSync();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      calls: { type: 'string', default: '200000' },
      records: { type: 'string', default: '300000' },
    },
  });
  const runs = Number(values.runs);
  const calls = Number(values.calls);
  const records = Number(values.records);
  const rig = await startRig(['kafka', 'kcat'], { ownerPid: process.pid });
  try {
    const brokers = [...(rig.kafka?.brokers ?? [])];
    const kcat = rig.kcat?.binary ?? 'kcat';
    const costs: Record<CostVariant, number[]> = { 'pino-sync': [], 'pino-async': [], graybridge: [] };
    /** The app thread's own CPU per call (wall time also counts being preempted). */
    const cpuCosts: Record<CostVariant, number[]> = { 'pino-sync': [], 'pino-async': [], graybridge: [] };
    const delivery: Record<string, { rate: number[]; cpu: number[]; rss: number[] }> = {};
    const dir = mkdtempSync(join(tmpdir(), 'bench-sdk-'));
    const input = join(dir, 'records.tsv');
    writeKcatInput(input, records);
    const meanBytes = statSync(input).size / records - recordKey.length - 2;

    for (let run = 1; run <= runs; run += 1) {
      console.error(`run ${run}/${runs}`);
      for (const variant of Object.keys(costs) as CostVariant[]) {
        const topic = await createTopic(brokers, `bench-cost-${variant}-${run}`);
        const cost = await runChild(['cost', variant, String(calls), brokers.join(','), topic]);
        costs[variant].push(cost.nsPerCall ?? NaN);
        cpuCosts[variant].push(cost.cpuNsPerCall ?? NaN);
      }
      for (const compression of ['gzip', 'lz4'] as const) {
        for (const path of compression === 'gzip' ? paths : paths.filter((path) => path !== 'burst')) {
          const sdk = await runChild([
            'delivery',
            String(records),
            brokers.join(','),
            await createTopic(brokers, `bench-sdk-${path}-${compression}-${run}`),
            compression,
            path,
          ]);
          const label = {
            logger: `graybridge log-sdk, ${compression}`,
            transport: `graybridge log-sdk, ${compression}: lines already serialised`,
            burst: `graybridge log-sdk, ${compression}: all calls in one burst`,
          }[path];
          const row = (delivery[label] ??= { rate: [], cpu: [], rss: [] });
          row.rate.push(sdk.recordsPerSecond ?? NaN);
          row.cpu.push(sdk.cpuSecondsPer100k ?? NaN);
          row.rss.push(sdk.maxRssMiB ?? NaN);
        }
        const topic = await createTopic(brokers, `bench-kcat-${compression}-${run}`);
        const kcatRun = timeKcat(kcat, brokers, topic, input, compression, records);
        const row = (delivery[`kcat -P, ${compression}`] ??= { rate: [], cpu: [], rss: [] });
        row.rate.push(kcatRun.recordsPerSecond);
        row.cpu.push(kcatRun.cpuSecondsPer100k);
        row.rss.push(kcatRun.maxRssMiB);
      }
    }
    rmSync(dir, { recursive: true, force: true });

    const baseline = summarize(costs['pino-sync']).median;
    const cpuBaseline = summarize(cpuCosts['pino-sync']).median;
    const costRows = (Object.keys(costs) as CostVariant[]).map((variant) => {
      const s = summarize(costs[variant]);
      const cpu = summarize(cpuCosts[variant]);
      const label = {
        'pino-sync': 'plain pino → /dev/null (sync, pino default)',
        'pino-async': 'plain pino → /dev/null (async, 4 KiB buffer)',
        graybridge: 'graybridge log-sdk → Kafka (worker thread)',
      }[variant];
      return `| ${label} | ${format(s)} | ${(s.median / baseline).toFixed(2)}× | ${format(cpu)} | ${(cpu.median / cpuBaseline).toFixed(2)}× |`;
    });
    const kcatGzip = summarize(delivery['kcat -P, gzip']?.rate ?? []).median;
    const kcatLz4 = summarize(delivery['kcat -P, lz4']?.rate ?? []).median;
    const deliveryRows = Object.entries(delivery).map(([label, d]) => {
      const rate = summarize(d.rate);
      const reference = label.includes('gzip') ? kcatGzip : kcatLz4;
      const mib = (rate.median * meanBytes) / 2 ** 20;
      const cpu = summarize(d.cpu);
      return `| ${label} | ${format(rate)} | ${mib.toFixed(1)} | ${((rate.median / reference) * 100).toFixed(0)} % | ${cpu.median.toFixed(2)} | ${format(summarize(d.rss))} |`;
    });
    const asyncRatio = summarize(costs.graybridge).median / summarize(costs['pino-async']).median;
    const markdown = `## log-sdk

${machineLine({ kafka: rig.kafka?.version ?? '?', kcat: rig.kcat?.version ?? '?' })}

Command: \`npm run bench -- sdk --runs ${runs} --calls ${calls} --records ${records}\`. Each cell: median (min–max) over
${runs} runs; every run is a fresh process per variant, variants interleaved. Records are ~${meanBytes.toFixed(0)} bytes of
JSON (a request log with pod identity), keyed by pod.

### Main-thread cost per \`logger.info(obj, msg)\` (ns per call, lower is better)

| logger | ns/call | vs plain pino (sync) | app-thread CPU ns/call | vs plain pino (sync) |
| --- | --- | --- | --- | --- |
${costRows.join('\n')}

Target ≤ 1.3× plain pino: ${summarize(costs.graybridge).median / baseline <= 1.3 ? 'met' : 'missed'} against pino's default
destination in wall time; against pino's fastest (async) destination the ratio is ${asyncRatio.toFixed(2)}×. Each variant
makes ${calls.toLocaleString('en-US')} calls in one loop. "App-thread CPU" is what the calls cost the app's own thread
(\`process.threadCpuUsage\`); wall time also counts the moments that thread waited for a core, and the SDK's worker
reads the lines while the loop runs, on two cores that also run the broker.

### Records/s delivered into Kafka (acks = all), ${records.toLocaleString('en-US')} records

| producer | records/s | MiB/s | vs kcat -P | CPU s per 100k records | peak RSS MiB |
| --- | --- | --- | --- | --- | --- |
${deliveryRows.join('\n')}

Target ≥ 50 % of kcat -P. The SDK's rate is from the first log call until Kafka acknowledged the
last record; kcat's is its whole run reading the same records from a file. The app logs as a
server does: it yields to its event loop every ${yieldEvery.toLocaleString('en-US')} calls; the SDK's worker reads each
line from the shared ring as soon as the app's thread wrote it. "Lines already serialised" writes lines pino
made for the same records where pino writes them (same yields; ${distinctLines.toLocaleString('en-US')} distinct lines in turn, more
than a batch holds, so that the app does not hold them all): the SDK's own path (hand-over
to the worker, buffer, batching, compression, Kafka) without pino's serialisation on the app's
thread — the part of the work kcat does. "All calls in one burst" makes all ${records.toLocaleString('en-US')} calls in one
synchronous loop, as a batch job may: the worker still reads while the loop runs (pino's own
transport handed it nothing until the loop ended, and every line waited in the app's memory). CPU is the whole process
(every thread) over the same interval; this machine's two cores also run the broker, so a
producer's rate here is bounded by its CPU per record.
`;
    writeSection(benchmarksFile, 'sdk', markdown);
    console.log(markdown);
  } finally {
    await stopRig(rig);
  }
}

/** kcat -P over the same records, timed, with its peak RSS from GNU time. */
function timeKcat(
  kcat: string,
  brokers: string[],
  topic: string,
  file: string,
  compression: string,
  records: number,
): { recordsPerSecond: number; cpuSecondsPer100k: number; maxRssMiB: number } {
  const start = process.hrtime.bigint();
  const result = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss=%M cpu=%U+%S',
      kcat,
      '-P',
      '-b',
      brokers.join(','),
      '-t',
      topic,
      '-K',
      '\t',
      '-z',
      compression,
      '-X',
      'acks=all',
      '-l',
      file,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`kcat -P failed: ${result.stderr}`);
  const usage = /maxrss=(\d+) cpu=([\d.]+)\+([\d.]+)/.exec(result.stderr);
  const cpuSeconds = Number(usage?.[2] ?? NaN) + Number(usage?.[3] ?? NaN);
  return {
    recordsPerSecond: records / seconds,
    cpuSecondsPer100k: (cpuSeconds / records) * 100_000,
    maxRssMiB: Number(usage?.[1] ?? NaN) / 1024,
  };
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'child') {
  const [kind, ...args] = rest;
  if (kind === 'cost')
    await childCost(args[0] as CostVariant, Number(args[1]), (args[2] ?? '').split(','), args[3] ?? '');
  else
    await childDelivery(
      Number(args[0]),
      (args[1] ?? '').split(','),
      args[2] ?? '',
      args[3] as 'gzip' | 'lz4',
      args[4] as DeliveryPath,
    );
} else {
  await main();
}
