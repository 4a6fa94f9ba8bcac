import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeadLetter } from '../src/deadletter/dead-letter.js';
import { defaultGelfLimits } from '../src/encode/gelf.js';
import { ForwarderError, ForwarderErrorCodes } from '../src/errors.js';
import { createPipeline } from '../src/pipeline.js';
import type { KafkaRecord } from '../src/record.js';
import type { GelfPayload, Sink, SinkOutcome } from '../src/sink/sink.js';

const record = (offset: number, value: string | null): KafkaRecord => ({
  topic: 'logs',
  partition: 0,
  offset: String(offset),
  timestampMillis: 1795403200000,
  key: Buffer.from('shop/web-1'),
  value: value === null ? null : Buffer.from(value),
  headers: { 'graybridge-schema': '1' },
});

const line = (msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 30, time: 1795403200000, k8s: { pod: 'web-1', namespace: 'shop' }, msg, ...extra });

/** A sink answering from a function: the pipeline's bookkeeping under test, no wire involved. */
function sinkAnswering(answer: (batch: readonly GelfPayload[]) => SinkOutcome): Sink & { batches: GelfPayload[][] } {
  const batches: GelfPayload[][] = [];
  return {
    endpoint: 'test://',
    batches,
    healthy: () => true,
    close: () => Promise.resolve(),
    send: (batch) => {
      batches.push([...batch]);
      return Promise.resolve(answer(batch));
    },
  };
}

function deadLetterStore(failures = 0): {
  letters: DeadLetter[];
  add(letters: readonly DeadLetter[]): Promise<void>;
  failNext(count: number): void;
} {
  let failing = failures;
  const letters: DeadLetter[] = [];
  return {
    letters,
    failNext: (count) => (failing = count),
    add(batch) {
      if (batch.length > 0 && failing > 0) {
        failing -= 1;
        return Promise.reject(
          new ForwarderError(ForwarderErrorCodes.deadLetterUnavailable, 'redis down', { retriable: true }),
        );
      }
      letters.push(...batch);
      return Promise.resolve();
    },
  };
}

describe('createPipeline', () => {
  it('dead-letters a message too large even truncated, and what the endpoint refuses; sends the rest', async () => {
    const refused = new ForwarderError(ForwarderErrorCodes.sinkRejected, 'test://: answered 400');
    const sink = sinkAnswering((batch) => ({
      kind: 'sent',
      rejected: batch.flatMap((p, index) => (p.json.includes('poison') ? [{ index, error: refused }] : [])),
    }));
    const store = deadLetterStore();
    const pipeline = createPipeline({
      sink,
      lookup: () => undefined,
      deadLetters: store,
      limits: { ...defaultGelfLimits, maxMessageBytes: 2000, maxFields: 2000 },
    });
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i]));
    const verdict = await pipeline.handle([
      record(0, line('fine')),
      record(1, line('huge', many)),
      record(2, line('poison')),
      record(3, line('fine too')),
    ]);
    assert.equal(verdict, 'done');
    assert.deepEqual(
      store.letters.map((l) => [l.eventId, l.reason, l.namespace, l.pod]),
      [
        ['logs-0-1', 'too_large', 'shop', 'web-1'],
        ['logs-0-2', 'sink_rejected', 'shop', 'web-1'],
      ],
    );
    assert.equal(store.letters[1]?.error, 'test://: answered 400');
    assert.equal(
      Buffer.from(store.letters[0]?.value ?? '', 'base64').toString(),
      line('huge', many),
      'original bytes kept',
    );
    const stats = pipeline.stats();
    assert.equal(stats.sent, 2);
    assert.deepEqual(stats.deadLettered, { too_large: 1, sink_rejected: 1, decode_error: 0 });
  });

  it('holds the batch while dead letters cannot be stored: nothing sent twice before, nothing counted', async () => {
    const sink = sinkAnswering(() => ({ kind: 'sent' }));
    const store = deadLetterStore(1);
    const pipeline = createPipeline({
      sink,
      lookup: () => undefined,
      deadLetters: store,
      deadLetterDecodeErrors: true,
    });
    const batch = [record(0, line('fine')), record(1, '{"cut')];
    assert.equal(await pipeline.handle(batch), 'retry');
    assert.equal(sink.batches.length, 0, 'not sent while the dead letter is not stored');
    assert.equal(pipeline.stats().received, 0);
    assert.equal(pipeline.stats().deadLetterRetries, 1);
    assert.equal(await pipeline.handle(batch), 'done');
    assert.deepEqual(
      store.letters.map((l) => [l.reason, l.error]),
      [['decode_error', 'truncated_json: Unterminated string in JSON at position 5 (line 1 column 6)']],
    );
    assert.equal(pipeline.stats().sent, 1);
  });

  it('a held batch goes on where it stopped: not prepared, dead-lettered or sent again', async () => {
    const down = new ForwarderError(ForwarderErrorCodes.sinkUnreachable, 'down', { retriable: true });
    const refused = new ForwarderError(ForwarderErrorCodes.sinkRejected, 'test://: answered 400');
    let sinkUp = false;
    const sink = sinkAnswering((batch) =>
      sinkUp
        ? {
            kind: 'sent',
            rejected: batch.flatMap((p, index) => (p.json.includes('poison') ? [{ index, error: refused }] : [])),
          }
        : { kind: 'retryable', error: down },
    );
    let lookups = 0;
    const store = deadLetterStore();
    const pipeline = createPipeline({
      sink,
      lookup: () => {
        lookups += 1;
        return undefined;
      },
      deadLetters: store,
      deadLetterDecodeErrors: true,
    });
    const batch = [record(0, line('fine')), record(1, '{"cut'), record(2, line('poison'))];
    assert.equal(await pipeline.handle(batch), 'retry');
    assert.equal(await pipeline.handle(batch), 'retry');
    assert.equal(lookups, 1, 'decoded and enriched once, not per attempt (one lookup for the pod of both)');
    assert.deepEqual(
      store.letters.map((l) => l.reason),
      ['decode_error'],
      'the early dead letter is stored once',
    );
    sinkUp = true;
    store.failNext(1); // the refused message's dead letter cannot be stored at first
    assert.equal(await pipeline.handle(batch), 'retry');
    assert.equal(await pipeline.handle(batch), 'done');
    assert.equal(sink.batches.filter((b) => b.length > 0).length, 3, 'two refused attempts, then sent exactly once');
    assert.deepEqual(
      store.letters.map((l) => l.reason),
      ['decode_error', 'sink_rejected'],
    );
    assert.equal(pipeline.stats().sent, 1);
    assert.equal(pipeline.stats().received, 3);
  });

  it('a retryable sink outcome is a retry, with nothing counted', async () => {
    const down = new ForwarderError(ForwarderErrorCodes.sinkUnreachable, 'down', { retriable: true });
    const pipeline = createPipeline({
      sink: sinkAnswering(() => ({ kind: 'retryable', error: down })),
      lookup: () => undefined,
      deadLetters: deadLetterStore(),
    });
    assert.equal(await pipeline.handle([record(0, line('x'))]), 'retry');
    assert.deepEqual(pipeline.stats(), {
      received: 0,
      sent: 0,
      unresolved: 0,
      truncated: 0,
      decodeErrors: 0,
      sinkRetries: 1,
      deadLetterRetries: 0,
      undelivered: { pod_excluded: 0, container_excluded: 0 },
      deadLettered: { too_large: 0, sink_rejected: 0, decode_error: 0 },
    });
  });
});
