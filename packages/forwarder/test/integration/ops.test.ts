import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerForwarderMetrics } from '../../src/ops/metrics.js';
import { startOpsServer, type Check } from '../../src/ops/server.js';
import type { PipelineStats } from '../../src/pipeline.js';

describe('admin port: /metrics, /healthz, /readyz over HTTP', () => {
  it('serves the pipeline counters, liveness and readiness with the failing checks named', async () => {
    const registry = new Registry();
    let pipeline: PipelineStats = {
      received: 0,
      sent: 0,
      unresolved: 0,
      truncated: 0,
      decodeErrors: 0,
      sinkRetries: 0,
      undelivered: { pod_excluded: 0, container_excluded: 0 },
      deadLettered: { too_large: 0, sink_rejected: 0, decode_error: 0 },
      deadLetterRetries: 0,
    };
    let sinkUp = false;
    registerForwarderMetrics(registry, {
      pipeline: () => pipeline,
      source: () => ({ batches: 3, records: 120, commits: 3, commitFailures: 1, holds: 2, handlerErrors: 0 }),
      sinkHealthy: () => sinkUp,
    });
    const checks: Record<string, Check> = {
      'consumer group': { ok: true },
      sink: { ok: false, detail: 'gelf-tcp://graylog:12201: connect ECONNREFUSED' },
    };
    const server = await startOpsServer({ port: 0, host: '127.0.0.1', registry, readiness: () => checks });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      pipeline = { ...pipeline, received: 120, sent: 117, undelivered: { ...pipeline.undelivered, pod_excluded: 3 } };
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^graybridge_records_received_total 120$/m);
      assert.match(metrics, /^graybridge_records_sent_total 117$/m);
      assert.match(metrics, /^graybridge_records_undelivered_total\{reason="pod_excluded"\} 3$/m);
      assert.match(metrics, /^graybridge_batches_held_total 2$/m);
      assert.match(metrics, /^graybridge_sink_up 0$/m);

      const live = await fetch(`${base}/healthz`);
      assert.equal(live.status, 200);

      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 503);
      assert.deepEqual(await notReady.json(), { ready: false, checks });

      checks.sink = { ok: true };
      sinkUp = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.match(await (await fetch(`${base}/metrics`)).text(), /^graybridge_sink_up 1$/m);
      assert.equal((await fetch(`${base}/nothing`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
