// `npm test`: lint, typecheck, then unit and integration tests against one shared real rig,
// which is always stopped again. Ends with a line "N passed, N failed" and exits non-zero on any
// failure. `npm run test:faults` (`--faults`): the fault suite and the fuzzers at full length,
// their figures written into docs/reliability.md.
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allRigParts, rigEnvironment, startRig, stopRig, type RigState } from '@graybridge/rig';
import { renderResults } from './faults/scale.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const reporter = fileURLToPath(new URL('./summary-reporter.js', import.meta.url));
const node20 = process.env.GRAYBRIDGE_NODE20;

interface StageResult {
  readonly name: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: readonly string[];
  readonly seconds: number;
}

const results: StageResult[] = [];
let rig: RigState | undefined;

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** lint and typecheck count as one check each. */
async function checkStage(name: string, command: string, args: readonly string[]): Promise<void> {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const code = await run(command, args);
  results.push({
    name,
    passed: code === 0 ? 1 : 0,
    failed: code === 0 ? 0 : 1,
    skipped: 0,
    failures: code === 0 ? [] : [`${name} exited with ${code}`],
    seconds: (Date.now() - started) / 1000,
  });
}

function files(patterns: readonly string[]): string[] {
  return patterns.flatMap((pattern) => globSync(pattern, { cwd: root })).sort();
}

async function testStage(
  name: string,
  nodeBinary: string,
  testFiles: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  console.log(
    `\n=== ${name} (${testFiles.length} files, ${nodeBinary === process.execPath ? process.version : nodeBinary}) ===`,
  );
  if (testFiles.length === 0) {
    results.push({ name, passed: 0, failed: 1, skipped: 0, failures: [`${name}: no test files found`], seconds: 0 });
    return;
  }
  const started = Date.now();
  const countsDir = mkdtempSync(join(tmpdir(), 'graybridge-counts-'));
  const countsFile = join(countsDir, 'counts.json');
  const code = await run(
    nodeBinary,
    [
      '--test',
      '--test-timeout=180000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${countsFile}`,
      ...testFiles,
    ],
    env,
  );
  let counts = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  try {
    counts = JSON.parse(readFileSync(countsFile, 'utf8')) as typeof counts;
  } catch {
    counts.failures.push(`${name}: the test runner wrote no counts`);
  }
  rmSync(countsDir, { recursive: true, force: true });
  // A crashed runner (non-zero exit without a failed test) is a failure too.
  const failed = counts.failed + (code !== 0 && counts.failed === 0 ? 1 : 0);
  if (code !== 0 && counts.failed === 0) counts.failures.push(`${name}: test runner exited with ${code}`);
  results.push({ name, ...counts, failed, seconds: (Date.now() - started) / 1000 });
}

const faultsOnly = process.argv.includes('--faults');
/** Generated records per fuzz run at full length: ≥ 1,000,000 in all (see the fuzz tests). */
const fullFuzzRuns = '1000000';

async function faults(): Promise<number> {
  console.log('\n=== rig up (kafka; the tests start their own broker, API server and Redis to hurt) ===');
  try {
    rig = await startRig(['kafka'], { ownerPid: process.pid });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.push({ name: 'rig up', passed: 0, failed: 1, skipped: 0, failures: [message], seconds: 0 });
    return report();
  }
  const resultsDir = mkdtempSync(join(tmpdir(), 'graybridge-faults-'));
  const resultsFile = join(resultsDir, 'faults.jsonl');
  writeFileSync(resultsFile, '');
  const env = {
    ...process.env,
    ...rigEnvironment(rig),
    GRAYBRIDGE_FAULTS: 'full',
    GRAYBRIDGE_FAULTS_REPORT: resultsFile,
    GRAYBRIDGE_FUZZ_RUNS: fullFuzzRuns,
  };
  await testStage('fuzzing (full)', process.execPath, files(['packages/*/dist/test/fuzz/**/*.test.js']), env);
  await testStage('faults (full)', process.execPath, files(['test/dist/faults/**/*.test.js']), env);
  const context =
    `date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · machine: ${cpus().length} × ` +
    `${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB · node: ${process.version}\n\n` +
    'Command: `npm run test:faults`.';
  renderResults(resultsFile, join(root, 'docs/reliability.md'), context);
  rmSync(resultsDir, { recursive: true, force: true });
  console.log('\nfigures written to docs/reliability.md');
  return report();
}

async function main(): Promise<number> {
  if (faultsOnly) return faults();
  const bin = (tool: string): string => join(root, 'node_modules', '.bin', tool);
  await checkStage('lint (eslint)', bin('eslint'), ['--max-warnings=0', '.']);
  await checkStage('format (prettier)', bin('prettier'), ['--check', '--log-level=warn', '.']);
  await checkStage('typecheck (tsc -b)', bin('tsc'), ['-b']);

  const unitFiles = files(['packages/*/dist/test/**/*.test.js']).filter((f) => !f.includes('/integration/'));
  const integrationFiles = files([
    'packages/*/dist/test/integration/**/*.test.js',
    'test/dist/{smoke,e2e,chart,faults}/**/*.test.js',
  ]);
  await testStage('unit', process.execPath, unitFiles, process.env);

  console.log(`\n=== rig up (${allRigParts.join(', ')}) ===`);
  const rigStarted = Date.now();
  try {
    rig = await startRig(allRigParts, { ownerPid: process.pid });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.push({ name: 'rig up', passed: 0, failed: 1, skipped: 0, failures: [message], seconds: 0 });
    return report();
  }
  console.log(`rig up in ${((Date.now() - rigStarted) / 1000).toFixed(1)} s at ${rig.dir}`);
  const env = { ...process.env, ...rigEnvironment(rig) };
  await testStage('integration', process.execPath, integrationFiles, env);

  // The SDK is imported by apps still on Node 20: its whole suite runs there too.
  const sdkFiles = files(['packages/log-sdk/dist/test/**/*.test.js']);
  if (node20 !== undefined && sdkFiles.length > 0) await testStage('log-sdk on Node 20', node20, sdkFiles, env);
  return report();
}

function report(): number {
  console.log('\n=== summary ===');
  for (const r of results) {
    const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : '';
    console.log(`${r.name.padEnd(24)} ${r.passed} passed, ${r.failed} failed${skipped}  (${r.seconds.toFixed(1)} s)`);
  }
  const failures = results.flatMap((r) => r.failures);
  for (const failure of failures) console.log(`  FAILED ${failure}`);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

async function shutdown(): Promise<void> {
  const current = rig;
  rig = undefined;
  if (current) await stopRig(current);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the rig`);
    void shutdown().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await shutdown();
}
