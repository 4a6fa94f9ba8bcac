import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { dropReasons } from './stats.js';

/**
 * Registers the logger's delivery counters in a prom-client registry (prom-client is an optional
 * peer dependency: the app brings its own). Metric names start with `graybridge_sdk_`.
 */
export async function registerDeliveryMetrics(
  logger: Pick<Logger, 'deliveryStats'>,
  registry: Registry,
): Promise<void> {
  const { Counter, Gauge } = await import('prom-client');
  const stats = () => logger.deliveryStats();

  /** A counter that mirrors a monotonic total kept by the transport worker. */
  const mirroredCounter = (name: string, help: string, read: () => number): void => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const total = read();
        if (total > reported) this.inc(total - reported);
        reported = Math.max(reported, total);
      },
    });
  };
  mirroredCounter(
    'graybridge_sdk_records_enqueued_total',
    'Records accepted into the delivery buffer.',
    () => stats().enqueuedRecords,
  );
  mirroredCounter('graybridge_sdk_records_sent_total', 'Records acknowledged by Kafka.', () => stats().sentRecords);
  mirroredCounter(
    'graybridge_sdk_send_errors_total',
    'Failed send attempts (retried unless dropped).',
    () => stats().sendErrors,
  );
  mirroredCounter(
    'graybridge_sdk_records_mirrored_total',
    'Records also written to stdout while Kafka was unreachable.',
    () => stats().mirroredRecords,
  );

  const dropped: Record<string, number> = {};
  new Counter({
    name: 'graybridge_sdk_records_dropped_total',
    help: 'Records not delivered, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const current = stats().droppedRecords;
      for (const reason of dropReasons) {
        const delta = current[reason] - (dropped[reason] ?? 0);
        if (delta > 0) this.inc({ reason }, delta);
        dropped[reason] = Math.max(dropped[reason] ?? 0, current[reason]);
      }
    },
  });
  new Gauge({
    name: 'graybridge_sdk_queue_records',
    help: 'Records waiting or in flight.',
    registers: [registry],
    collect() {
      this.set(stats().queuedRecords);
    },
  });
  new Gauge({
    name: 'graybridge_sdk_queue_bytes',
    help: 'Bytes waiting or in flight.',
    registers: [registry],
    collect() {
      this.set(stats().queuedBytes);
    },
  });
  new Gauge({
    name: 'graybridge_sdk_kafka_available',
    help: '1 while the last send succeeded, 0 after a failure until the next success.',
    registers: [registry],
    collect() {
      this.set(stats().kafkaAvailable ? 1 : 0);
    },
  });
}
