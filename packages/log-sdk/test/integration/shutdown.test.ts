import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort, useRig } from '@graybridge/rig';
import { createTopic, range, readTopic, sequence } from './kafka-helpers.js';

const rig = useRig(['kafka', 'kcat']);
const kcat = (): string => rig().kcat?.binary ?? 'kcat';
const brokers = (): string[] => [...(rig().kafka?.brokers ?? [])];
const app = fileURLToPath(new URL('../fixtures/app.js', import.meta.url));
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface AppRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly millis: number;
}

/** Runs a Node program in a child process with the same Node as this test (20 or 24). */
function runNode(args: string[], options: { cwd?: string; killAfterMillis?: number } = {}): Promise<AppRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMillis ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, millis: Date.now() - started });
    });
  });
}

describe('log-sdk in an app that ends', () => {
  it('SIGTERM with 10,000 records queued: all are delivered, then the process ends by SIGTERM', async () => {
    const topic = await createTopic(brokers());
    const run = await runNode([app, JSON.stringify({ brokers: brokers(), topic, records: 10_000, ending: 'sigterm' })]);
    assert.equal(run.signal, 'SIGTERM', `ended by the signal, as without the SDK (stderr: ${run.stderr})`);
    assert.ok(run.millis < 15_000, `within the deadline plus start-up: ${run.millis} ms`);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), topic)), range(0, 10_000));
  });

  it('process.exit() right after logging: pino’s exit flush path delivers every record', async () => {
    const topic = await createTopic(brokers());
    const run = await runNode([app, JSON.stringify({ brokers: brokers(), topic, records: 5000, ending: 'exit' })]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), topic)), range(0, 5000));
    assert.equal(run.stderr, '', 'a healthy delivery writes nothing into the app’s stderr (no kafkajs timer warnings)');
  });

  it('main code that simply ends: the process exits by itself and the exit flush delivers every record', async () => {
    const topic = await createTopic(brokers());
    // Start-up, delivery and the 5 s shutdown deadline fit many times over: only a hang reaches it.
    const run = await runNode([app, JSON.stringify({ brokers: brokers(), topic, records: 1000, ending: 'return' })], {
      killAfterMillis: 30_000,
    });
    assert.equal(run.signal, null, `not killed after 30 s: the SDK must not keep the app alive (${run.stderr})`);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), topic)), range(0, 1000));
  });

  it('a record logged from an app exit listener after the SDK’s exit flush goes to stdout', async () => {
    const topic = await createTopic(brokers());
    const run = await runNode([
      app,
      JSON.stringify({ brokers: brokers(), topic, records: 100, ending: 'exit', exitListenerRecord: true }),
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), topic)), range(0, 100));
    const onStdout = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { seq: number; msg: string });
    assert.deepEqual(
      onStdout.map(({ seq, msg }) => ({ seq, msg })),
      [{ seq: 100, msg: 'logged in an exit listener' }],
    );
  });

  it('SIGTERM with two loggers: the process ends only after both delivered', async () => {
    const [quick, slow] = [await createTopic(brokers()), await createTopic(brokers())];
    const index = new URL('../../src/index.js', import.meta.url).href;
    // The quick logger's close ends long before the slow one's: it must not end the process.
    const program = `
      const { createLogger } = await import(${JSON.stringify(index)});
      const logger = (topic) => createLogger({ kafka: { brokers: ${JSON.stringify(brokers())}, topic } });
      const [quick, slow] = [logger('${quick}'), logger('${slow}')];
      quick.info({ seq: 0 }, 'quick');
      const payload = 'p'.repeat(200);
      for (let seq = 0; seq < 20000; seq += 1) slow.info({ seq, payload }, 'slow');
      process.kill(process.pid, 'SIGTERM');
      setInterval(() => undefined, 1000);`;
    const run = await runNode(['--input-type=module', '-e', program]);
    assert.equal(run.signal, 'SIGTERM', run.stderr);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), quick)), [0]);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), slow)), range(0, 20000));
  });

  it('Kafka unreachable: records are mirrored to stdout, a warning goes to stderr, drops at the deadline are counted', async () => {
    const deadPort = await freePort();
    const run = await runNode([
      app,
      JSON.stringify({
        brokers: [`127.0.0.1:${deadPort}`],
        topic: 'nowhere',
        records: 5,
        laterRecords: 5,
        ending: 'close',
        mirror: true,
        shutdownTimeoutMillis: 1000,
      }),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const mirrored = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { seq: number }).seq);
    assert.deepEqual(mirrored, range(5, 10), 'records logged after the outage was noticed reach stdout');
    assert.match(
      run.stderr,
      new RegExp(`graybridge log-sdk: Kafka 127\\.0\\.0\\.1:${deadPort} unreachable \\(.*ECONNREFUSED`),
    );
    const stats = JSON.parse(/stats (.*)/.exec(run.stderr)?.[1] ?? '{}') as {
      enqueuedRecords: number;
      droppedRecords: { shutdown_timeout: number };
      mirroredRecords: number;
    };
    assert.equal(stats.enqueuedRecords, 10);
    assert.equal(stats.droppedRecords.shutdown_timeout, 10, 'nothing reached Kafka: all ten counted at shutdown');
    assert.equal(stats.mirroredRecords, 5);
  });

  it('a topic that does not exist: the warning names it and the option, records are counted at the deadline', async () => {
    const topic = `graybridge-missing-${Date.now()}`;
    const run = await runNode([
      app,
      JSON.stringify({ brokers: brokers(), topic, records: 5, ending: 'close', shutdownTimeoutMillis: 3000 }),
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `graybridge log-sdk: Kafka .*: topic "${topic}" \\(kafka\\.topic\\) not found — create it, the SDK does not`,
      ),
    );
    const stats = JSON.parse(/stats (.*)/.exec(run.stderr)?.[1] ?? '{}') as {
      droppedRecords: { shutdown_timeout: number };
    };
    assert.equal(stats.droppedRecords.shutdown_timeout, 5);
  });

  it('works from CommonJS require() and from ESM import', async () => {
    for (const [kind, source] of [
      ['require', `const { createLogger } = require('@graybridge/log-sdk');`],
      ['import', `const { createLogger } = await import('@graybridge/log-sdk');`],
    ] as const) {
      const topic = await createTopic(brokers());
      const program = `(async () => { ${source}
        const logger = createLogger({ kafka: { brokers: ${JSON.stringify(brokers())}, topic: '${topic}' }, service: '${kind}' });
        for (let seq = 0; seq < 10; seq++) logger.info({ seq }, 'hello from ${kind}');
        const stats = await logger.close();
        if (stats.sentRecords !== 10) throw new Error(JSON.stringify(stats));
      })()`;
      const run = await runNode(['--input-type=commonjs', '-e', program]);
      assert.equal(run.code, 0, `${kind}: ${run.stderr}`);
      const records = await readTopic(kcat(), brokers(), topic);
      assert.deepEqual(sequence(records), range(0, 10));
      assert.equal(records[0]?.value.service, kind);
    }
  });
});
