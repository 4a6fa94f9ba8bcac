import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryStats } from '../src/index.js';

const deliveryModule = new URL('../src/delivery.js', import.meta.url).href;
const optionsModule = new URL('../src/options.js', import.meta.url).href;

/**
 * A KafkaDelivery pointed at a closed port mirrors 100 records to a stdout whose reader went away,
 * then prints its counters on stderr and exits 0 — unless the failed mirror crashed it.
 */
const mirrorToClosedStdout = `
  const { KafkaDelivery } = await import(${JSON.stringify(deliveryModule)});
  const { resolveTransportConfig } = await import(${JSON.stringify(optionsModule)});
  const config = resolveTransportConfig(
    { kafka: { brokers: ['127.0.0.1:1'], topic: 't', connectionTimeoutMillis: 200 }, warnIntervalMillis: 1e9, shutdownTimeoutMillis: 500 },
    { defaultKey: null, identityJson: null },
  );
  const delivery = new KafkaDelivery(config);
  delivery.acceptLines(Buffer.from('{"seq":-1}\\n'));
  while (delivery.snapshot().kafkaAvailable) await new Promise((resolve) => setTimeout(resolve, 20));
  for (let seq = 0; seq < 100; seq += 1) delivery.acceptLines(Buffer.from(JSON.stringify({ seq }) + '\\n'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  process.stderr.write('stats ' + JSON.stringify(await delivery.close()) + '\\n');
  process.exit(0);
`;

describe('KafkaDelivery', () => {
  it('a closed stdout while mirroring an outage neither crashes the worker nor loses the count', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', mirrorToClosedStdout], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader of the app's stdout goes away: writes fail with EPIPE
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const stats = JSON.parse(/stats (.*)/.exec(stderr)?.[1] ?? '{}') as DeliveryStats;
    assert.equal(stats.enqueuedRecords, 101);
    assert.equal(stats.mirroredRecords, 0, 'nothing reached stdout');
    assert.equal(stats.unmirroredRecords, 100, 'every record the mirror could not write is counted');
    assert.equal(stats.droppedRecords.shutdown_timeout, 101, 'still queued for Kafka, counted at the deadline');
  });

  it('flush waits for the records in flight even when drop-oldest settles newer ones first', async () => {
    const { KafkaDelivery } = await import('../src/delivery.js');
    const { resolveTransportConfig } = await import('../src/options.js');
    const config = resolveTransportConfig(
      {
        kafka: { brokers: ['127.0.0.1:1'], topic: 't', connectionTimeoutMillis: 200, maxRecordBytes: 64 },
        batch: { maxRecords: 2, lingerMillis: 0 },
        buffer: { maxRecords: 6, maxBytes: 1024, dropPolicy: 'drop-oldest' },
        mirrorToStdoutWhenUnavailable: false,
        warnIntervalMillis: 1e9,
        shutdownTimeoutMillis: 200,
      },
      { defaultKey: undefined, identityJson: null },
    );
    const delivery = new KafkaDelivery(config);
    const lines = (from: number, to: number): Buffer =>
      Buffer.from(Array.from({ length: to - from }, (_, i) => `{"seq":${from + i}}\n`).join(''));
    try {
      delivery.acceptLines(lines(0, 6));
      await sleep(50); // the loop takes [0, 1] (sending, to a closed port) and [2, 3] (next)
      const flushed = delivery.flush(10_000).then(() => 'flushed');
      delivery.acceptLines(lines(6, 14)); // drop-oldest settles waiting records 4…11: 8, as many as the flush waits for
      assert.equal(await Promise.race([flushed, sleep(300, 'still waiting')]), 'still waiting');
      assert.equal(delivery.snapshot().droppedRecords.queue_full, 8);
    } finally {
      await delivery.close();
    }
  });
});
