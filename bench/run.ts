// `npm run bench -- <name> [options]`: runs one benchmark (or all) and rewrites its section of
// docs/benchmarks.md. Not part of npm test: numbers from a shared 2-core machine are context, and
// every target is judged from ratios measured side by side in one run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benchmarks = {
  sdk: 'sdk.js',
  enricher: 'enricher.js',
  'gelf-tcp': 'gelf-tcp.js',
  forwarder: 'forwarder.js',
  latency: 'latency.js',
  scaling: 'scaling.js',
  soak: 'soak.js',
} as const;
type Name = keyof typeof benchmarks;

const [first = 'all', ...rest] = process.argv.slice(2);
// `npm run bench -- --soak 3600` is the soak benchmark for that many seconds.
const [name, args] = first === '--soak' ? ['soak', ['--seconds', ...rest]] : [first, rest];
// `all` leaves the soak out: it takes an hour.
const names: Name[] =
  name === 'all' ? (Object.keys(benchmarks) as Name[]).filter((bench) => bench !== 'soak') : [name as Name];
for (const bench of names) {
  const file = benchmarks[bench] as string | undefined;
  if (file === undefined) {
    console.error(`unknown benchmark '${bench}'; known: ${Object.keys(benchmarks).join(', ')}, all`);
    process.exit(2);
  }
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
