import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForwarderError, ForwarderErrorCodes } from '../../src/errors.js';
import { CircuitBreaker, withRetry } from '../../src/sink/resilient.js';
import type { Sink, SinkOutcome } from '../../src/sink/sink.js';

const unreachable = new ForwarderError(ForwarderErrorCodes.sinkUnreachable, 'down', { retriable: true });
const misconfigured = new ForwarderError(ForwarderErrorCodes.sinkTls, 'bad certificate');

/** A sink that answers from a script: pure logic under test, no wire involved. */
function scripted(outcomes: ('sent' | 'retryable' | 'misconfigured' | 'throws')[]): Sink & { calls: number } {
  const sink = {
    endpoint: 'scripted://',
    calls: 0,
    healthy: () => true,
    close: () => Promise.resolve(),
    send(): Promise<SinkOutcome> {
      const kind = outcomes[Math.min(sink.calls, outcomes.length - 1)] ?? 'sent';
      sink.calls += 1;
      if (kind === 'sent') return Promise.resolve({ kind });
      if (kind === 'throws') return Promise.reject(new Error('a bug in the transport'));
      return Promise.resolve({ kind: 'retryable', error: kind === 'retryable' ? unreachable : misconfigured });
    },
  };
  return sink;
}

describe('withRetry', () => {
  it('retries retryable outcomes with growing jittered waits, up to the attempts', async () => {
    const waits: number[] = [];
    const sink = scripted(['retryable', 'retryable', 'sent']);
    const outcome = await withRetry(sink, { attempts: 5, initialMillis: 100, maxMillis: 1000 }, (ms) => {
      waits.push(ms);
      return Promise.resolve();
    }).send([{ json: '{}' }]);
    assert.equal(outcome.kind, 'sent');
    assert.equal(sink.calls, 3);
    assert.ok(waits[0] !== undefined && waits[0] >= 50 && waits[0] <= 100);
    assert.ok(waits[1] !== undefined && waits[1] >= 100 && waits[1] <= 200);
  });

  it('gives up after the attempts, and does not retry an error that retrying cannot fix (TLS)', async () => {
    const down = scripted(['retryable']);
    assert.equal(
      (await withRetry(down, { attempts: 3, initialMillis: 1, maxMillis: 1 }, () => Promise.resolve()).send([])).kind,
      'retryable',
    );
    assert.equal(down.calls, 3);
    const bad = scripted(['misconfigured']);
    assert.equal(
      (await withRetry(bad, { attempts: 3, initialMillis: 1, maxMillis: 1 }, () => Promise.resolve()).send([])).kind,
      'retryable',
    );
    assert.equal(bad.calls, 1);
  });
});

describe('withRetry around an open CircuitBreaker', () => {
  it('returns at once while the circuit is open: no backoff waits on a batch the breaker refuses', async () => {
    const waits: number[] = [];
    const transport = scripted(['retryable']);
    const breaker = new CircuitBreaker(transport, { failureThreshold: 1, cooldownMillis: 60_000 });
    const sink = withRetry(breaker, { attempts: 5, initialMillis: 100, maxMillis: 1000 }, (ms) => {
      waits.push(ms);
      return Promise.resolve();
    });
    const first = await sink.send([{ json: '{}' }]); // fails, opens the circuit
    assert.equal(first.kind === 'retryable' && first.error.code, ForwarderErrorCodes.sinkCircuitOpen);
    assert.equal(transport.calls, 1);
    assert.equal(waits.length, 1, 'one wait after the real failure, none once the circuit said open');
    await sink.send([{ json: '{}' }]);
    assert.equal(waits.length, 1);
    assert.equal(transport.calls, 1, 'no traffic while open');
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, answers at once while open, lets one trial through after the cooldown', async () => {
    let now = 0;
    const sink = scripted(['retryable', 'retryable', 'retryable', 'sent']);
    const breaker = new CircuitBreaker(sink, { failureThreshold: 2, cooldownMillis: 1000 }, () => now);
    await breaker.send([]);
    assert.equal(breaker.currentState(), 'closed');
    await breaker.send([]);
    assert.equal(breaker.currentState(), 'open');
    assert.equal(breaker.healthy(), false);
    const fast = await breaker.send([]);
    assert.equal(fast.kind === 'retryable' && fast.error.code, 'GB_FORWARDER_SINK_CIRCUIT_OPEN');
    assert.equal(sink.calls, 2, 'no traffic while open');
    now = 1000;
    assert.equal(breaker.currentState(), 'half-open');
    await breaker.send([]); // the trial fails: open again
    assert.equal(breaker.currentState(), 'open');
    now = 2000;
    assert.equal((await breaker.send([])).kind, 'sent');
    assert.equal(breaker.currentState(), 'closed');
    assert.equal(breaker.healthy(), true);
  });

  it('counts a transport that throws as failing: the trial ends, the breaker opens again and later closes', async () => {
    let now = 0;
    const sink = scripted(['throws', 'throws', 'sent']);
    const breaker = new CircuitBreaker(sink, { failureThreshold: 1, cooldownMillis: 1000 }, () => now);
    const failed = await breaker.send([]);
    assert.equal(failed.kind === 'retryable' && failed.error.code, 'GB_FORWARDER_SINK_UNREACHABLE');
    assert.match(failed.kind === 'retryable' ? failed.error.message : '', /^scripted:\/\/: a bug in the transport$/);
    assert.equal(breaker.currentState(), 'open');
    now = 1000;
    await breaker.send([]); // the trial throws: open again, not stuck half-open
    assert.equal(breaker.currentState(), 'open');
    now = 2000;
    assert.equal((await breaker.send([])).kind, 'sent');
    assert.equal(breaker.currentState(), 'closed');
  });
});
