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
} as const;
type Name = keyof typeof benchmarks;

const [name = 'all', ...args] = process.argv.slice(2);
const names: Name[] = name === 'all' ? (Object.keys(benchmarks) as Name[]) : [name as Name];
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
