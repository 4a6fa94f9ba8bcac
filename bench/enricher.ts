// Enricher benchmark: 10,000 pods in a real kube-apiserver; time to ready(), RSS after sync,
// lookup cost. Targets: ≤ 5 s, ≤ 150 MiB, median lookup ≤ 1 µs.
//   npm run bench -- enricher [--pods 10000] [--runs 5]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEnricher } from '@graybridge/enricher';
import { startRig, stopRig } from '@graybridge/rig';
import { loadPods, namespaces, podIdentity } from './cluster.js';
import { format, machineLine, summarize, writeSection } from './report.js';

const self = fileURLToPath(import.meta.url);
const benchmarksFile = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
/** In a fresh process: sync, then measure. Prints one JSON line. */
async function child(kubeconfig: string, pods: number): Promise<void> {
  const start = process.hrtime.bigint();
  const enricher = createEnricher({ kubeconfig, resolveOwners: false });
  await enricher.ready();
  const readyMillis = Number(process.hrtime.bigint() - start) / 1e6;
  const cached = enricher.stats().cachedPods;
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  const rssMiB = rss / 2 ** 20;
  const heapMiB = heapUsed / 2 ** 20;
  const queries = Array.from({ length: 10_000 }, (_, k) => podIdentity((k * 7919) % pods));
  let hits = 0;
  for (const q of queries) if (enricher.lookup(q)) hits += 1; // warm-up
  const rounds = 20;
  const lookupStart = process.hrtime.bigint();
  for (let r = 0; r < rounds; r += 1) for (const q of queries) if (enricher.lookup(q)) hits += 1;
  const lookupNanos = Number(process.hrtime.bigint() - lookupStart) / (rounds * queries.length);
  await enricher.stop();
  process.stdout.write(JSON.stringify({ readyMillis, rssMiB, heapMiB, lookupNanos, cached, hits }) + '\n');
}

function runChild(kubeconfig: string, pods: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', self, 'child', kubeconfig, String(pods)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pods: { type: 'string', default: '10000' }, runs: { type: 'string', default: '5' } },
  });
  const pods = Number(values.pods);
  const runs = Number(values.runs);
  const rig = await startRig(['kube'], { ownerPid: process.pid });
  try {
    const kubeconfig = rig.kube?.kubeconfig ?? '';
    const loadStart = Date.now();
    await loadPods(kubeconfig, pods);
    console.error(`loaded ${pods} pods in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);
    const results: Record<string, number>[] = [];
    for (let run = 1; run <= runs; run += 1) {
      results.push(await runChild(kubeconfig, pods));
      console.error(`run ${run}/${runs}: ${JSON.stringify(results.at(-1))}`);
    }
    const ready = summarize(results.map((r) => (r.readyMillis ?? NaN) / 1000));
    const rss = summarize(results.map((r) => r.rssMiB ?? NaN));
    const lookup = summarize(results.map((r) => r.lookupNanos ?? NaN));
    const heap = summarize(results.map((r) => r.heapMiB ?? NaN));
    const verdict = (ok: boolean): string => (ok ? 'met' : 'missed');
    const markdown = `## enricher

${machineLine({ kubernetes: rig.kube?.version ?? '?' })}

Command: \`npm run bench -- enricher --pods ${pods} --runs ${runs}\`. ${pods.toLocaleString('en-US')} pods in ${namespaces}
namespaces (each with 5 labels, 3 annotations, 2 containers, an owner), in a real kube-apiserver on
loopback; each run is a fresh process doing a cluster-scope list and watch. Cells: median (min–max).

| measure | result | target | |
| --- | --- | --- | --- |
| time to \`ready()\` (s) | ${format(ready, 2)} | ≤ 5 | ${verdict(ready.median <= 5)} |
| RSS after sync (MiB) | ${format(rss, 0)} | ≤ 150 | ${verdict(rss.median <= 150)} |
| of which V8 heap in use (MiB) | ${format(heap, 0)} | | |
| \`lookup\` by namespace/pod (ns) | ${format(lookup, 0)} | ≤ 1,000 | ${verdict(lookup.median <= 1000)} |
`;
    writeSection(benchmarksFile, 'enricher', markdown);
    console.log(markdown);
  } finally {
    await stopRig(rig);
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'child') await child(rest[0] ?? '', Number(rest[1]));
else await main();
