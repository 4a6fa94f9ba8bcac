import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RestartableKafka, until, useRig } from '@graybridge/rig';
import { createLogger, type DeliveryStats, type Logger } from '../../src/index.js';
import { createTopic, range, readTopic, sequence } from './kafka-helpers.js';

const rig = useRig(['kcat']);
const kcat = (): string => rig().kcat?.binary ?? 'kcat';

function waitForStats(
  logger: Logger,
  done: (stats: DeliveryStats) => boolean,
  timeoutMillis = 60_000,
): Promise<DeliveryStats> {
  return until(
    () => {
      const stats = logger.deliveryStats();
      return done(stats) && stats;
    },
    timeoutMillis,
    () => `stats never satisfied the condition: ${JSON.stringify(logger.deliveryStats())}`,
    100,
  );
}

/** The main thread's collector (the worker's collects on its own); --expose-gc is not needed. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const quiet = { mirrorToStdoutWhenUnavailable: false, warnIntervalMillis: 60_000, handleSignals: false } as const;
const brokersToClean: RestartableKafka[] = [];
after(async () => Promise.all(brokersToClean.map((b) => b.destroy())));

describe('log-sdk when Kafka is away', () => {
  // drop-newest refuses 500 records; drop-oldest accepts all 1,500 and evicts 500 of them.
  for (const [dropPolicy, accepted, survivors] of [
    ['drop-newest', 1000, range(0, 1000)],
    ['drop-oldest', 1500, range(500, 1500)],
  ] as const) {
    it(`Kafka down at start: ${dropPolicy} keeps 1,000 of 1,500 records, counts 500 drops exactly, delivers the rest once Kafka is up`, async () => {
      const broker = await RestartableKafka.reserve({ ownerPid: process.pid });
      brokersToClean.push(broker);
      const logger = createLogger({
        kafka: { brokers: broker.brokers, topic: 'outage', connectionTimeoutMillis: 500 },
        buffer: { maxRecords: 1000, dropPolicy },
        ...quiet,
      });
      for (let seq = 0; seq < 1500; seq += 1) logger.info({ seq }, 'while Kafka is down');
      const down = await waitForStats(logger, (s) => s.enqueuedRecords === accepted);
      assert.equal(down.droppedRecords.queue_full, 500);
      assert.equal(down.queuedRecords, 1000);
      assert.equal(down.sentRecords, 0);

      await broker.start();
      // The logger was pointed at topic "outage": create it now that the broker exists.
      await createTopic(broker.brokers, 1, 'outage');
      const up = await waitForStats(logger, (s) => s.sentRecords === 1000);
      assert.equal(up.kafkaAvailable, true);
      assert.equal(up.droppedRecords.queue_full, 500);
      await logger.close();
      assert.deepEqual(sequence(await readTopic(kcat(), broker.brokers, 'outage')), survivors);
      await broker.destroy();
    });
  }

  it('broker killed mid-stream and restarted: no record lost, duplicates only from unacknowledged batches', async () => {
    const broker = await RestartableKafka.reserve({ ownerPid: process.pid });
    brokersToClean.push(broker);
    await broker.start();
    await createTopic(broker.brokers, 1, 'restart');
    const logger = createLogger({
      kafka: { brokers: broker.brokers, topic: 'restart', connectionTimeoutMillis: 500, requestTimeoutMillis: 3000 },
      ...quiet,
    });
    let seq = 0;
    const producing = setInterval(() => {
      for (let i = 0; i < 20; i += 1) logger.info({ seq: seq++ }, 'steady traffic');
    }, 10);
    await sleep(1500);
    await broker.kill();
    await sleep(2000);
    await broker.start();
    await sleep(1000);
    clearInterval(producing);
    const total = seq;
    const stats = await waitForStats(logger, (s) => s.sentRecords >= total && s.queuedRecords === 0, 90_000);
    await logger.close();
    assert.equal(stats.droppedRecords.queue_full, 0);
    assert.ok(stats.sendErrors > 0, 'the outage was noticed');
    const delivered = sequence(await readTopic(kcat(), broker.brokers, 'restart'));
    assert.deepEqual(
      [...new Set(delivered)].sort((a, b) => a - b),
      range(0, total),
      'every record arrived',
    );
    const duplicates = delivered.length - new Set(delivered).size;
    assert.ok(duplicates <= 500, `duplicates (${duplicates}) stay within one batch`);
    await broker.destroy();
  });

  it('while Kafka is unreachable the event loop stays responsive and memory stays bounded', async () => {
    const broker = await RestartableKafka.reserve({ ownerPid: process.pid }); // never started
    const logger = createLogger({
      kafka: { brokers: broker.brokers, topic: 'never', connectionTimeoutMillis: 200 },
      buffer: { maxBytes: 4 * 1024 * 1024 },
      ...quiet,
    });
    const payload = 'x'.repeat(250);
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    const logBurst = async (from: number, count: number): Promise<void> => {
      for (let seq = from; seq < from + count; seq += 1) {
        logger.info({ seq, payload }, 'Kafka is gone');
        if (seq % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const rssSamples: number[] = [];
    const sampleRss = async (): Promise<void> => {
      await sleep(300);
      collectGarbage();
      rssSamples.push(process.memoryUsage().rss);
    };
    await logBurst(0, 100_000);
    await sampleRss();
    histogram.enable();
    for (let from = 100_000; from < 400_000; from += 100_000) {
      await logBurst(from, 100_000);
      await sampleRss();
    }
    histogram.disable();
    const stats = await waitForStats(logger, (s) => s.enqueuedRecords + s.droppedRecords.queue_full === 400_000);
    await logger.close();

    // After warm-up (first 200k records) memory must plateau: the buffer is bounded. The lower of
    // the last two samples counts: a leak raises both, while one sample can catch the worker
    // thread's heap (which this thread's gc() does not collect) before its next collection.
    const growthMiB = (Math.min(rssSamples[2] ?? 0, rssSamples[3] ?? 0) - (rssSamples[1] ?? 0)) / 1024 / 1024;
    const p99Millis = histogram.percentile(99) / 1e6;
    const maxMillis = histogram.max / 1e6;
    console.log(
      `  outage: rss MiB ${rssSamples.map((r) => (r / 1024 / 1024).toFixed(0)).join(' → ')}, growth ${growthMiB.toFixed(1)} MiB, loop delay p99 ${p99Millis.toFixed(1)} ms max ${maxMillis.toFixed(1)} ms, dropped ${stats.droppedRecords.queue_full}`,
    );
    assert.ok(stats.queuedBytes <= 4 * 1024 * 1024, 'the buffer respects maxBytes');
    assert.ok(stats.droppedRecords.queue_full > 350_000, 'beyond the buffer, records are dropped and counted');
    assert.ok(growthMiB < 48, `memory plateaus: grew ${growthMiB.toFixed(1)} MiB over the last 200k records`);
    assert.ok(p99Millis < 100, `event-loop delay p99 ${p99Millis.toFixed(1)} ms`);
  });
});
