// The app's side of a Kafka outage: pods logging 1,000 records/s through the SDK while their
// broker is dead for a while. The app must not notice beyond counted drops: event loop free,
// memory bounded, every record either delivered or counted as dropped (exactly), and what is
// queued at SIGTERM delivered on the way out.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestartableKafka } from '@graybridge/rig';
import { startGelfReceiver } from '@graybridge/forwarder/sinks';
import { createTopic } from '../fixtures/kafka.js';
import { startForwarderProcess, until } from '../fixtures/processes.js';
import { Load, LoadChecker } from './load.js';
import { recordFault, scale } from './scale.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('log-sdk under load while Kafka is away', () => {
  it(
    `Kafka dead ${scale.outageMillis / 1000} s under 2 × 1,000 records/s: drops counted exactly, loop free, memory bounded, SIGTERM flushes`,
    { timeout: scale.testTimeoutMillis },
    async (t) => {
      const broker = await RestartableKafka.reserve({ ownerPid: process.pid });
      cleanups.push(() => broker.destroy());
      await broker.start();
      const run = `sdk-${randomUUID().slice(0, 8)}`;
      const topic = await createTopic(broker.brokers, 'faults-sdk', 2);
      const checker = new LoadChecker(run);
      const endpoint = await startGelfReceiver({ host: '127.0.0.1', tcp: { port: 0 }, onMessage: checker.accept });
      cleanups.push(() => endpoint.close());
      const forwarder = await startForwarderProcess({
        GRAYBRIDGE_KAFKA_BROKERS: broker.brokers.join(','),
        GRAYBRIDGE_KAFKA_TOPICS: topic,
        GRAYBRIDGE_KAFKA_GROUP_ID: `faults-${run}`,
        GRAYBRIDGE_GELF_HOST: '127.0.0.1',
        GRAYBRIDGE_GELF_PORT: String(endpoint.ports.tcp ?? 0),
        GRAYBRIDGE_KUBERNETES_ENABLED: 'false',
        GRAYBRIDGE_OPS_HOST: '127.0.0.1',
      });
      // A buffer of 3,000 records: an outage of a few seconds at 1,000/s overflows it.
      const bufferRecords = 3000;
      const load = Load.start({
        brokers: broker.brokers,
        topic,
        run,
        pods: [
          { name: 'app-0', namespace: 'shop' },
          { name: 'app-1', namespace: 'shop' },
        ],
        ratePerPod: 1000,
        recordsPerPod: 0,
        env: { LOAD_BUFFER_RECORDS: String(bufferRecords) },
      });
      cleanups.push(() => load.kill());
      try {
        await until(() => checker.received() > 1000, 30_000, 'delivering before the outage');
        await broker.kill();
        await sleep(scale.outageMillis);
        const duringOutage = load.reports();
        await broker.start();
        const back = Date.now();
        await until(() => load.reports().every((r) => r.stats.kafkaAvailable), 60_000, 'the SDK delivers again');
        const sdkRecovery = (Date.now() - back) / 1000;
        await sleep(1000);
        const reports = await load.terminate();
        const expected = load.expected();
        const dropped = new Map(
          reports.map((r) => [r.source, Object.values(r.stats.droppedRecords).reduce((a, b) => a + b, 0)]),
        );
        const total = load.total();
        const totalDropped = [...dropped.values()].reduce((a, b) => a + b, 0);
        await until(() => checker.unique() >= total - totalDropped, 90_000, `all ${total - totalDropped} kept records`);
        const verdict = checker.verdict(expected, dropped);
        const worstLoopMillis = Math.max(...reports.map((r) => r.eventLoopDelayMaxMillis));
        const worstP99Millis = Math.max(...reports.map((r) => r.eventLoopDelayP99Millis));
        const peakRssMiB = Math.max(...reports.map((r) => r.peakRssMiB));
        recordFault(t, {
          fault: `SDK: Kafka dead ${scale.outageMillis / 1000} s under 2 × 1,000 records/s (buffer ${bufferRecords})`,
          verdict,
          // The forwarder's broker died too: its last batch, delivered but not committed, comes again.
          window: { records: 2000, what: 'the forwarder’s uncommitted batch (kafka.maxBatchRecords)' },
          recoverySeconds: sdkRecovery,
          notes:
            `${totalDropped} dropped and counted (queue_full), event loop p99 ${worstP99Millis.toFixed(1)} ms ` +
            `max ${worstLoopMillis.toFixed(1)} ms, peak RSS ${peakRssMiB.toFixed(0)} MiB; all queued at SIGTERM delivered`,
        });
        assert.ok(
          duringOutage.every((r) => !r.stats.kafkaAvailable),
          'the SDK noticed the outage',
        );
        assert.ok(totalDropped > 0, 'the outage overflowed the buffer, as planned');
        assert.equal(verdict.lost, 0, `lost beyond the counted drops: ${verdict.lostExamples.join(', ')}`);
        assert.ok(verdict.redelivered <= 2000, `${verdict.redelivered} redelivered`);
        assert.ok(worstP99Millis < 100, `event loop p99 ${worstP99Millis} ms`);
        assert.ok(peakRssMiB < 300, `peak RSS ${peakRssMiB} MiB`);
      } finally {
        await forwarder.stop('SIGTERM');
      }
    },
  );
});
