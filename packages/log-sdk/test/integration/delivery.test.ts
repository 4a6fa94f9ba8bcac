import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import { makeServerCertificate, useRig } from '@graybridge/rig';
import { createLogger, withLogContext, type Compression, type CompressionEncoder } from '../../src/index.js';
import { zstdAvailable } from '../../src/options.js';
import { createTopic, range, readTopic, sequence } from './kafka-helpers.js';

// Identity comes from the Downward API env, read once per logger.
Object.assign(process.env, {
  POD_NAME: 'checkout-7d9f-abcde',
  POD_NAMESPACE: 'shop',
  NODE_NAME: 'node-a',
  POD_UID: '0f3c-uid',
  POD_IP: '10.1.2.3',
  CONTAINER_NAME: 'app',
});

const rig = useRig(['kafka', 'kafka-secure', 'kcat']);
const kcat = (): string => rig().kcat?.binary ?? 'kcat';
const brokers = (): readonly string[] => rig().kafka?.brokers ?? [];

describe('log-sdk delivery to a real broker', () => {
  it('delivers records intact, in order, keyed by namespace/pod, with identity, child bindings and redaction', async () => {
    const topic = await createTopic(brokers(), 3);
    const logger = createLogger({
      kafka: { brokers: brokers(), topic },
      service: 'checkout',
      version: '1.4.2',
      env: 'test',
      handleSignals: false,
      pino: { level: 'debug', redact: ['card.number'] },
    });
    const child = logger.child({ component: 'payments' });
    for (let seq = 0; seq < 2000; seq += 1) {
      if (seq % 2 === 0) logger.info({ seq, card: { number: '4111111111111111', brand: 'visa' } }, 'paid %d', seq);
      else child.debug({ seq, req: { headers: { authorization: 'Bearer s3cr3t', accept: '*/*' } } }, 'step');
    }
    logger.trace({ seq: -1 }, 'below the level: never sent');
    const stats = await logger.flush();
    assert.equal(stats.sentRecords, 2000);
    assert.equal(stats.queuedRecords, 0);
    // The worker's own heap, measured there: a live isolate's few MiB, not this thread's (which
    // holds ~100 MiB more while the counters are read).
    const ballast = Array.from({ length: 1_000_000 }, (_, i) => ({ i, text: `ballast ${i}` }));
    const fresh = await logger.flush();
    assert.ok(process.memoryUsage().heapUsed > 64 * 1024 * 1024 && ballast.length > 0);
    assert.ok(
      fresh.workerHeapUsedBytes > 1024 * 1024 && fresh.workerHeapUsedBytes < 64 * 1024 * 1024,
      `worker heap ${fresh.workerHeapUsedBytes}`,
    );
    await logger.close();

    const records = await readTopic(kcat(), brokers(), topic);
    assert.deepEqual(sequence(records), range(0, 2000), 'one key → one partition → produced order');
    assert.equal(new Set(records.map((r) => r.partition)).size, 1);
    for (const record of records) {
      assert.equal(record.key, 'shop/checkout-7d9f-abcde');
      assert.deepEqual(record.headers, { 'graybridge-schema': '1' });
      assert.deepEqual(record.value.k8s, {
        pod: 'checkout-7d9f-abcde',
        namespace: 'shop',
        node: 'node-a',
        pod_uid: '0f3c-uid',
        pod_ip: '10.1.2.3',
        container: 'app',
      });
      assert.equal(record.value.service, 'checkout');
      assert.equal(record.value.version, '1.4.2');
      assert.equal(record.value.env, 'test');
      assert.equal(typeof record.value.time, 'number');
    }
    const [paid, step] = records;
    assert.ok(paid && step);
    assert.deepEqual(paid.value.card, { number: '[Redacted]', brand: 'visa' });
    assert.equal(paid.value.msg, 'paid 0');
    assert.equal(paid.value.level, 30);
    assert.equal(step.value.component, 'payments');
    assert.deepEqual(
      step.value.req,
      { headers: { authorization: '[Redacted]', accept: '*/*' } },
      'censored by default',
    );
    assert.equal(step.value.level, 20);
  });

  // lz4 twice: through lz4-napi, and through the TypeScript encoder that apps get where lz4-napi's
  // binary does not load (a library path that is not there makes it fail, in the worker too).
  const nativeLz4 = process.platform === 'linux' && process.arch === 'x64' ? 'lz4-napi' : undefined;
  const cases: [string, Compression, CompressionEncoder | undefined, Record<string, string>][] = [
    ['none', 'none', 'none', {}],
    ['gzip', 'gzip', 'gzip', {}],
    ['snappy', 'snappy', 'snappy', {}],
    ['lz4', 'lz4', nativeLz4, {}],
    ['zstd', 'zstd', 'zstd', {}],
    ['lz4 (TypeScript encoder)', 'lz4', 'lz4-typescript', { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/lz4.node' }],
  ];
  for (const [label, compression, encoder, env] of cases) {
    it(`compresses batches with ${label}; the broker and librdkafka read them`, async (t) => {
      if (compression === 'zstd' && !zstdAvailable()) {
        t.skip(`zstd needs Node ≥ 22.15 (this is ${process.version})`);
        return;
      }
      const topic = await createTopic(brokers());
      const saved = { ...process.env };
      Object.assign(process.env, env); // the worker copies process.env when it starts
      const logger = createLogger({ kafka: { brokers: brokers(), topic, compression }, handleSignals: false });
      for (const name of Object.keys(env)) {
        if (saved[name] === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = saved[name];
      }
      // Enough for full 1 MiB batches of many 64 KiB blocks, with text that repeats and text that does not.
      for (let seq = 0; seq < 6000; seq += 1) {
        logger.info({ seq, text: 'lorem ipsum '.repeat(20), noise: Math.random().toString(36) }, 'compressed');
      }
      const stats = await logger.close();
      assert.equal(stats.sentRecords, 6000);
      assert.equal(stats.sendErrors, 0);
      if (encoder !== undefined) assert.equal(stats.compressionEncoder, encoder, 'the encoder the worker used');
      const records = await readTopic(kcat(), brokers(), topic);
      assert.deepEqual(sequence(records), range(0, 6000));
      assert.equal(records[5999]?.value.text, 'lorem ipsum '.repeat(20));
    });
  }

  it('a synchronous loop outpacing the worker: the worker reads while it runs, what waits on the app side stays bounded, every record is sent or counted', async () => {
    const topic = await createTopic(brokers());
    const maxRecords = 2000;
    const logger = createLogger({
      kafka: { brokers: brokers(), topic },
      buffer: { maxRecords, dropPolicy: 'drop-newest' },
      handleSignals: false,
    });
    await logger.flush(); // the worker is up
    // Lines already serialised, written where pino writes them: far faster than any worker takes them.
    const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
    assert.ok(stream);
    const total = 400_000;
    const padding = 'x'.repeat(200);
    const line = (seq: number): string => `{"level":30,"seq":${seq},"padding":"${padding}"}\n`;
    for (let seq = 0; seq < total; seq += 1) stream.write(line(seq));
    // No event-loop turn since the flush: these counts are the app side's alone.
    const during = logger.deliveryStats();
    assert.ok(
      during.queuedRecords <= maxRecords,
      `the app side holds at most buffer.maxRecords (${during.queuedRecords})`,
    );
    const intoTheRing = total - during.queuedRecords - during.droppedRecords.queue_full;
    const ringHolds = (4 * 1024 * 1024) / Buffer.byteLength(line(0));
    assert.ok(
      intoTheRing > ringHolds,
      `the worker read while the loop ran: ${intoTheRing} lines went into a ring that holds ${Math.round(ringHolds)}`,
    );
    const stats = await logger.close();
    const dropped = stats.droppedRecords.queue_full;
    assert.equal(stats.sentRecords + dropped, total, 'every record sent or counted as dropped');
    assert.equal(stats.enqueuedRecords, stats.sentRecords);
    const delivered = sequence(await readTopic(kcat(), brokers(), topic));
    assert.equal(delivered.length, stats.sentRecords);
    assert.ok(
      delivered.every((seq, index) => index === 0 || seq > (delivered[index - 1] as number)),
      'in order',
    );
  });

  it('delivers as an idempotent producer (producer id, epoch and sequence numbers in every batch)', async () => {
    const topic = await createTopic(brokers());
    const logger = createLogger({
      kafka: { brokers: brokers(), topic, idempotent: true, acks: -1 },
      batch: { maxRecords: 100 },
      handleSignals: false,
    });
    for (let seq = 0; seq < 3000; seq += 1) logger.info({ seq }, 'exactly once per sequence');
    const stats = await logger.close();
    assert.equal(stats.sentRecords, 3000);
    assert.ok(stats.sentBatches >= 30, 'many batches, so sequence numbers past the first are checked by the broker');
    assert.equal(stats.sendErrors, 0);
    assert.deepEqual(sequence(await readTopic(kcat(), brokers(), topic)), range(0, 3000));
  });

  it('binds withLogContext values to every record logged inside it', async () => {
    const topic = await createTopic(brokers());
    const logger = createLogger({ kafka: { brokers: brokers(), topic }, handleSignals: false });
    await withLogContext({ request_id: 'req-42' }, async () => {
      logger.info({ seq: 0 }, 'inside');
      await new Promise((resolve) => setImmediate(resolve));
      logger.child({ step: 2 }).info({ seq: 1 }, 'still inside');
    });
    logger.info({ seq: 2 }, 'outside');
    await logger.close();
    const records = await readTopic(kcat(), brokers(), topic);
    assert.deepEqual(
      records.map((r) => r.value.request_id),
      ['req-42', 'req-42', undefined],
    );
  });

  it('works unchanged with pino-http', async () => {
    const topic = await createTopic(brokers());
    const logger = createLogger({ kafka: { brokers: brokers(), topic }, handleSignals: false });
    const server = createServer(pinoHttp({ logger: logger as unknown as pino.Logger }, undefined) as never);
    server.on('request', (_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const response = await fetch(`http://127.0.0.1:${address.port}/orders?id=7`);
    assert.equal(await response.text(), 'ok');
    server.close();
    await logger.close();
    const [record] = await readTopic(kcat(), brokers(), topic);
    assert.ok(record);
    assert.equal(record.value.msg, 'request completed');
    assert.equal((record.value.req as { url: string }).url, '/orders?id=7');
    assert.equal((record.value.res as { statusCode: number }).statusCode, 200);
    assert.equal((record.value.k8s as { pod: string }).pod, 'checkout-7d9f-abcde');
  });

  it('is usable as a transport target from an existing pino setup, stamping identity itself', async () => {
    const topic = await createTopic(brokers());
    const target = fileURLToPath(new URL('../../src/transport.js', import.meta.url));
    const transport = pino.transport({
      targets: [{ target, level: 'info', options: { kafka: { brokers: brokers(), topic }, service: 'legacy' } }],
    });
    const logger = pino(transport);
    for (let seq = 0; seq < 100; seq += 1) logger.info({ seq }, 'from plain pino');
    const closed = once(transport, 'close');
    transport.end();
    // pino unrefs its transport worker: something must hold the event loop open while it closes.
    const keepAlive = setInterval(() => undefined, 1000);
    await closed;
    clearInterval(keepAlive);
    const records = await readTopic(kcat(), brokers(), topic);
    assert.deepEqual(sequence(records), range(0, 100));
    const [first] = records;
    assert.ok(first);
    assert.equal(first.key, 'shop/checkout-7d9f-abcde');
    assert.equal(first.value.service, 'legacy');
    assert.equal((first.value.k8s as { node: string }).node, 'node-a');
    assert.equal(first.value.msg, 'from plain pino');
  });

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`delivers over TLS with SASL ${mechanism}`, async () => {
      const secure = rig().kafkaSecure?.secure;
      assert.ok(secure);
      // The secured broker is a cluster of its own; its plaintext listener serves admin and kcat.
      const secureTopic = await createTopic(rig().kafkaSecure?.brokers ?? []);
      const logger = createLogger({
        kafka: {
          brokers: secure.brokers,
          topic: secureTopic,
          tls: { caFile: secure.caFile },
          sasl: { mechanism, username: secure.username, password: secure.password },
        },
        handleSignals: false,
      });
      for (let seq = 0; seq < 50; seq += 1) logger.info({ seq }, 'secured');
      const stats = await logger.close();
      assert.equal(stats.sentRecords, 50);
      assert.equal(stats.sendErrors, 0);
      const records = await readTopic(kcat(), rig().kafkaSecure?.brokers ?? [], secureTopic);
      assert.deepEqual(sequence(records), range(0, 50));
    });
  }

  it('refuses a broker whose certificate another CA signed: never delivers, says why, counts what it could not send', async () => {
    const secure = rig().kafkaSecure?.secure;
    assert.ok(secure);
    const otherCa = makeServerCertificate(mkdtempSync(join(tmpdir(), 'sdk-other-ca-')), 'other');
    const secureTopic = await createTopic(rig().kafkaSecure?.brokers ?? []);
    const logger = createLogger({
      kafka: {
        brokers: secure.brokers,
        topic: secureTopic,
        tls: { caFile: otherCa.caCert },
        sasl: { mechanism: 'scram-sha-512', username: secure.username, password: secure.password },
      },
      mirrorToStdoutWhenUnavailable: false,
      shutdownTimeoutMillis: 1000,
      handleSignals: false,
    });
    for (let seq = 0; seq < 20; seq += 1) logger.info({ seq }, 'to an impostor?');
    const deadline = Date.now() + 30_000;
    while (logger.deliveryStats().sendErrors === 0 && Date.now() < deadline) await sleep(100);
    const failing = logger.deliveryStats();
    assert.equal(failing.kafkaAvailable, false);
    assert.match(failing.lastError ?? '', /certificate/i, 'the TLS verification failure is named');
    const stats = await logger.close();
    assert.equal(stats.sentRecords, 0);
    assert.equal(stats.droppedRecords.shutdown_timeout, 20, 'every record is accounted for as a counted drop');
    assert.deepEqual(await readTopic(kcat(), rig().kafkaSecure?.brokers ?? [], secureTopic), []);
  });
});
