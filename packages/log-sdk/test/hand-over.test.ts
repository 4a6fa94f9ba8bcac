import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import type { DeliveryStats } from '../src/index.js';
import { dropReasons } from '../src/stats.js';

const handOverModule = new URL('../src/hand-over.js', import.meta.url).href;
const optionsModule = new URL('../src/options.js', import.meta.url).href;

/** Starts a WorkerHandOver on a closed port (no mirror) in a child; `scenario` then runs with `handOver`. */
function program(scenario: string, brokers = "['127.0.0.1:1']"): string {
  return `
    const { WorkerHandOver } = await import(${JSON.stringify(handOverModule)});
    const { resolveTransportConfig } = await import(${JSON.stringify(optionsModule)});
    const config = resolveTransportConfig(
      { kafka: { brokers: ['127.0.0.1:1'], topic: 't', connectionTimeoutMillis: 200 }, mirrorToStdoutWhenUnavailable: false, warnIntervalMillis: 1e9 },
      { defaultKey: null, identityJson: null },
    );
    const handOver = new WorkerHandOver({ ...config, brokers: ${brokers} });
    const worker = handOver.worker; // private in TypeScript: the test's way to see the worker die
    const line = (seq, payload = '') => JSON.stringify({ seq, payload }) + '\\n';
    const report = (stats) => process.stderr.write('stats ' + JSON.stringify(stats) + '\\n');
    ${scenario}
  `;
}

interface Run {
  readonly code: number | null;
  readonly stdoutSeqs: number[];
  readonly stats: DeliveryStats;
  readonly stderr: string;
}

async function run(source: string): Promise<Run> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const stdoutSeqs = stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
  const stats = JSON.parse(/stats (.*)/.exec(stderr)?.[1] ?? '{}') as DeliveryStats;
  return { code, stdoutSeqs, stats, stderr };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

const nothingDropped = Object.fromEntries(dropReasons.map((reason) => [reason, 0]));

describe('WorkerHandOver', () => {
  it('a worker that dies before reading: the ring and the lines waiting on the app side go to stdout, in order', async () => {
    // brokers: 42 makes the worker's KafkaDelivery throw as it starts. 6 MB of lines: the 4 MiB
    // ring fills and the rest waits on the app's side.
    const result = await run(
      program(
        `
        const payload = 'p'.repeat(2000);
        for (let seq = 0; seq < 3000; seq += 1) handOver.write(line(seq, payload));
        const appGoesOn = setInterval(() => undefined, 1000);
        worker.once('exit', () => {
          clearInterval(appGoesOn);
          handOver.write(line(3000));
          report(handOver.stats());
        });`,
        '42',
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdoutSeqs, range(0, 3001));
    assert.deepEqual(result.stats.droppedRecords, nothingDropped);
  });

  it('a worker that dies before reading, in an app that ends at once: the exit hook writes the lines to stdout', async () => {
    const result = await run(
      program(
        `
        for (let seq = 0; seq < 3; seq += 1) handOver.write(line(seq));
        process.on('exit', () => report(handOver.stats()));`,
        '42',
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdoutSeqs, range(0, 3));
    assert.deepEqual(result.stats.droppedRecords, nothingDropped);
  });

  it('a worker that dies holding records: they are counted as worker_failed, what it left goes to stdout', async () => {
    const result = await run(
      program(`
        for (let seq = 0; seq < 100; seq += 1) handOver.write(line(seq));
        while (handOver.stats().enqueuedRecords < 100) await new Promise((resolve) => setTimeout(resolve, 50));
        for (let seq = 100; seq < 150; seq += 1) handOver.write(line(seq));
        worker.once('exit', () => report(handOver.stats()));
        void worker.terminate(); // as a crash would end it: no last word
      `),
    );
    assert.equal(result.code, 0, result.stderr);
    const failed = result.stats.droppedRecords.worker_failed;
    assert.ok(failed >= 100, `the 100 records the worker held are counted (${failed})`);
    assert.deepEqual(result.stdoutSeqs, range(failed, 150), 'the rest reach stdout: every record accounted for once');
    assert.equal(result.stats.queuedRecords, 0);
  });

  it('a line that waits on the app side is refused as too large by the same limit the worker applies', async () => {
    // The ring is full, so the last two lines wait on the app's side: one of exactly
    // kafka.maxRecordBytes (the newline aside) is taken, one byte more is counted as too large.
    const result = await run(
      program(`
        const payload = 'p'.repeat(2000);
        for (let seq = 0; seq < 3000; seq += 1) handOver.write(line(seq, payload));
        const sized = (seq, bytes) => line(seq, 'x'.repeat(bytes - line(seq).length + 1));
        handOver.write(sized(3000, config.maxRecordBytes));
        handOver.write(sized(3001, config.maxRecordBytes + 1));
        const stats = await handOver.close();
        report(stats);
      `),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stats.droppedRecords.record_too_large, 1, 'the longer one only');
  });
});
