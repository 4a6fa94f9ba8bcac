import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerDeliveryMetrics } from '../src/metrics.js';
import { emptyStats, type DeliveryStats } from '../src/stats.js';

describe('registerDeliveryMetrics', () => {
  it('exposes the delivery counters in a prom-client registry, monotonic across scrapes', async () => {
    let stats: DeliveryStats = emptyStats();
    const registry = new Registry();
    await registerDeliveryMetrics({ deliveryStats: () => stats }, registry);

    stats = {
      ...stats,
      enqueuedRecords: 120,
      sentRecords: 100,
      queuedRecords: 20,
      queuedBytes: 4096,
      sendErrors: 2,
      mirroredRecords: 15,
      unmirroredRecords: 5,
      kafkaAvailable: false,
      droppedRecords: { ...stats.droppedRecords, queue_full: 7 },
      workerHeapUsedBytes: 12_000_000,
    };
    const first = await registry.metrics();
    assert.match(first, /^graybridge_sdk_records_enqueued_total 120$/m);
    assert.match(first, /^graybridge_sdk_records_sent_total 100$/m);
    assert.match(first, /^graybridge_sdk_send_errors_total 2$/m);
    assert.match(first, /^graybridge_sdk_records_mirrored_total 15$/m);
    assert.match(first, /^graybridge_sdk_records_unmirrored_total 5$/m);
    assert.match(first, /^graybridge_sdk_records_dropped_total\{reason="queue_full"\} 7$/m);
    assert.match(first, /^graybridge_sdk_queue_records 20$/m);
    assert.match(first, /^graybridge_sdk_queue_bytes 4096$/m);
    assert.match(first, /^graybridge_sdk_kafka_available 0$/m);
    assert.match(first, /^graybridge_sdk_worker_heap_used_bytes 12000000$/m);

    stats = {
      ...stats,
      sentRecords: 120,
      queuedRecords: 0,
      kafkaAvailable: true,
      droppedRecords: { ...stats.droppedRecords, queue_full: 7, shutdown_timeout: 1, worker_failed: 3 },
    };
    const second = await registry.metrics();
    assert.match(second, /^graybridge_sdk_records_sent_total 120$/m);
    assert.match(second, /^graybridge_sdk_records_dropped_total\{reason="queue_full"\} 7$/m, 'not counted twice');
    assert.match(second, /^graybridge_sdk_records_dropped_total\{reason="shutdown_timeout"\} 1$/m);
    assert.match(second, /^graybridge_sdk_records_dropped_total\{reason="worker_failed"\} 3$/m);
    assert.match(second, /^graybridge_sdk_kafka_available 1$/m);
  });
});
