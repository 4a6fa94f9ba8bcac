import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

type Reading = number | Readonly<Record<string, number>>;

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

  /**
   * A counter mirroring a monotonic total kept by the transport worker, read at scrape time; a
   * record-valued reading becomes one series per key under `label`.
   */
  const counter = (name: string, help: string, read: () => Reading, label = 'reason'): void => {
    const reported = new Map<string, number>();
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        const reading = read();
        const totals: [string, number][] = typeof reading === 'number' ? [['', reading]] : Object.entries(reading);
        for (const [key, total] of totals) {
          const delta = total - (reported.get(key) ?? 0);
          if (delta > 0) this.inc(key === '' ? {} : { [label]: key }, delta);
          reported.set(key, Math.max(reported.get(key) ?? 0, total));
        }
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };

  counter(
    'graybridge_sdk_records_enqueued_total',
    'Records accepted into the delivery buffer.',
    () => stats().enqueuedRecords,
  );
  counter('graybridge_sdk_records_sent_total', 'Records acknowledged by Kafka.', () => stats().sentRecords);
  counter(
    'graybridge_sdk_send_errors_total',
    'Failed send attempts (retried unless dropped).',
    () => stats().sendErrors,
  );
  counter(
    'graybridge_sdk_records_mirrored_total',
    'Records also written to stdout while Kafka was unreachable.',
    () => stats().mirroredRecords,
  );
  counter(
    'graybridge_sdk_records_unmirrored_total',
    'Records that were to be mirrored to stdout but could not be (stdout closed or too slow).',
    () => stats().unmirroredRecords,
  );
  counter('graybridge_sdk_records_dropped_total', 'Records not delivered, by reason.', () => stats().droppedRecords);
  gauge('graybridge_sdk_queue_records', 'Records waiting or in flight.', () => stats().queuedRecords);
  gauge('graybridge_sdk_queue_bytes', 'Bytes waiting or in flight.', () => stats().queuedBytes);
  gauge(
    'graybridge_sdk_worker_heap_used_bytes',
    "V8 heap in use in the SDK's worker thread.",
    () => stats().workerHeapUsedBytes,
  );
  gauge(
    'graybridge_sdk_kafka_available',
    '1 while the last send succeeded, 0 after a failure until the next success.',
    () => (stats().kafkaAvailable ? 1 : 0),
  );
}
